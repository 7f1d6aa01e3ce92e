"""The drift history: one compact summary row per report in an embedded SQLite file.

URL `sqlite:///var/lib/edgefleet/drift.db`: the path after `sqlite://` is the file's absolute
path. The database runs in WAL mode, so a reader (the daemon's HTTP handler, a second process)
sees whole rows while a report is appended. Every time is passed in; nothing reads the clock.
Rows older than the retention are pruned in the same transaction as each append.

The `missing` table is the missingSince memory of reconciler.drift.facts: one row per desired
(node, image) pair that was not present at the last report, with when it was first seen
missing. `append(report, missing_since=...)` replaces it in the report's own transaction, so
a restart (or a job garbage-collected in between) keeps the age of old drift, and a pair
present again is forgotten.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from reconciler.drift.aggregate import convergence
from reconciler.drift.memory import MissingSince
from reconciler.drift.report import DriftReport, GroupTrend, RevisionConvergence, Trend, TrendPoint

SCHEME: Final = "sqlite://"
DEFAULT_RETENTION: Final = timedelta(days=90)
#: The convergence a revision must reach to count as "mostly converged" in time-to-converge.
MOSTLY: Final = 95.0

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,              -- generatedAt, Unix seconds (UTC)
    revision TEXT,
    nodes INTEGER NOT NULL,
    pairs_desired INTEGER NOT NULL,
    pairs_present INTEGER NOT NULL,
    pairs_drifting INTEGER NOT NULL,
    convergence REAL NOT NULL,        -- percent
    groups TEXT NOT NULL,             -- JSON {group: {desired, present, drifting, reasons}}
    reasons TEXT NOT NULL             -- JSON {reason: drifting pairs}
);
CREATE INDEX IF NOT EXISTS reports_at ON reports (at);
CREATE TABLE IF NOT EXISTS missing (
    node TEXT NOT NULL,
    image TEXT NOT NULL,
    since INTEGER NOT NULL,           -- missingSince, Unix seconds (UTC)
    PRIMARY KEY (node, image)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One stored report summary. `groups`: {group: {desired, present, drifting, reasons}}."""

    at: datetime
    revision: str | None
    nodes: int
    pairs_desired: int
    pairs_present: int
    pairs_drifting: int
    convergence_percent: float
    groups: dict[str, dict[str, Any]]
    reasons: dict[str, int]


class HistoryError(Exception):
    """The history URL is malformed or the database cannot be opened (one line)."""


