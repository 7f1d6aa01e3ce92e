"""The short variant of `make chaos`: the same runs on 30 simulated nodes with light faults,
and the promise of the suite's exit code (a zero that is not 0 fails it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.__main__ import main, must_be_zero, table
from chaos.fuzz import fuzz
from chaos.kills import sigkill_run
from chaos.replicas import replicas_run
from chaos.runs import FaultProfile, bad_commits_run, faults_run

SHORT_FAULTS = FaultProfile(error_rate=0.05, throttle_rate=0.03, latency=0.01,
                            drop_watch_after_seconds=2.0, gone_on_resume=0.3)


def zeros_not_zero(figures: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in figures.items() if must_be_zero(name) and value != 0}


@pytest.mark.timeout(300)
def test_converging_under_api_faults_creates_no_duplicate_and_deletes_nothing_needed(tmp_path: Path) -> None:
    figures = faults_run(tmp_path, nodes=30, speed=120, profile=SHORT_FAULTS, timeout=180)
    assert figures["faults: converged (1 = yes)"] == 1, figures
    assert figures["faults: injected 5xx / 429 / dropped watches / 410"] > 0, figures  # faults hit
    assert figures["faults: jobs created"] > 0
    assert zeros_not_zero(figures) == {}, figures


@pytest.mark.timeout(300)
def test_bad_commits_in_a_row_keep_the_last_good_revision_and_delete_nothing(tmp_path: Path) -> None:
    figures = bad_commits_run(tmp_path, nodes=30, speed=120, timeout=120)
    assert figures["bad commits: refused (of 4)"] == 4, figures
    assert figures["bad commits: last good kept (of 4)"] == 4, figures
    assert zeros_not_zero(figures) == {}, figures


@pytest.mark.timeout(300)
def test_sigkill_at_each_of_the_first_writes_then_restart_loses_nothing(tmp_path: Path) -> None:
    figures = sigkill_run(tmp_path, nodes=30, kills=3, timeout=90)
    assert figures["sigkill: kills at a write"] == 3, figures
    assert zeros_not_zero(figures) == {}, figures


@pytest.mark.timeout(300)
def test_three_replicas_survive_their_leaders_being_killed_without_double_writes(tmp_path: Path) -> None:
    figures = replicas_run(tmp_path, nodes=30, replicas=3, timeout=90)
    assert figures["3 replicas: leaders killed at a write"] == 2, figures
    # The takeover time is a figure of `make chaos`; a test never asserts wall-clock time.
    timing = "3 replicas: takeover missing or beyond lease + retry, not converged"
    assert zeros_not_zero({k: v for k, v in figures.items() if k != timing}) == {}, figures


def test_fuzzed_inputs_raise_no_traceback() -> None:
    figures = fuzz(60)
    assert figures["fuzz: cases"] == 180
    assert zeros_not_zero(figures) == {}, figures


def test_fuzz_cases_spread_over_two_processes_all_run() -> None:
    figures = fuzz(41, seed=3, workers=2)  # uneven shares, a seed of their own per chunk
    assert figures["fuzz: cases"] == 123
    assert zeros_not_zero(figures) == {}, figures


def test_a_zero_that_is_not_zero_is_marked_and_fails_the_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = {"faults: duplicate jobs": 1.0, "faults: jobs created": 7.0, "fuzz: tracebacks": 0.0}
    text = table(figures)
    assert "| faults: duplicate jobs | 1 | **NOT 0** |" in text
    assert "| faults: jobs created | 7 |  |" in text and "| fuzz: tracebacks | 0 | yes |" in text
    monkeypatch.setattr("chaos.__main__.run", lambda **_: figures)
    assert main(["--short"]) == 1
    monkeypatch.setattr("chaos.__main__.run", lambda **_: {**figures, "faults: duplicate jobs": 0.0})
    assert main(["--short"]) == 0
