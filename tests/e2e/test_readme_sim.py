"""The README's embedded-cluster flow, as written (#16 item 1): `sim serve` with the README's
flags, then the README's `sync` with fleet-examples, again until it converges; and the same
cluster without the pull secrets, where sync must say which secret each group lacks."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.cycle import GoodRevision, Outcome, SyncSettings, sync_once
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.session import Session
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.source import read_worktree
from tests.e2e.conftest import INVENTORIES, REPO_ROOT


def readme_commands() -> list[list[str]]:
    """The edgefleet commands of the README's code block that starts the embedded cluster."""
    text = (REPO_ROOT / "README.md").read_text()
    blocks = text.split("```")[1::2]
    block = next(b for b in blocks if "edgefleet sim serve" in b)
    lines = block.replace("\\\n", " ").splitlines()
    return [shlex.split(line, comments=True) for line in lines if line.startswith("edgefleet ")]


def sim_serve_options(command: list[str]) -> argparse.Namespace:
    assert command[:3] == ["edgefleet", "sim", "serve"], command
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--kubeconfig-out")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--pull-secret", action="append", default=[])
    return parser.parse_args(command[3:])  # an unknown flag fails: this test must learn it


def sync_args(command: list[str], kubeconfig: Path) -> list[str]:
    """The README's sync, with its paths resolved: fleet-examples in this checkout, the
    kubeconfig the cluster wrote."""
    assert command[:2] == ["edgefleet", "sync"], command
    args = command[2:]
    args[args.index("--repo") + 1] = str(REPO_ROOT / args[args.index("--repo") + 1])
    args[args.index("--kubeconfig") + 1] = str(kubeconfig)
    return ["sync", *args]


@pytest.fixture(params=[True, False], ids=["with-readme-secrets", "without-secrets"])
def readme_cluster(request: pytest.FixtureRequest,
                   tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Path, list[str], list[str]]]:
    """The cluster `sim serve` starts with the README's flags (on a manual clock that starts
    now, which the CLI plans with), its kubeconfig, the README's sync arguments and the
    pull secrets created."""
    serve, sync = readme_commands()[0], next(c for c in readme_commands() if c[1] == "sync")
    options = sim_serve_options(serve)
    secrets = options.pull_secret if request.param else []
    start = datetime.now(UTC).replace(microsecond=0)
    with EmbeddedCluster(nodes=options.nodes, clock=ManualClock(start)) as cluster:
        for ref in secrets:
            cluster.add_pull_secret(ref)
        kubeconfig = cluster.write_kubeconfig(tmp_path / "sim.kubeconfig")
        yield cluster, kubeconfig, sync_args(sync, kubeconfig), secrets


def test_the_readme_flow_converges_and_a_missing_secret_is_an_error_naming_it(
        readme_cluster: tuple[EmbeddedCluster, Path, list[str], list[str]]) -> None:
    cluster, kubeconfig, args, secrets = readme_cluster
    first = CliRunner().invoke(app, args)
    if not secrets:
        # Every group of fleet-examples names a secret the cluster lacks: no job, exit 1, and
        # one error line per (group, secret).
        assert first.exit_code == 1, first.output
        assert "group toll-a4: pull secret toll/pull-cred does not exist on the cluster" in first.output
        assert "vision/model-pull" in first.output and "kubeedge/registry-cred" in first.output
        jobs, _, _ = cluster.store.list("operations.kubeedge.io", "imageprepulljobs",
                                        version=cluster.job_api_version)
        assert jobs == []
        # The plan, for review, says the same as warnings naming group and namespace/name.
        planned = CliRunner().invoke(app, ["plan", "--repo", args[args.index("--repo") + 1],
                                           "--kubeconfig", str(kubeconfig), "--output", "json"])
        plan = orjson.loads(planned.stdout)
        assert plan["create"] == []
        assert ("group toll-a4: pull secret toll/pull-cred does not exist on the cluster; no jobs "
                "are created for the group until it does") in plan["warnings"]
        assert {w.split(":")[0] for w in plan["warnings"] if "pull secret" in w} == {
            f"group {g['name']}" for g in plan["groups"] if not g["suspended"]}
        return
    assert first.exit_code == 0, first.output
    assert "does not exist" not in first.output
    # Then "repeat until converged", each run after the edge has worked ten minutes.
    session = Session.from_kubeconfig(kubeconfig)
    last: GoodRevision | None = None
    outcomes: list[str] = []
    try:
        for _ in range(40):
            cluster.advance(600)
            result = sync_once(read_revision=lambda: read_worktree(Path(args[args.index("--repo") + 1])),
                               cluster=LiveCluster(session), settings=SyncSettings(),
                               last_good=last, now=cluster.clock.now)
            last = result.in_force
            outcomes.append(result.outcome.value)
            assert result.ok and not result.errors, result.message
            if result.outcome is Outcome.CONVERGED:
                break
    finally:
        session.close()
    assert outcomes[-1] == "converged", outcomes
    # Nothing failed for a missing secret, and every recorded failure says what the edge said.
    items, _, _ = cluster.store.list(*INVENTORIES)
    errors = [f.get("lastError", "") for i in items for f in i.get("status", {}).get("failures", [])]
    assert errors, "the default fleet has misbehaving nodes: their failures are recorded"
    assert not [e for e in errors if "secret" in e]
    assert not [e for e in errors if e.startswith("node ended in phase")], sorted(set(errors))
