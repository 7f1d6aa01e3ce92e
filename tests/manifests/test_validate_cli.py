"""`edgefleet validate` as a user runs it: exit codes, one line per problem, --rev on git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import typer
from click.testing import CliRunner, Result

from reconciler.cli import app

from .conftest import EXAMPLES


def run(*args: str) -> Result:
    # get_group: the real multi-command CLI, however many other commands are registered now.
    return CliRunner().invoke(typer.main.get_group(app), ["validate", *args], prog_name="edgefleet")


def test_examples_are_valid() -> None:
    result = run(str(EXAMPLES))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "valid: 4 groups, 3 image sets, 12 distinct images (images per group: "
        "factory-shanghai 6, factory-suzhou 5, retail-shops 6, toll-a4 3)\n"
    )
    assert "warning" not in result.stderr


def test_typo_in_a_key_names_file_line_and_column(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    shutil.copytree(EXAMPLES, fleet)
    shops = fleet / "groups" / "retail-shops.yaml"
    shops.write_text(shops.read_text().replace("  imageSets: [base-runtime", "  imageSet: [base-runtime"))
    line = _line_of(shops, "  imageSet: [")
    result = run(str(fleet))
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not line.startswith("notice:")]
    assert errors == [
        f"{fleet.as_posix()}/groups/retail-shops.yaml:{line}:3: "
        'unknown key "imageSet" (did you mean "imageSets"?)',
        "invalid: 1 error",
    ]
    assert "Traceback" not in result.stderr


def test_missing_directory_is_one_line(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert result.stderr == f"error: fleet directory not found: {tmp_path / 'nope'}\n"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_rev_validates_a_commit_not_the_working_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "fleet")
    _git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "fleet")
    good = _git(repo, "rev-parse", "HEAD")
    toll = repo / "fleet" / "groups" / "toll-a4.yaml"
    toll.write_text(toll.read_text().replace("anpr-camera:3.1.0", "anpr-camera:$(reboot)"))
    _git(repo, "commit", "-q", "-am", "break it")
    line = _line_of(toll, "anpr-camera:$(reboot)")

    at_good = run(str(repo), "--rev", good, "--path", "fleet")
    assert at_good.exit_code == 0, at_good.stderr
    assert at_good.stdout.startswith(f"valid at {good[:12]}: 4 groups,")

    at_head = run(str(repo), "--rev", "HEAD", "--path", "fleet")
    assert at_head.exit_code == 1
    assert (
        f"fleet/groups/toll-a4.yaml:{line}:7: "
        'invalid image reference "registry.example.com/toll/anpr-camera:$(reboot)": '
        "contains the character '$', which a shell could interpret"
    ) in at_head.stderr.splitlines()

    unknown = run(str(repo), "--rev", "no-such-branch")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: ") and len(unknown.stderr.splitlines()) == 1
