"""Decoding what the cluster prints into facts: nodes, jobs, inventories."""

from __future__ import annotations

import msgspec
import orjson
import pytest

from reconciler.manifests.imageref import normalize_image
from reconciler.observed import decode_inventories, decode_jobs, decode_nodes
from tests.fleet_builders import BELONGING, JOB_FIXTURES, load_yaml, node_list, node_object


@pytest.mark.parametrize("kind", [pytest.param("List", id="kubectl-list"),
                                  pytest.param("NodeList", id="api-nodelist")])
def test_nodes_decode_labels_ready_edge_and_normalized_images(kind: str) -> None:
    data = node_list([
        node_object("edge-a", labels={BELONGING: "line"},
                    images=[["docker.io/library/nginx@sha256:" + "a" * 64, "nginx:1.25"],
                            ["reg.example.com:5000/a/b"], ["bad name; rm -rf /"]]),
        node_object("edge-b", ready=False),
        node_object("edge-c", ready=None),
        node_object("master", edge=False),
    ], kind=kind)
    facts = {n.name: n for n in decode_nodes(data, normalize=normalize_image)}
    a = facts["edge-a"]
    assert a.labels[BELONGING] == "line" and a.edge and a.ready
    assert a.images == {"docker.io/library/nginx@sha256:" + "a" * 64, "docker.io/library/nginx:1.25",
                        "reg.example.com:5000/a/b:latest"}  # the invalid name is skipped
    assert a.images_reported == 3
    assert not facts["edge-b"].ready
    assert not facts["edge-c"].ready  # no Ready condition: not Ready
    assert not facts["master"].edge


def test_an_api_page_with_continue_token_decodes() -> None:
    page = orjson.dumps({"kind": "NodeList", "apiVersion": "v1",
                         "metadata": {"resourceVersion": "42", "continue": "abc"},
                         "items": [node_object("edge-a")]})
    assert [n.name for n in decode_nodes(page, normalize=normalize_image)] == ["edge-a"]


def test_garbage_is_a_decode_error() -> None:
    with pytest.raises(ValueError):
        decode_nodes(b'{"items": "nope"}', normalize=normalize_image)
    with pytest.raises(msgspec.DecodeError):
        decode_jobs(b"not json")


def test_jobs_decode_from_a_kubectl_list() -> None:
    items = [load_yaml(JOB_FIXTURES / "v1alpha2-completed.yaml"),
             load_yaml(JOB_FIXTURES / "v1alpha1-pulling.yaml")]
    jobs = decode_jobs(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    assert [j.name for j in jobs] == ["job-completed", "job-v1-pulling"]
    assert jobs[0].template.node_names == ["edge-a", "edge-b"]
    assert jobs[0].status.phase == "Completed" and jobs[1].status.state == "Pulling"
    assert jobs[0].metadata.labels["edgefleet.io/group"] == "line"


def test_inventories_decode() -> None:
    data = orjson.dumps({"kind": "EdgeNodeInventoryList", "items": [{
        "apiVersion": "edgefleet.io/v1alpha1", "kind": "EdgeNodeInventory",
        "metadata": {"name": "edge-a", "resourceVersion": "7"},
        "status": {"images": [{"image": "docker.io/library/nginx:1.25", "source": "job/ef-x",
                               "observedAt": "2025-07-01T00:00:00Z"}],
                   "failures": [{"image": "docker.io/library/redis:7", "attempts": 2,
                                 "lastError": "boom", "lastAttempt": "2025-07-01T00:00:00Z",
                                 "lastJob": "ef-y", "retryAfter": "2025-07-01T00:10:00Z"}]},
    }]})
    (inv,) = decode_inventories(data)
    assert inv.name == "edge-a" and inv.resource_version == "7"
    assert inv.status.images[0].source == "job/ef-x"
    assert inv.status.failures[0].attempts == 2 and inv.status.failures[0].last_job == "ef-y"
