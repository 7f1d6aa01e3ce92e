"""The SQLite drift history on a real file: rows, retention, a reader while writing, and the
missingSince memory surviving a restart (close and reopen) between planner runs."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.drift.history import DriftHistory, HistoryError, history_path
from tests.drift.conftest import NOW, pair, report
from tests.drift.test_facts import NGINX, REDIS, facts_of, node
from tests.fleet_builders import NOW as PLAN_NOW


def url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'state' / 'drift.db'}"


def test_missing_since_survives_a_restart_and_forgets_present_pairs(tmp_path: Path) -> None:
    first = facts_of([node("edge-a"), node("edge-b")])
    with DriftHistory(url(tmp_path)) as history:
        assert history.missing_since() == {}
        history.append(report(list(first.pairs), now=PLAN_NOW), missing_since=first.missing_since)
    # A new process: the memory comes back from the file, so old drift keeps its age.
    later = PLAN_NOW + timedelta(hours=5)
    with DriftHistory(url(tmp_path)) as history:
        previous = history.missing_since()
        assert previous == first.missing_since
        second = facts_of([node("edge-a", (NGINX, REDIS)), node("edge-b")], now=later, previous=previous)
        history.append(report(list(second.pairs), now=later), missing_since=second.missing_since)
    with DriftHistory(url(tmp_path)) as history:
        assert history.missing_since() == {("edge-b", NGINX): PLAN_NOW, ("edge-b", REDIS): PLAN_NOW}
        assert history.count() == 2
    assert {p.since for p in second.pairs} == {PLAN_NOW}


def test_a_report_without_memory_leaves_the_stored_memory_alone(tmp_path: Path) -> None:
    first = facts_of([node("edge-a")])
    with DriftHistory(url(tmp_path)) as history:
        history.append(report(list(first.pairs)), missing_since=first.missing_since)
        history.append(report([], now=NOW + timedelta(hours=1)))
        assert history.missing_since() == first.missing_since


def test_retention_prunes_old_rows_on_append(tmp_path: Path) -> None:
    with DriftHistory(url(tmp_path), retention=timedelta(days=7)) as history:
        for days in (30, 10, 6, 0):
            history.append(report([pair("edge-001", NGINX)], now=NOW - timedelta(days=days)))
        assert [row.at for row in history.rows()] == [NOW - timedelta(days=d) for d in (6, 0)]


def test_a_reader_sees_whole_reports_while_another_connection_writes(tmp_path: Path) -> None:
    writes = 40
    with DriftHistory(url(tmp_path)) as history:
        history.append(report([], now=NOW))
    errors: list[BaseException] = []
    seen: list[int] = []
    sizes: list[int] = []

    def write() -> None:
        try:
            with DriftHistory(url(tmp_path)) as writer:
                for i in range(1, writes + 1):
                    memory = {(f"edge-{j:03d}", NGINX): NOW for j in range(i)}
                    writer.append(report([pair("edge-001", NGINX)], now=NOW + timedelta(minutes=i)),
                                  missing_since=memory)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    with DriftHistory(url(tmp_path)) as reader:
        while thread.is_alive():
            rows = reader.count()
            memory = reader.missing_since()
            # The memory of report i is edge-000 .. edge-(i-1): never a half-replaced table.
            assert set(memory) == {(f"edge-{j:03d}", NGINX) for j in range(len(memory))}
            seen.append(rows)
            sizes.append(len(memory))
    thread.join(timeout=60)
    assert not errors
    assert seen == sorted(seen) and sizes == sorted(sizes)
    with DriftHistory(url(tmp_path)) as history:
        assert history.count() == writes + 1
        assert len(history.missing_since()) == writes


def test_a_bad_url_or_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"sqlite:///var/lib/edgefleet/drift\.db"):
        history_path("postgres://db/drift")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HistoryError, match="cannot open drift history"):
        DriftHistory(f"sqlite://{blocker / 'drift.db'}")


def test_the_file_is_plain_sqlite(tmp_path: Path) -> None:
    first = facts_of([node("edge-a")])
    with DriftHistory(url(tmp_path)) as history:
        history.append(report(list(first.pairs)), missing_since=first.missing_since)
    with sqlite3.connect(history_path(url(tmp_path))) as db:
        assert db.execute("SELECT COUNT(*) FROM missing").fetchone()[0] == 2
