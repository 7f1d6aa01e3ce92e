"""Loading valid repositories: the examples, resolution into the Fleet contract, warnings."""

from __future__ import annotations

import pytest

from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import GroupImage, JobPolicy, LabelRequirement

from .conftest import yaml

MODEL = (
    "registry.example.com/vision/defect-model"
    "@sha256:8c3ced39718d00c110686e28aebe22bb93b7b6e55cd18fa4792ca519738a80af"
)


def test_examples_load_without_errors_or_warnings(example_files: dict[str, bytes]) -> None:
    result = load_fleet(example_files)
    assert result.errors == ()
    assert result.warnings == ()
    assert result.fleet is not None
    assert [g.name for g in result.fleet.groups] == [
        "factory-shanghai",
        "factory-suzhou",
        "retail-shops",
        "toll-a4",
    ]
    assert {g.selection.kind for g in result.fleet.groups} == {"nodeGroup", "selector", "names"}
    ignored = "ignored apps.kubeedge.io/v1alpha1 NodeGroup (not edgefleet.io/v1alpha1)"
    assert [str(n) for n in result.notices] == [
        f"kubeedge/nodegroups.yaml:6:1: {ignored}",
        f"kubeedge/nodegroups.yaml:14:1: {ignored}",
    ]


def test_examples_resolve_secrets_and_policies(example_files: dict[str, bytes]) -> None:
    fleet = load_fleet(example_files).fleet
    assert fleet is not None
    shanghai = fleet.group("factory-shanghai")
    # image secret > group secret > defaults
    assert GroupImage(MODEL, "vision/model-pull") in shanghai.images
    assert GroupImage("docker.io/library/eclipse-mosquitto:2.0.18", "vision/pull-cred") in shanghai.images
    assert GroupImage("docker.io/library/eclipse-mosquitto:2.0.18", "kubeedge/registry-cred") in (
        fleet.group("retail-shops").images
    )
    # group policy keys > FleetConfig defaults > built-in
    assert shanghai.policy == JobPolicy(
        concurrency=25,
        failure_tolerate="1",
        timeout_seconds=600,
        retry_times=2,
        check_items=("disk", "mem"),
        max_nodes_per_job=100,
    )
    assert fleet.group("toll-a4").policy.check_items == ()
    assert fleet.group("toll-a4").selection.names == (
        "toll-a4-km012-01",
        "toll-a4-km012-02",
        "toll-a4-km047-01",
        "toll-a4-km047-02",
    )
    assert fleet.group("retail-shops").selection.match_expressions == (
        LabelRequirement("apps.kubeedge.io/belonging-to", "DoesNotExist"),
        LabelRequirement("topology.edgefleet.io/site", "In", ("shop-berlin", "shop-hamburg", "shop-munich")),
    )
    assert len(fleet.distinct_images) == 12


def test_images_are_normalized_deduplicated_and_sorted() -> None:
    files = {
        "s.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: ImageSet
            metadata: {name: base}
            spec:
              images: [nginx, "docker.io/library/nginx:latest", redis:7]
        """),
        "g.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: shop}
            spec:
              nodes: {names: [edge-b, edge-a, edge-b]}
              imageSets: [base, base]
              images: [index.docker.io/library/redis:7, reg.example.com:5000/app]
              policy: {failureTolerate: 0.10, checkItems: [mem, disk, mem]}
        """),
    }
    result = load_fleet(files)
    assert result.fleet is not None
    group = result.fleet.group("shop")
    assert [i.image for i in group.images] == [
        "docker.io/library/nginx:latest",
        "docker.io/library/redis:7",
        "reg.example.com:5000/app:latest",
    ]
    assert all(i.secret is None for i in group.images)
    assert group.image_sets == ("base",)
    assert group.selection.names == ("edge-a", "edge-b")
    assert group.policy.failure_tolerate == "0.1"
    assert group.policy.check_items == ("disk", "mem")
    assert result.fleet.defaults == JobPolicy()
    assert result.fleet.image_sets == (
        ("base", ("docker.io/library/nginx:latest", "docker.io/library/redis:7")),
    )
    assert [str(w) for w in result.warnings] == ["g.yaml:5:18: a node name is listed twice"]


def _group(name: str, nodes: str, extra: str = "") -> bytes:
    return (
        yaml(f"""
        apiVersion: edgefleet.io/v1alpha1
        kind: NodeGroupImages
        metadata: {{name: {name}}}
        spec:
          nodes: {nodes}
          images: [nginx]
    """)
        + extra.encode()
    )


