"""`edgefleet run` arguments: durations, and clear one-line errors when it cannot start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from reconciler.cli.run import parse_duration
from tests.controller.conftest import REPO_ROOT


@pytest.mark.parametrize(
    ("text", "seconds"),
    [pytest.param("90", 90.0, id="plain-seconds"),
     pytest.param("60s", 60.0, id="seconds"),
     pytest.param("10m", 600.0, id="minutes"),
     pytest.param("1h30m", 5400.0, id="hours-and-minutes"),
     pytest.param("1500ms", 1.5, id="milliseconds"),
     pytest.param("2.5s", 2.5, id="fraction")],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text, "--interval") == seconds


@pytest.mark.parametrize("text", [pytest.param("soon", id="word"), pytest.param("10x", id="unit"),
                                  pytest.param("0s", id="zero"), pytest.param("1m junk", id="trailing")])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text, "--interval")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", "run", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_missing_secret_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = run("--repo", "git://127.0.0.1:9/x.git", "--webhook-secret-file", str(tmp_path / "absent"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "cannot read the webhook secret" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_interval_is_a_usage_error(tmp_path: Path) -> None:
    done = run("--repo", "git://127.0.0.1:9/x.git", "--interval", "soon")
    assert done.returncode == 2
    assert "--interval" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_listen_address_is_one_line_and_exit_1() -> None:
    done = run("--repo", "git://127.0.0.1:9/x.git", "--listen", "nonsense")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: --listen 'nonsense': expected HOST:PORT, e.g. 127.0.0.1:8080"]
