"""The pull-secret rule (#16 item 1): a group naming a secret the cluster lacks gets no new job
and the plan warns, naming the group and the secret; unchecked secrets change nothing."""

from __future__ import annotations

import pytest

from reconciler.manifests.fleet import Fleet
from reconciler.planner import plan
from reconciler.planner.secrets import MissingSecret, missing_secrets, secret_refs
from tests.fleet_builders import NOW, fleet, group, node_object, nodes_facts

APP = "registry.example.com/app:1.0"
MODEL = "registry.example.com/vision/model:3"
NODES = nodes_facts(node_object("edge-1"), node_object("edge-2"))


def example() -> Fleet:
    """Three groups: `toll` pulls with toll/pull-cred, `vision` with vision/pull-cred except one
    image with its own vision/model-pull, `lab` (suspended) with lab/cred."""
    return fleet(
        group("toll", [APP], names=["edge-1"], secret="toll/pull-cred"),
        group("vision", ["registry.example.com/vision/app:2", (MODEL, "vision/model-pull")],
              names=["edge-2"], secret="vision/pull-cred"),
        group("lab", ["registry.example.com/lab:1"], names=["edge-2"], secret="lab/cred",
              suspend=True),
    )


ALL = frozenset({"toll/pull-cred", "vision/pull-cred", "vision/model-pull"})


def test_the_refs_are_every_secret_an_active_group_names() -> None:
    assert secret_refs(example()) == ALL  # lab/cred: suspended, no job would name it


@pytest.mark.parametrize(("present", "missing", "groups_with_jobs"), [
    pytest.param(None, [], {"toll", "vision"}, id="unchecked-snapshots"),
    pytest.param(ALL, [], {"toll", "vision"}, id="all-present"),
    pytest.param(ALL - {"toll/pull-cred"}, [("toll", "toll/pull-cred")], {"vision"},
                 id="group-secret-missing"),
    # One image's own secret missing holds back the whole group, not just that image.
    pytest.param(ALL - {"vision/model-pull"}, [("vision", "vision/model-pull")], {"toll"},
                 id="image-secret-missing"),
    pytest.param(frozenset(), [("toll", "toll/pull-cred"), ("vision", "vision/model-pull"),
                               ("vision", "vision/pull-cred")], set(), id="none-present"),
])
def test_a_missing_secret_holds_back_its_group_with_a_warning(
        present: frozenset[str] | None, missing: list[tuple[str, str]],
        groups_with_jobs: set[str]) -> None:
    the_fleet = example()
    assert missing_secrets(the_fleet, present) == tuple(MissingSecret(*m) for m in missing)
    result = plan(the_fleet, NODES, [], [], now=NOW, revision=None,
                  job_api_version="operations.kubeedge.io/v1alpha2", secrets=present)
    assert {job.group for job in result.create} == groups_with_jobs
    secret_warnings = [w for w in result.warnings if "pull secret" in w]
    assert secret_warnings == [
        f"group {g}: pull secret {s} does not exist on the cluster; no jobs are created for the "
        "group until it does" for g, s in missing]
    # The held-back pairs stay counted as to do (missing, or unknown for nodes that report
    # no image list): nothing pretends they are on their way.
    by_group = {g.group: g.counts for g in result.groups}
    for name, _ in missing:
        counts = by_group[name]
        assert counts.pairs_missing + counts.pairs_unknown == counts.pairs_desired > 0
        assert by_group[name].jobs_create == 0
    assert result.to_dict()["warnings"] == list(result.warnings)
