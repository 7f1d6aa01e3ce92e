"""The DriftReport (`kind: DriftReport`): a frozen msgspec value, the input of every format.

The report keeps what a reader acts on, not every pair: the summary counts every desired pair,
the aggregates (per group, site, image and reason) count every drifting pair, and `pairs` lists
the oldest drifting pairs only, up to a cap. Times are timezone-aware UTC datetimes, written as
RFC 3339. `DriftPair` is the input row that the planner side produces, one per desired pair
that is not present (see `reconciler.drift.aggregate.build_report`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

import msgspec

from reconciler.drift.reasons import Reason

API_VERSION: Final = "edgefleet.io/v1alpha1"
KIND: Final = "DriftReport"
#: The site of a node without the configured site label (label values cannot hold parentheses).
UNLABELLED: Final = "(unlabelled)"


class _Value(msgspec.Struct, frozen=True, rename="camel"):
    """Report values: immutable, camelCase in JSON, every field written (null when unknown).
    Subclasses pass kw_only=True (msgspec applies it per class)."""


class PairDetail(_Value, frozen=True, kw_only=True, omit_defaults=True):
    """What is known about the attempts of one pair (backing-off and failed pairs)."""

    attempt: int | None = None  # failed attempts so far
    attempt_limit: int | None = None
    next_retry_at: datetime | None = None
    last_error: str | None = None


class DriftPair(msgspec.Struct, frozen=True, gc=False):
    """INPUT ROW: one desired (node, image) pair that is not present, and why.

    `since` is the pair's missingSince: when edgefleet first saw it desired and not present
    (recorded in EdgeNodeInventory, so it survives restarts and job garbage collection).
    Positional and untracked by the garbage collector: a fleet has millions of these.
    """

    node: str
    group: str  # the group that owns the pair (the one whose secret and policy win)
    image: str  # normalized reference
    reason: Reason
    since: datetime
    detail: PairDetail | None = None


class GroupTotals(msgspec.Struct, frozen=True):
    """INPUT: desired and present pairs of one group, from the plan's per-group counts."""

    group: str
    pairs_desired: int
    pairs_present: int
    suspended: bool = False


class DriftRow(_Value, frozen=True, kw_only=True):
    """One drifting pair as the report lists it."""

    node: str
    group: str
    site: str
    image: str
    reason: Reason
    since: datetime
    detail: PairDetail | None = None


class Summary(_Value, frozen=True, kw_only=True):
    """Fleet totals. pairsDesired = pairsPresent + pairsDrifting + pairsSettling."""

    nodes: int
    nodes_drifting: int
    pairs_desired: int
    pairs_present: int
    pairs_drifting: int  # missing for at least minAge
    pairs_settling: int  # missing for less than minAge: normal rollout, not yet drift
    convergence_percent: float  # pairsPresent / pairsDesired, 100 when nothing is desired
    oldest_since: datetime | None = None
    pairs_listed: int  # rows in `pairs` (the oldest drifting pairs)


class Aggregate(_Value, frozen=True, kw_only=True, omit_defaults=True):
    """Drifting pairs of one group, site, image or reason. Desired/present: groups only (left
    out elsewhere), reasons: all but the per-reason rows."""

    key: str
    pairs: int
    nodes: int  # distinct nodes with a drifting pair
    failed_nodes: int  # distinct nodes with a pair whose attempts are exhausted
    oldest_since: datetime | None = None  # None: a group without drift
    reasons: dict[str, int] = {}
    pairs_desired: int | None = None
    pairs_present: int | None = None
    convergence_percent: float | None = None
    suspended: bool = False


class AgeBucket(_Value, frozen=True, kw_only=True):
    """Drifting pairs whose age (now - since) is below `upToSeconds` (null: no upper bound)."""

    label: str
    up_to_seconds: int | None = None
    pairs: int


class Aggregates(_Value, frozen=True, kw_only=True):
    """Every drifting pair counted four ways, worst first: oldest drift, then most failed
    nodes, then most pairs, then by key."""

    groups: list[Aggregate] = []
    sites: list[Aggregate] = []
    images: list[Aggregate] = []
    reasons: list[Aggregate] = []


class TrendPoint(_Value, frozen=True, kw_only=True):
    """One past report: when, which revision, how converged."""

    at: datetime
    revision: str | None = None
    convergence_percent: float
    pairs_drifting: int


class GroupTrend(_Value, frozen=True, kw_only=True):
    """The points of one group over time."""

    group: str
    points: list[TrendPoint] = []


class RevisionConvergence(_Value, frozen=True, kw_only=True):
    """How long a revision took to converge, from its first report (a proxy for the commit)."""

    revision: str
    first_report_at: datetime
    reached95_at: datetime | None = None
    reached100_at: datetime | None = None
    seconds_to95: int | None = None
    seconds_to100: int | None = None


class Trend(_Value, frozen=True, kw_only=True):
    """The history of reports (reconciler.drift.history), oldest point first."""

    points: list[TrendPoint] = []
    groups: list[GroupTrend] = []
    revisions: list[RevisionConvergence] = []  # newest revision first


class ByteCount(_Value, frozen=True, kw_only=True):
    """Bytes to transfer for one group or site."""

    key: str
    bytes: int


class Transfer(_Value, frozen=True, kw_only=True):
    """What the plan's new jobs move, from the registry's sizes (made with registry facts:
    docs/registry.md): compressed layer bytes per group and per site (the report's site label)."""

    groups: list[ByteCount] = []
    sites: list[ByteCount] = []
    unsized_pairs: int = 0  # planned pairs whose size the registry did not give


class DriftSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How a report is cut: site label key, minimum age of drift, rows listed."""

    site_label: str = "topology.kubernetes.io/zone"
    min_age_seconds: int = 3600
    max_rows: int = 1000


class DriftReport(_Value, frozen=True, kw_only=True):
    """`kind: DriftReport`: the drift of a fleet at `generatedAt` against `revision`."""

    api_version: Literal["edgefleet.io/v1alpha1"] = API_VERSION
    kind: Literal["DriftReport"] = KIND
    generated_at: datetime
    revision: str | None = None
    site_label: str
    min_age_seconds: int
    summary: Summary
    aggregates: Aggregates
    age_histogram: list[AgeBucket] = []
    pairs: list[DriftRow] = []
    trend: Trend = msgspec.field(default_factory=Trend)
    transfer: Transfer | None = None  # with registry facts only (registry_holds.transfer_of)

    @property
    def drifting(self) -> bool:
        """True when some pair has been missing for at least minAge (exit code 2 of `drift`)."""
        return self.summary.pairs_drifting > 0
