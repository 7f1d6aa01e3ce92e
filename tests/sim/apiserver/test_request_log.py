"""The request log (audit.py): each resource request as RBAC sees it, with the identity real
kubectl impersonates (--as, --as-group send the Impersonate-* headers); discovery is not a
resource request and is not recorded; credentials never are."""

from __future__ import annotations

from reconciler.sim.apiserver.audit import Request
from reconciler.sim.apiserver.server import ApiServer
from tests.sim.apiserver.builders import Kubectl


def test_kubectl_requests_are_recorded_with_the_identity_they_impersonate(
        server: ApiServer, kubectl: Kubectl) -> None:
    kubectl("get", "nodes")
    kubectl("--as=system:node:edge-1", "--as-group=system:nodes", "--as-group=system:authenticated",
            "get", "configmaps", "-n", "kube-system")
    kubectl("create", "-n", "default", "-f", "-",
            stdin='{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flags"}}')
    kubectl("patch", "namespace", "default", "--subresource=status", "--type=merge",
            "-p", '{"status":{"phase":"Active"}}')
    recorded = server.requests.requests()
    assert [r for r in recorded if r.resource == "nodes"] == [
        Request("admin", (), "list", "", "nodes", "", "", "")]
    assert [r for r in recorded if r.resource == "configmaps"] == [
        Request("system:node:edge-1", ("system:nodes", "system:authenticated"), "list", "", "configmaps",
                "", "kube-system", ""),
        Request("admin", (), "create", "", "configmaps", "", "default", "")]
    assert Request("admin", (), "patch", "", "namespaces", "status", "", "default") in recorded
    assert all(r.resource for r in recorded), "discovery is not recorded as a resource request"
    assert "token" not in repr(recorded).lower()
