"""FleetConfig `registries.insecure` and `pinDigests`, and where each image is written."""

from __future__ import annotations

from reconciler.manifests import load_fleet
from reconciler.manifests.locations import image_locations

from .conftest import yaml

GROUPS = yaml("""
    apiVersion: edgefleet.io/v1alpha1
    kind: ImageSet
    metadata: {name: base}
    spec:
      images:
        - reg.local:5000/base/agent:1
        - {image: nginx:1.25, imageSecret: kubeedge/pull}
    ---
    apiVersion: edgefleet.io/v1alpha1
    kind: NodeGroupImages
    metadata: {name: pinned}
    spec:
      nodes: {names: [edge-1]}
      imageSets: [base]
      images: [reg.local:5000/base/agent:1]
    ---
    apiVersion: edgefleet.io/v1alpha1
    kind: NodeGroupImages
    metadata: {name: floating}
    spec:
      nodes: {names: [edge-2]}
      images: ["docker.io/library/nginx:1.25"]
      pinDigests: false
""")


def test_insecure_registries_and_pin_digests_reach_the_fleet() -> None:
    config = yaml("""
        apiVersion: edgefleet.io/v1alpha1
        kind: FleetConfig
        spec:
          registries: {insecure: [Reg.Local:5000, "127.0.0.1:5001", reg.local:5000]}
          pinDigests: true
    """)
    result = load_fleet({"fleet.yaml": config, "groups.yaml": GROUPS})
    assert result.fleet is not None, result.errors
    assert result.fleet.insecure_registries == ("127.0.0.1:5001", "reg.local:5000")
    assert result.fleet.pin_digests is True
    assert result.fleet.group("pinned").pin_digests is True
    assert result.fleet.group("floating").pin_digests is False


def test_defaults_are_tls_everywhere_and_tags_not_pinned() -> None:
    result = load_fleet({"groups.yaml": GROUPS})
    assert result.fleet is not None
    assert result.fleet.insecure_registries == ()
    assert result.fleet.pin_digests is False
    assert result.fleet.group("pinned").pin_digests is False


def test_an_insecure_entry_that_is_not_host_port_is_an_error_at_its_line() -> None:
    config = yaml("""
        apiVersion: edgefleet.io/v1alpha1
        kind: FleetConfig
        spec:
          registries:
            insecure:
              - reg.local:5000
              - http://reg.local:5000
    """)
    result = load_fleet({"fleet.yaml": config})
    assert [str(e) for e in result.errors] == [
        'fleet.yaml:7:9: invalid registry "http://reg.local:5000": expected host[:port], e.g. reg.local:5000'
    ]


def test_image_locations_name_every_place_an_image_is_written() -> None:
    assert image_locations({"groups.yaml": GROUPS, "notes.txt": b"ignored"}) == {
        "reg.local:5000/base/agent:1": (("groups.yaml", 6, 7), ("groups.yaml", 15, 12)),
        "docker.io/library/nginx:1.25": (("groups.yaml", 7, 15), ("groups.yaml", 22, 12)),
    }
