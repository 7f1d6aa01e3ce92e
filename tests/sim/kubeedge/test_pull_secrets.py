"""Pull secrets as the edge reads them (docs/kubeedge.md §1 item 9, §4.5, inferred): only
`data[".dockerconfigjson"]`, JSON-decoded straight into a CRI AuthConfig. A standard
`{"auths": {...}}` document therefore yields no credentials and the pull of a private image
runs anonymously and fails; `EmbeddedCluster.add_pull_secret` writes the shape that works."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from reconciler.sim.kubeedge.prepull import Switches
from tests.sim.kubeedge.builders import JOBS, MakeCluster, job, status_of

PRIVATE = "registry.example.com/toll/lane-controller:2.0.4"
STANDARD = {"auths": {"registry.example.com": {"auth": base64.b64encode(b"demo:demo").decode()}}}
AUTH_CONFIG = {"username": "demo", "password": "demo", "server_address": "registry.example.com"}


def _secret(document: Any, secret_type: str = "kubernetes.io/dockerconfigjson") -> dict[str, Any]:
    return {"metadata": {"name": "pull", "namespace": "default"}, "type": secret_type,
            "data": {".dockerconfigjson": base64.b64encode(orjson.dumps(document)).decode()}}


def _pull_private(cluster: Any, secret: dict[str, Any] | None, ref: str = "default/pull") -> Any:
    if secret is not None:
        cluster.store.create("", "secrets", secret, namespace="default")
    (node,) = [n for n in cluster.edge_names() if not cluster.nodes[n].has_image(PRIVATE)][:1]
    version = "v1alpha2" if cluster.kubeedge == "1.21" else "v1alpha1"
    cluster.store.create(*JOBS, job("j", [node], version, images=[PRIVATE], imageSecrets=ref))
    cluster.advance(600)
    return node


@pytest.mark.parametrize(("document", "secret_type", "pulled"), [
    pytest.param(STANDARD, "kubernetes.io/dockerconfigjson", False, id="auths-yields-anonymous"),
    pytest.param(AUTH_CONFIG, "kubernetes.io/dockerconfigjson", True, id="top-level-authconfig"),
    pytest.param({"identity_token": "t"}, "kubernetes.io/dockerconfigjson", True, id="identity-token"),
    pytest.param({"Auth": "ZGVtbzpkZW1v"}, "kubernetes.io/dockerconfigjson", True,
                 id="go-json-keys-match-any-case"),
    pytest.param({"server_address": "registry.example.com"}, "kubernetes.io/dockerconfigjson",
                 False, id="address-is-no-credential"),
    # the edge reads the data key only, never the Secret's type
    pytest.param(AUTH_CONFIG, "Opaque", True, id="opaque-type-still-read"),
])
@pytest.mark.parametrize("kubeedge", ["1.21", "1.16"])
def test_private_pull_needs_top_level_credentials(make_cluster: MakeCluster, kubeedge: str,
                                                  document: Any, secret_type: str,
                                                  pulled: bool) -> None:
    cluster = make_cluster(kubeedge=kubeedge)
    node = _pull_private(cluster, _secret(document, secret_type))
    assert cluster.nodes[node].has_image(PRIVATE) is pulled
    status = status_of(cluster, "j")
    if kubeedge == "1.21":
        entry = status["nodeStatus"][0]
        assert entry["phase"] == ("Successful" if pulled else "Failure")
        reason = entry["imageStatus"][0].get("reason", "")
    else:
        assert status["state"] == ("Successful" if pulled else "Failed")
        reason = status["status"][0]["imageStatus"][0].get("reason", "")
    assert ("no basic auth credentials" in reason) is not pulled


def test_switch_off_lets_the_standard_layout_through(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(switches=Switches(dockerconfig_auths_yields_no_credentials=False))
    node = _pull_private(cluster, _secret(STANDARD))
    assert cluster.nodes[node].has_image(PRIVATE)
    assert status_of(cluster, "j")["phase"] == "Completed"


def test_undecodable_document_fails_the_pull(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    _pull_private(cluster, _secret(["not", "an", "object"]))
    entry = status_of(cluster, "j")["nodeStatus"][0]
    assert entry["phase"] == "Failure"
    assert "unmarshal secret pull" in entry["actionFlow"][-1]["reason"]


@pytest.mark.parametrize("kubeedge", ["1.21", "1.16"])
def test_add_pull_secret_makes_private_pulls_work(make_cluster: MakeCluster, kubeedge: str) -> None:
    cluster = make_cluster(kubeedge=kubeedge)
    cluster.add_pull_secret("toll/pull-cred")
    secret = cluster.store.get("", "secrets", "pull-cred", namespace="toll")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    node = _pull_private(cluster, None, ref="toll/pull-cred")
    assert cluster.nodes[node].has_image(PRIVATE)
