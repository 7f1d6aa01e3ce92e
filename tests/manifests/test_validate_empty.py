"""`validate` refuses what `plan` refuses: a fleet that desires no image without allowEmpty
fails with the planner's words, at the file that decides it; allowEmpty: true passes."""

from __future__ import annotations

from pathlib import Path

import typer
from click.testing import CliRunner, Result

from reconciler.cli import app
from tests.fleetrepo import FleetRepo

CONFIG = """\
apiVersion: edgefleet.io/v1alpha1
kind: FleetConfig
metadata: {{name: fleet}}
spec:
  defaults: {{timeoutSeconds: 300}}
  allowEmpty: {allow}
"""
NO_IMAGES = b"""\
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: line}
spec:
  nodes: {nodeGroup: line-a}
  images: []
"""


def edgefleet(*args: str) -> Result:
    return CliRunner().invoke(typer.main.get_group(app), list(args), prog_name="edgefleet")


def plan_refusal(repo: Path, tmp_path: Path) -> str:
    """What `plan` says about the same fleet (an empty cluster snapshot: no cluster needed)."""
    nodes = tmp_path / "nodes.json"
    nodes.write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    result = edgefleet("plan", "--repo", str(repo), "--nodes", str(nodes))
    assert result.exit_code == 1, result.output
    refusal = result.stderr.strip().splitlines()[-1]
    assert refusal.startswith("error: ") and "refusing to plan an empty desired state" in refusal
    return refusal.removeprefix("error: ")


def test_an_empty_fleet_fails_validate_as_plan_fails_it(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "fleet.yaml").write_text(CONFIG.format(allow="false"))
    result = edgefleet("validate", str(fleet))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    refusal = plan_refusal(fleet, tmp_path)
    assert lines == [f"{fleet.as_posix()}/fleet.yaml:6:15: {refusal}", "invalid: 1 error"]


def test_allow_empty_true_validates(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "fleet.yaml").write_text(CONFIG.format(allow="true"))
    result = edgefleet("validate", str(fleet))
    assert result.exit_code == 0, result.output
    assert result.stdout == "valid: 0 groups, 0 image sets, 0 distinct images\n"


def test_a_commit_whose_groups_desire_nothing_names_the_group_file(tmp_path: Path) -> None:
    repo = FleetRepo(tmp_path / "fleet.git")
    repo.commit({"groups/line.yaml": NO_IMAGES}, "Empty the line")
    result = edgefleet("validate", str(repo.path), "--rev", "main")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert errors == [f"groups/line.yaml:1:1: {plan_refusal(repo.path, tmp_path)}", "invalid: 1 error"]


def test_a_commit_without_fleet_files_names_the_repository(tmp_path: Path) -> None:
    repo = FleetRepo(tmp_path / "fleet.git")
    repo.commit({"README.md": b"# nothing here\n"}, "Start")
    result = edgefleet("validate", str(repo.path), "--rev", "main")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [f"{repo.path}:1:1: {plan_refusal(repo.path, tmp_path)}",
                                          "invalid: 1 error"]