WARNINGS = [
    pytest.param(
        {"g.yaml": _group("g", "{names: []}")},
        ['g.yaml:5:18: group "g" selects no node: names is empty'],
        id="empty-names",
    ),
    pytest.param(
        {
            "g.yaml": _group(
                "g",
                "{selector: {matchLabels: {site: a}, matchExpressions: "
                "[{key: site, operator: DoesNotExist}]}}",
            )
        },
        ['g.yaml:5:21: group "g" selects no node: the requirements on label "site" contradict each other'],
        id="self-contradicting-selector",
    ),
    pytest.param(
        {
            "g.yaml": _group(
                "g",
                "{selector: {matchExpressions: [{key: site, operator: In, values: [a]}, "
                "{key: site, operator: NotIn, values: [a]}]}}",
            )
        },
        ['g.yaml:5:21: group "g" selects no node: the requirements on label "site" contradict each other'],
        id="in-and-notin-same-value",
    ),
    pytest.param(
        {"g.yaml": _group("g", "{selector: {}}")},
        ['g.yaml:5:21: group "g" has an empty selector, which selects every edge node'],
        id="empty-selector",
    ),
    pytest.param(
        {
            "a.yaml": _group("a", "{nodeGroup: berlin}", "  policy: {concurrency: 3}\n"),
            "b.yaml": _group("b", "{selector: {matchLabels: {tier: pos}}}"),
        },
        [
            'b.yaml:3:18: groups "a" and "b" may select the same nodes and want '
            '"docker.io/library/nginx:latest" '
            'with different policies; on a node both select, "a" wins (its name sorts first)'
        ],
        id="overlap-different-policy",
    ),
    pytest.param(
        {
            "a.yaml": _group("a", "{names: [n1, n2]}", "  imageSecret: x/one\n"),
            "b.yaml": _group("b", "{names: [n2, n3]}", "  imageSecret: x/two\n"),
        },
        [
            'b.yaml:3:18: groups "a" and "b" may select the same nodes and want '
            '"docker.io/library/nginx:latest" '
            'with different imageSecrets; on a node both select, "a" wins (its name sorts first)'
        ],
        id="overlap-different-secret",
    ),
    pytest.param(
        {
            "a.yaml": _group("a", "{nodeGroup: berlin}", "  policy: {concurrency: 3}\n"),
            "b.yaml": _group("b", "{nodeGroup: munich}"),
        },
        [],
        id="distinct-node-groups-never-overlap",
    ),
    pytest.param(
        {
            "a.yaml": _group("a", "{names: [n1]}", "  imageSecret: x/one\n"),
            "b.yaml": _group("b", "{names: [n2]}"),
        },
        [],
        id="disjoint-names-never-overlap",
    ),
    pytest.param(
        {
            "a.yaml": _group("a", "{nodeGroup: berlin}", "  policy: {concurrency: 3}\n"),
            "b.yaml": _group(
                "b",
                "{selector: {matchExpressions: [{key: apps.kubeedge.io/belonging-to, "
                "operator: NotIn, values: [berlin]}]}}",
            ),
        },
        [],
        id="selector-excluding-the-node-group",
    ),
    pytest.param(
        {"f.yaml": b"apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nspec: {allowEmpty: false}\n"},
        [
            "f.yaml:3:20: the fleet desires no image and allowEmpty is false: "
            "a plan of this revision is refused"
        ],
        id="empty-fleet",
    ),
    pytest.param(
        {"f.yaml": b"apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nspec: {allowEmpty: true}\n"},
        [],
        id="empty-fleet-allowed",
    ),
]


@pytest.mark.parametrize(("files", "expected"), WARNINGS)
def test_warns_without_failing(files: dict[str, bytes], expected: list[str]) -> None:
    result = load_fleet(files)
    assert result.errors == ()
    assert result.fleet is not None
    assert [str(w) for w in result.warnings] == expected


def test_other_documents_are_ignored_with_a_notice() -> None:
    files = {
        "deploy.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
        "list.yml": b"- just\n- a list\n",
        "notes.txt": b"not yaml: [",
        "g.yaml": _group("g", "{nodeGroup: berlin}"),
    }
    result = load_fleet(files)
    assert [str(n) for n in result.notices] == [
        "deploy.yaml:1:1: ignored apps/v1 Deployment (not edgefleet.io/v1alpha1)",
        "list.yml:1:1: not a Kubernetes-style object; ignored",
    ]
    assert result.fleet is not None
    assert result.fleet.group("g").source is not None
    assert str(result.fleet.group("g").source) == "g.yaml:1"