def history_path(url: str) -> Path:
    """The file of a `sqlite:///absolute/path.db` URL. Raises HistoryError for another URL."""
    if not url.startswith(SCHEME) or not url[len(SCHEME):].startswith("/") or url.endswith("/"):
        raise HistoryError(f"history URL must look like sqlite:///var/lib/edgefleet/drift.db, not {url!r}")
    return Path(url[len(SCHEME):])


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _time(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class DriftHistory:
    """An open history database. One instance per thread (sqlite3 connections are not shared)."""

    def __init__(self, url: str, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        """Open (creating when absent) the database of `url`. Raises HistoryError."""
        path = history_path(url)
        self.retention = retention
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in append).
            self._db = sqlite3.connect(path, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise HistoryError(f"cannot open drift history {path}: {error}") from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> DriftHistory:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def append(self, report: DriftReport, *,
               missing_since: Mapping[tuple[str, str], datetime] | None = None) -> int:
        """Add the summary row of `report` and prune rows older than the retention before its
        generatedAt; with `missing_since` (DriftFacts.missing_since), replace the stored
        missingSince memory by it in the same transaction. Returns the number of rows pruned."""
        s = report.summary
        groups = {
            a.key: {"desired": a.pairs_desired or 0, "present": a.pairs_present or 0,
                    "drifting": a.pairs, "reasons": a.reasons}
            for a in report.aggregates.groups
        }
        reasons = {a.key: a.pairs for a in report.aggregates.reasons}
        at = _epoch(report.generated_at)
        with self._transaction():
            self._db.execute(
                "INSERT INTO reports (at, revision, nodes, pairs_desired, pairs_present, pairs_drifting,"
                " convergence, groups, reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (at, report.revision, s.nodes, s.pairs_desired, s.pairs_present, s.pairs_drifting,
                 s.convergence_percent, orjson.dumps(groups, option=orjson.OPT_SORT_KEYS).decode(),
                 orjson.dumps(reasons, option=orjson.OPT_SORT_KEYS).decode()),
            )
            cutoff = at - int(self.retention.total_seconds())
            pruned = self._db.execute("DELETE FROM reports WHERE at < ?", (cutoff,)).rowcount
            if missing_since is not None:
                self._db.execute("DELETE FROM missing")
                epoch: dict[datetime, int] = {}  # a fleet shares a few hundred distinct times
                self._db.executemany(
                    "INSERT INTO missing (node, image, since) VALUES (?, ?, ?)",
                    ((node, image, epoch.get(since) or epoch.setdefault(since, _epoch(since)))
                     for node, image, since in MissingSince.of(missing_since).rows()))
        return int(pruned)

    def missing_since(self) -> MissingSince:
        """The stored missingSince memory: (node, image) -> first seen missing (the `previous`
        of reconciler.drift.facts.drift_facts). Empty before the first report."""
        since_of: dict[int, datetime] = {}  # a fleet shares a few hundred distinct times

        def moment(since: int) -> datetime:
            found = since_of.get(since)
            if found is None:
                found = since_of[since] = _time(since)
            return found

        return MissingSince.of((node, image, moment(since)) for node, image, since
                               in self._db.execute("SELECT node, image, since FROM missing"))

    def latest_at(self) -> datetime | None:
        """generatedAt of the newest report held (None: none yet)."""
        newest = self._db.execute("SELECT MAX(at) FROM reports").fetchone()[0]
        return _time(newest) if newest is not None else None

    def count(self) -> int:
        """Rows held."""
        return int(self._db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])

    def rows(self, *, since: datetime | None = None) -> list[HistoryRow]:
        """Every row from `since` on (all when None), oldest first."""
        cursor = self._db.execute(
            "SELECT at, revision, nodes, pairs_desired, pairs_present, pairs_drifting, convergence,"
            " groups, reasons FROM reports WHERE at >= ? ORDER BY at, id",
            (_epoch(since) if since is not None else -(2**62),))
        return [HistoryRow(at=_time(at), revision=revision, nodes=nodes, pairs_desired=desired,
                           pairs_present=present, pairs_drifting=drifting, convergence_percent=percent,
                           groups=orjson.loads(groups), reasons=orjson.loads(reasons))
                for at, revision, nodes, desired, present, drifting, percent, groups, reasons in cursor]

    def trend(self, *, now: datetime, window: timedelta = timedelta(days=30), revisions: int = 5) -> Trend:
        """Convergence and drifting pairs over `window` before `now`, overall and per group,
        and the time to converge of the last `revisions` revisions (newest first)."""
        points: list[TrendPoint] = []
        per_group: dict[str, list[TrendPoint]] = defaultdict(list)
        for row in self.rows(since=now - window):
            points.append(TrendPoint(at=row.at, revision=row.revision,
                                     convergence_percent=row.convergence_percent,
                                     pairs_drifting=row.pairs_drifting))
            for name, g in row.groups.items():
                per_group[name].append(TrendPoint(
                    at=row.at, revision=row.revision, pairs_drifting=g["drifting"],
                    convergence_percent=convergence(g["present"], g["desired"])))
        return Trend(points=points,
                     groups=[GroupTrend(group=name, points=per_group[name]) for name in sorted(per_group)],
                     revisions=self.time_to_converge(limit=revisions))

    def time_to_converge(self, *, limit: int = 5) -> list[RevisionConvergence]:
        """Per revision (newest first): its first report, the first report at >= 95 % and the
        first at 100 % (every desired pair present), counting only that revision's reports."""
        cursor = self._db.execute(
            "SELECT revision, MIN(at),"
            " MIN(CASE WHEN convergence >= ? THEN at END),"
            " MIN(CASE WHEN pairs_present >= pairs_desired THEN at END)"
            " FROM reports WHERE revision IS NOT NULL GROUP BY revision ORDER BY MIN(at) DESC, revision"
            " LIMIT ?", (MOSTLY, limit))
        result = []
        for revision, first, mostly, whole in cursor:
            result.append(RevisionConvergence(
                revision=revision, first_report_at=_time(first),
                reached95_at=_time(mostly) if mostly is not None else None,
                reached100_at=_time(whole) if whole is not None else None,
                seconds_to95=mostly - first if mostly is not None else None,
                seconds_to100=whole - first if whole is not None else None))
        return result
