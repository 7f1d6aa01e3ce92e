"""deploy/kustomize, rendered by the real kubectl: every overlay renders, validates against the
published Kubernetes schemas of the releases it is for, and is applied with real kubectl
(server-side, dry run and for real) to the embedded cluster."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from reconciler.sim.apiserver.server import ApiServer
from reconciler.sim.install_kinds import serve_install_kinds
from reconciler.sim.served import new_store
from tests.deploy.rendered import KUBECTL, KUSTOMIZE, OVERLAYS, one, render

# The oldest Kubernetes each overlay must install on (its KubeEdge release's), and the newest
# schemas kubernetes-validate ships.
KUBERNETES = {"kubeedge-1.16": "1.27", "kubeedge-1.21": "1.30", "ha": "1.30"}
NEWEST = kubernetes_validate.latest_version()
#: Prometheus Operator kinds: no published Kubernetes schema (tests/deploy/test_monitoring.py)
OPERATOR_GROUP = "monitoring.coreos.com"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    problems = []
    for obj in render(overlay):
        if obj["apiVersion"].startswith(OPERATOR_GROUP + "/"):
            continue
        for version in (KUBERNETES[overlay], NEWEST):
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{obj['kind']}/{obj['metadata']['name']} ({version}): {error.message} "
                                f"at {'.'.join(map(str, error.path))}")
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespaced_objects_land_in_the_edgefleet_namespace(overlay: str) -> None:
    cluster_scoped = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                      "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    wrong = [(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace"))
             for o in render(overlay)
             if (o["kind"] in cluster_scoped) == ("namespace" in o["metadata"])
             or o["metadata"].get("namespace", "edgefleet") != "edgefleet"]
    assert wrong == []
    assert all(o["metadata"]["labels"]["app.kubernetes.io/part-of"] == "edgefleet" for o in render(overlay))


def _pod(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, kind, name)["spec"]["template"]["spec"]
    return spec


def test_the_agent_runs_on_edge_nodes_with_its_node_name_and_a_read_only_cri_socket() -> None:
    pod = _pod(render("kubeedge-1.21"), "DaemonSet", "edgefleet-agent")
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/edge": ""}
    assert {"key": "node-role.kubernetes.io/edge", "operator": "Exists", "effect": "NoSchedule"} \
        in pod["tolerations"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    socket = next(v for v in pod["volumes"] if v.get("hostPath"))
    assert socket["hostPath"]["type"] == "Socket"
    mount = next(m for m in container["volumeMounts"] if m["name"] == socket["name"])
    assert mount["readOnly"] is True
    assert f"--cri-socket={mount['mountPath']}" in container["args"]
    assert pod["hostNetwork"] is True and "--server=http://127.0.0.1:10550" in container["args"]
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_controller_is_restricted_and_elects_a_leader(overlay: str) -> None:
    objects = render(overlay)
    deployment = one(objects, "Deployment", "edgefleet-controller")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] >= 2
    container = pod["containers"][0]
    assert container["args"][0] == "run"
    assert "--lease-namespace=$(POD_NAMESPACE)" in container["args"]
    assert {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} \
        in container["env"]
    # restricted Pod Security: non-root, no escalation, all capabilities dropped, seccomp
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False,
                                            "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # secrets and config by name only: nothing secret is rendered
    assert not [o for o in objects if o["kind"] == "Secret"]
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]
            if "secretKeyRef" in e.get("valueFrom", {})}
    assert refs == {"edgefleet-git-credentials"}
    config = one(objects, "ConfigMap", "edgefleet-controller")
    keys = {e["valueFrom"]["configMapKeyRef"]["key"] for e in container["env"]
            if "configMapKeyRef" in e.get("valueFrom", {})}
    assert keys == set(config["data"])


def test_ha_spreads_three_replicas_and_keeps_one_through_a_drain() -> None:
    objects = render("ha")
    deployment = one(objects, "Deployment", "edgefleet-controller")
    assert deployment["spec"]["replicas"] == 3
    anti = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert list(anti) == ["requiredDuringSchedulingIgnoredDuringExecution"]
    assert one(objects, "PodDisruptionBudget", "edgefleet-controller")["spec"]["minAvailable"] == 1
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--webhook-secret-file=/etc/edgefleet/webhook/secret" in args


def test_only_the_overlays_for_kubernetes_1_30_carry_the_admission_policy() -> None:
    assert not [o for o in render("kubeedge-1.16") if o["kind"].startswith("ValidatingAdmission")]
    policy = one(render("kubeedge-1.21"), "ValidatingAdmissionPolicy", "edgefleet-inventory-own-node")
    assert one(render("kubeedge-1.21"), "ValidatingAdmissionPolicyBinding",
               "edgefleet-inventory-own-node")["spec"]["policyName"] == policy["metadata"]["name"]


# ----- real kubectl against the embedded cluster -----

def operator_crd(kind: str, plural: str) -> dict[str, Any]:
    """A stand-in for a Prometheus Operator CRD: its names, any content (the real schema is the
    operator's; test_monitoring.py checks what the objects say)."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{OPERATOR_GROUP}"},
            "spec": {"group": OPERATOR_GROUP, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                               "listKind": f"{kind}List"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                         "openAPIV3Schema": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.fixture
def install_cluster(tmp_path: Path) -> Iterator[tuple[ApiServer, Path]]:
    store = new_store("1.21")
    serve_install_kinds(store)
    for kind, plural in (("ServiceMonitor", "servicemonitors"), ("PrometheusRule", "prometheusrules")):
        store.create("apiextensions.k8s.io", "customresourcedefinitions", operator_crd(kind, plural))
    with ApiServer(store) as server:
        yield server, server.write_kubeconfig(tmp_path / "kubeconfig")


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_server_side_dry_run_apply_succeeds_and_stores_nothing(
        install_cluster: tuple[ApiServer, Path], overlay: str) -> None:
    server, kubeconfig = install_cluster
    # as on any cluster, a dry run creates no Namespace, so what lives in it is refused until
    # the Namespace exists (docs/install.md: create it first to dry-run a fresh install)
    overlay_dir = str(KUSTOMIZE / "overlays" / overlay)
    fresh = kubectl(kubeconfig, "apply", "--server-side", "--dry-run=server", "-k", overlay_dir)
    assert fresh.returncode == 1 and 'namespaces "edgefleet" not found' in fresh.stderr
    created = kubectl(kubeconfig, "apply", "--server-side", "-f", str(KUSTOMIZE / "base" / "namespace.yaml"))
    assert created.returncode == 0, created.stderr
    version = server.store.resource_version
    result = kubectl(kubeconfig, "apply", "--server-side", "--dry-run=server", "-k", overlay_dir)
    assert result.returncode == 0, result.stderr
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    expected = {f"{o['kind'].lower()}.{_group(o)}/{o['metadata']['name']}".replace("./", "/")
                for o in render(overlay)}
    assert names == expected
    assert server.store.resource_version == version, "a dry run stored something"
    assert server.store.list("apps", "deployments")[0] == []


def _group(obj: dict[str, Any]) -> str:
    api_version: str = obj["apiVersion"]
    return api_version.rpartition("/")[0]


def test_a_real_apply_installs_everything_and_a_second_one_changes_nothing(
        install_cluster: tuple[ApiServer, Path]) -> None:
    server, kubeconfig = install_cluster
    overlay = str(KUSTOMIZE / "overlays" / "kubeedge-1.21")
    first = kubectl(kubeconfig, "apply", "--server-side", "--field-manager=edgefleet-install", "-k", overlay)
    assert first.returncode == 0, first.stderr
    listed = kubectl(kubeconfig, "get", "deployments,daemonsets,serviceaccounts,configmaps,services",
                     "-n", "edgefleet", "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) == {
        "deployment.apps/edgefleet-controller", "daemonset.apps/edgefleet-agent",
        "serviceaccount/edgefleet-controller", "serviceaccount/edgefleet-agent",
        "serviceaccount/edgefleet-snapshot", "configmap/edgefleet-controller",
        "service/edgefleet-controller"}
    served = kubectl(kubeconfig, "get", "edgenodeinventories,fleetrollouts", "-o", "name")
    assert served.returncode == 0, served.stderr  # the CRDs are installed and served
    version = server.store.resource_version
    again = kubectl(kubeconfig, "apply", "--server-side", "--field-manager=edgefleet-install", "-k", overlay)
    assert again.returncode == 0, again.stderr
    assert server.store.resource_version == version, "re-applying the same install wrote something"


def test_the_documented_uninstall_keeps_the_crds_and_what_they_hold(
        install_cluster: tuple[ApiServer, Path]) -> None:
    server, kubeconfig = install_cluster
    overlay = str(KUSTOMIZE / "overlays" / "kubeedge-1.21")
    applied = kubectl(kubeconfig, "apply", "--server-side", "-k", overlay)
    assert applied.returncode == 0, applied.stderr
    server.store.create("edgefleet.io", "edgenodeinventories",
                        {"apiVersion": "edgefleet.io/v1alpha1", "kind": "EdgeNodeInventory",
                         "metadata": {"name": "edge-1"}})
    # docs/install.md "Uninstall", the cluster-scoped half (the emulator does not cascade a
    # Namespace deletion to what it holds, so that half is not shown here)
    removed = kubectl(kubeconfig, "delete", "clusterrole,clusterrolebinding,validatingadmissionpolicy,"
                      "validatingadmissionpolicybinding", "-l", "app.kubernetes.io/part-of=edgefleet")
    assert removed.returncode == 0, removed.stderr
    assert len(removed.stdout.splitlines()) == 8  # 3 roles, 3 bindings, the policy and its binding
    left = kubectl(kubeconfig, "get", "clusterroles,clusterrolebindings,validatingadmissionpolicies,"
                   "crds,edgenodeinventories", "-l", "app.kubernetes.io/part-of=edgefleet", "-o", "name")
    assert left.returncode == 0, left.stderr
    assert sorted(left.stdout.split()) == [
        "customresourcedefinition.apiextensions.k8s.io/edgenodeinventories.edgefleet.io",
        "customresourcedefinition.apiextensions.k8s.io/fleetrollouts.edgefleet.io"]
    assert server.store.get("edgefleet.io", "edgenodeinventories", "edge-1")["metadata"]["name"] == "edge-1"
