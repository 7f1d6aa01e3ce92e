"""The CI templates under deploy/ci/ cannot rot: they validate against the published GitHub
workflow and GitLab CI JSON Schemas (check-jsonschema's vendored SchemaStore copies), and
every `edgefleet` command they run exists with exactly those options (parsed by the CLI
itself, and shown by `edgefleet <command> --help`)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from ruamel.yaml import YAML
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.report.review_checks import FAIL_ON_KINDS

REPO_ROOT = Path(__file__).resolve().parents[2]
CI = REPO_ROOT / "deploy" / "ci"
GITHUB = sorted((CI / "github").glob("*.yml"))
GITLAB = sorted((CI / "gitlab").glob("*.yml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def shell_scripts(path: Path) -> list[str]:
    """The shell a template runs: each GitHub step's `run`, each GitLab job's scripts."""
    document = load(path)
    if path.parent.name == "github":
        return [step["run"] for job in document["jobs"].values() for step in job["steps"] if "run" in step]
    return [line for job in document.values() if isinstance(job, dict) and "script" in job
            for key in ("before_script", "script", "after_script") for line in job.get(key, ())]


def edgefleet_commands(path: Path) -> list[list[str]]:
    """Every `edgefleet ...` command line of a template, split as the shell would (up to `||`)."""
    commands = []
    for script in shell_scripts(path):
        for line in script.replace("\\\n", " ").splitlines():
            words = shlex.split(line.strip(), comments=True)
            if words[:1] == ["edgefleet"]:
                commands.append(words[1:words.index("||")] if "||" in words else words[1:])
    return commands


def test_the_templates_exist_for_both_forges() -> None:
    assert [p.name for p in GITHUB] == ["edgefleet-review.yml", "edgefleet-snapshot.yml"]
    assert [p.name for p in GITLAB] == ["edgefleet-review.gitlab-ci.yml"]


@pytest.mark.parametrize("path", [*GITHUB, *GITLAB], ids=lambda p: p.name)
def test_a_template_validates_against_the_published_schema(path: Path) -> None:
    if not CHECK_JSONSCHEMA.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]')")
    schema = SCHEMAS[path.parent.name]
    run = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path: Path) -> None:
    if not CHECK_JSONSCHEMA.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]')")
    broken = tmp_path / "broken.yml"
    broken.write_text((CI / "github" / "edgefleet-review.yml").read_text().replace("runs-on:", "runs_on:"))
    run = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", SCHEMAS["github"], str(broken)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1


@pytest.mark.parametrize("path", [*GITHUB, *GITLAB], ids=lambda p: p.name)
def test_every_edgefleet_command_of_a_template_exists_with_its_options(path: Path) -> None:
    commands = edgefleet_commands(path)
    assert commands, f"{path.name} runs no edgefleet command"
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for words in commands:
        name, args = words[0], words[1:]
        assert name in group.commands, f"{path.name}: `edgefleet {name}` is not a command"
        group.commands[name].make_context(name, list(args))  # raises on an unknown option or value
        shown = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
        assert shown.exit_code == 0, shown.output
        for option in (a.split("=", 1)[0] for a in args if a.startswith("--")):
            assert re.search(rf"(^|\s){re.escape(option)}\b", shown.stdout), f"{path.name}: {option}"
        if "--fail-on" in args:
            kinds = args[args.index("--fail-on") + 1].split(",")
            assert set(kinds) <= set(FAIL_ON_KINDS), f"{path.name}: --fail-on {kinds}"


def test_the_review_jobs_run_validate_then_review_on_the_fleet_path_only() -> None:
    workflow = CI / "github" / "edgefleet-review.yml"
    github = load(workflow)
    job = github["jobs"]["review"]
    assert github["on"]["pull_request"]["paths"] == [f"{job['env']['FLEET_PATH']}/**"]
    # The least permissions the comment and the status need (docs/review.md lists them).
    assert github["permissions"] == {"contents": "read", "actions": "read",
                                     "pull-requests": "write", "statuses": "write"}
    assert [c[0] for c in edgefleet_commands(workflow)] == ["validate", "review"]
    # Event data reaches the shell through the environment, never spliced into a script.
    assert not any("${{" in script for script in shell_scripts(workflow))
    review_step = next(s for s in job["steps"] if "edgefleet review" in s.get("run", ""))
    assert "secrets.GITHUB_TOKEN" in review_step["env"]["GITHUB_TOKEN"]
    assert "head.repo.full_name == github.repository" in review_step["env"]["GITHUB_TOKEN"]

    gitlab = load(CI / "gitlab" / "edgefleet-review.gitlab-ci.yml")["edgefleet-review"]
    (rule,) = gitlab["rules"]
    assert rule["changes"] == [f"{gitlab['variables']['FLEET_PATH']}/**/*"]
    assert "merge_request_event" in rule["if"]
    assert [c[0] for c in edgefleet_commands(CI / "gitlab" / "edgefleet-review.gitlab-ci.yml")] == [
        "validate", "review"]


def test_docs_review_names_what_the_templates_need() -> None:
    """docs/review.md walks through the templates: every file, variable and secret they read is
    named there, and the GitHub walk-through has its five steps."""
    doc = (REPO_ROOT / "docs" / "review.md").read_text()
    for path in (*GITHUB, *GITLAB):
        assert str(path.relative_to(REPO_ROOT)) in doc, path.name
        text = path.read_text()
        for name in set(re.findall(r"(?:vars|secrets)\.([A-Z_]+)", text)) - {"GITHUB_TOKEN"}:
            assert name in doc, f"{path.name}: {name}"
    steps = doc.split("## Enabling it in GitHub Actions, in five steps", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^(\d)\. ", steps, flags=re.M) == ["1", "2", "3", "4", "5"]
    assert "pull-requests: write" in doc and "statuses: write" in doc
