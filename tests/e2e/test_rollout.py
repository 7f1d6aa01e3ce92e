"""Rollouts end to end (docs/rollout.md): the embedded KubeEdge cluster over real HTTP, the
fleet served by `git daemon`, `sync_once` on the manual clock. A bad image (the simulated
registry refuses it) halts after wave 0; a good one goes through three waves; a maintenance
window holds pulls until 01:00 in Shanghai. Progress lives in FleetRollout objects."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.cycle import CycleResult
from reconciler.sim.kubeedge.registry import default_catalogue
from tests.e2e.conftest import MOSQUITTO, Bed, fleet_config, make_bed
from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon

GOOD = "registry.example.com/e2e/line-agent:2.0.0"
BAD = "registry.example.com/e2e/line-agent:2.0.1-typo"  # the registry does not have it
ROLLOUT = """\
  rollout:
    waves: [{nodes: 2}, {nodes: 5}, {nodes: 100%}]
    failureBudget: 10%
    pauseAfterWave: 10m
"""
WINDOW = """\
  windows:
    - {schedule: "0 1 * * *", duration: 4h, timezone: Asia/Shanghai}
"""


def _files(image: str, extra: str) -> dict[str, bytes]:
    group = ("apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: line}\n"
             f"spec:\n  nodes: {{nodeGroup: line-a}}\n  images: [{MOSQUITTO}, {image}]\n{extra}")
    return {"fleet.yaml": fleet_config(), "groups/line.yaml": group.encode()}


@pytest.fixture
def rollout_bed(tmp_path: Path) -> Iterator[Bed]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    repo.commit(_files(MOSQUITTO, ""), "Line A: mosquitto")
    catalogue = default_catalogue(unknown_exist=False, extra={GOOD: 30 * 1024 * 1024})
    with serve_git_daemon(tmp_path / "served") as url:
        yield from make_bed("1.21", tmp_path, (repo, f"{url}/fleet.git"), nodes=8, catalogue=catalogue)


def _rollout(bed: Bed) -> dict[str, Any]:
    return bed.cluster.store.get("edgefleet.io", "fleetrollouts", "line")


def _targeted(result: CycleResult) -> set[str]:
    assert result.plan is not None, result.message
    return {n for job in result.plan.create for n in job.node_names}


def _cycles(bed: Bed, count: int, step: float = 120.0) -> list[CycleResult]:
    results = []
    for _ in range(count):
        results.append(bed.sync())
        bed.cluster.advance(step)
    return results


def test_a_good_image_goes_through_three_waves(rollout_bed: Bed) -> None:
    bed = rollout_bed
    bed.converge()
    bed.repo.commit(_files(GOOD, ROLLOUT), "Line A: agent 2.0.0, in waves")
    order: list[tuple[int, set[str]]] = []
    for _ in range(30):
        result = bed.sync()
        wave = _rollout(bed)["status"]["wave"]
        if _targeted(result):
            order.append((wave, _targeted(result)))
        if result.outcome == "converged" and _rollout(bed)["status"]["nextStep"] == "complete":
            break
        bed.cluster.advance(120)
    status = _rollout(bed)["status"]
    assert (status["wave"], status["waveSizes"], status["nodesDone"]) == (2, [2, 3, 3], 8)
    assert [wave for wave, _ in order] == [0, 1, 2]
    assert [len(nodes) for _, nodes in order] == [2, 3, 3]
    assert all(bed.cluster.nodes[n].has_image(GOOD) for n in bed.cluster.edge_names())


def test_a_bad_image_halts_after_wave_zero(rollout_bed: Bed) -> None:
    bed = rollout_bed
    bed.converge()
    bed.repo.commit(_files(BAD, ROLLOUT), "Line A: agent 2.0.1 (a typo)")
    results = _cycles(bed, 12)
    targeted = set().union(*(_targeted(r) for r in results))
    status = _rollout(bed)["status"]
    assert len(targeted) == 2 and status["wave"] == 0
    assert status["halted"].startswith("2 of 2 nodes tried failed"), status
    last = results[-1].plan
    assert last is not None and last.create == ()
    assert {g.reason for g in last.gated} == {"halted"} and len(last.gated) == 8
    assert not any(bed.cluster.nodes[n].has_image(BAD) for n in bed.cluster.edge_names())
    # The old images stay: nothing of the first commit is taken away.
    assert all(bed.cluster.nodes[n].has_image(MOSQUITTO) for n in bed.cluster.edge_names())


def test_a_window_holds_pulls_until_one_in_the_morning_in_shanghai(rollout_bed: Bed) -> None:
    bed = rollout_bed
    bed.repo.commit(_files(GOOD, WINDOW), "Line A: agent 2.0.0, at night only")
    held = bed.sync()  # 08:00 UTC is 16:00 in Shanghai
    assert held.plan is not None and held.plan.create == ()
    assert {g.reason for g in held.plan.gated} == {"waiting-window"}
    assert held.plan.revisit_at == datetime(2025, 7, 1, 17, 0, tzinfo=UTC)
    bed.cluster.advance((datetime(2025, 7, 1, 16, 59, tzinfo=UTC) - bed.cluster.clock.now()).total_seconds())
    assert bed.sync().plan.create == ()  # type: ignore[union-attr]
    bed.cluster.advance(60)  # 01:00 in Shanghai
    assert len(_targeted(bed.sync())) == 8


KUBECTL = Path(sys.executable).parent / "kubectl"


def test_status_kubectl_pause_and_resume_as_a_user_runs_them(rollout_bed: Bed, tmp_path: Path) -> None:
    bed = rollout_bed
    kubeconfig = str(tmp_path / "kubeconfig")
    bed.converge()
    bed.repo.commit(_files(BAD, ROLLOUT), "Line A: agent 2.0.1 (a typo)")
    _cycles(bed, 6)
    runner = CliRunner()
    shown = runner.invoke(app, ["rollout", "status", "--kubeconfig", kubeconfig])
    assert shown.exit_code == 0, shown.output
    assert "line" in shown.output and "halted" in shown.output and "0/2/8" in shown.output
    def kubectl(*args: str) -> str:
        return subprocess.run([str(KUBECTL), "--kubeconfig", kubeconfig, *args],
                              capture_output=True, text=True, check=True).stdout

    # The FleetRollout CRD's printer columns, as kubectl prints them from the server's Table.
    header, row = kubectl("get", "fleetrollouts").splitlines()
    assert header.split() == ["NAME", "WAVE", "WAVES", "DONE", "FAILED", "TOTAL", "BUDGET-USED",
                              "NEXT", "AGE"]
    cells = {name: row[header.index(name):].split()[0] for name in header.split() if name != "NEXT"}
    assert (cells["NAME"], cells["WAVE"], cells["WAVES"], cells["DONE"], cells["FAILED"],
            cells["TOTAL"], cells["BUDGET-USED"]) == ("line", "0", "3", "0", "2", "8", "100.0%")
    assert row[header.index("NEXT"):header.index("AGE")].startswith("halted: 2 of 2 nodes tried failed")
    shown_wave = kubectl("get", "fro", "line", "-o", "jsonpath={.status.wave}/{.status.nodesFailed}")
    assert shown_wave == "0/2"
    missing = runner.invoke(app, ["rollout", "resume", "nosuch", "--kubeconfig", kubeconfig])
    assert missing.exit_code == 1 and "no rollout" in missing.output

    resumed = runner.invoke(app, ["rollout", "resume", "line", "--kubeconfig", kubeconfig])
    assert resumed.exit_code == 0 and "2 failed nodes accepted" in resumed.output
    results = _cycles(bed, 8)  # the pause of wave 0 passes; wave 1 is tried (and fails too)
    assert len(set().union(*(_targeted(r) for r in results))) == 3 + 2  # wave 1, and wave 0 retried
    assert _rollout(bed)["status"]["wave"] == 1 and _rollout(bed)["status"]["halted"]

    paused = runner.invoke(app, ["rollout", "pause", "line", "--kubeconfig", kubeconfig])
    assert paused.exit_code == 0
    assert bed.sync().plan.gated[0].reason == "halted"  # type: ignore[union-attr]
    runner.invoke(app, ["rollout", "resume", "line", "--kubeconfig", kubeconfig])
    after = bed.sync().plan
    assert after is not None and {g.reason for g in after.gated} <= {"waiting-wave", "paused"}
    assert _rollout(bed)["spec"]["paused"] is False


def test_a_plan_from_a_snapshot_gates_as_the_cluster_does(rollout_bed: Bed, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bed = rollout_bed
    # Both plans of a comparison at one instant: a wave that settles with no recorded time is
    # done "now", so two `plan` runs a second apart print different waveDoneAt/nextAt.
    instant = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr("reconciler.cli.plan.utc_now", lambda: instant)
    kubeconfig = str(tmp_path / "kubeconfig")
    bed.converge()
    bed.repo.commit(_files(BAD, ROLLOUT), "Line A: agent 2.0.1 (a typo)")
    _cycles(bed, 6)
    assert _rollout(bed)["status"]["halted"]
    runner = CliRunner()
    plan_args = ["plan", "--repo", str(bed.repo.path), "-o", "json"]

    def snapshot_plan(name: str, *, keep_rollouts: bool = True) -> tuple[dict[str, Any], str]:
        out = tmp_path / name
        taken = runner.invoke(app, ["snapshot", "--kubeconfig", kubeconfig, "-o", str(out)])
        assert taken.exit_code == 0 and ", 1 rollouts (" in taken.stderr, taken.output
        if not keep_rollouts:  # as a snapshot written before FleetRollouts were kept
            document = orjson.loads(gzip.decompress(out.read_bytes()))
            del document["rollouts"]
            out.write_bytes(gzip.compress(orjson.dumps(document)))
        run = runner.invoke(app, [*plan_args, "--snapshot", str(out), "--max-age", "3650d"])
        assert run.exit_code in (0, 2), run.output
        planned = orjson.loads(run.stdout)
        (line,) = [r for r in planned["rollouts"] if r["group"] == "line"]
        return line, run.stdout

    halted, printed = snapshot_plan("halted.json.gz")
    assert printed == runner.invoke(app, [*plan_args, "--kubeconfig", kubeconfig]).stdout
    assert halted["halted"].startswith("2 of 2 nodes tried failed")
    assert {g["reason"] for g in orjson.loads(printed)["gated"] if g["group"] == "line"} == {"halted"}

    # After `rollout resume` the snapshot carries the accepted failures: the PR plan goes on
    # where the cluster would; without the FleetRollouts it would halt the rollout again.
    assert runner.invoke(app, ["rollout", "resume", "line", "--kubeconfig", kubeconfig]).exit_code == 0
    resumed, printed = snapshot_plan("resumed.json.gz")
    assert printed == runner.invoke(app, [*plan_args, "--kubeconfig", kubeconfig]).stdout
    assert resumed["halted"] == "" and resumed["acceptedFailures"] == 2
    blind, _ = snapshot_plan("blind.json.gz", keep_rollouts=False)
    assert blind["halted"].startswith("2 of 2 nodes tried failed") and blind["acceptedFailures"] == 0
