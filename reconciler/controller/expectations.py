"""Write expectations: what a cycle's own writes must look like in the watch caches before the
next cycle may plan from them (client-go's ReplicaSet "expectations", by object name).

A job this replica created must be in the cache, a job it deleted must be gone from it, an
inventory it wrote must show a resourceVersion other than the one it was planned from. Until
then the cache lags behind the server, and planning from it could create the same job again
(or replace a job it still believes stuck). Pure bookkeeping: time is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

#: An expectation not met after this long is dropped (someone else changed the object: the
#: caller plans from whatever the cache then shows, as client-go does after its 5 minutes).
EXPECTATION_TTL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Expected:
    """One expectation: `kind` "job" or "inventory"; for a job, `present`; for an inventory,
    `not_version` is the resourceVersion planned from ("" when it did not exist)."""

    kind: str
    name: str
    present: bool = True
    not_version: str = ""
    since: float = 0.0


class Expectations:
    """The expectations of one replica, by (kind, name); the latest write of an object wins."""

    def __init__(self, ttl: float = EXPECTATION_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._pending: dict[tuple[str, str], Expected] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def expect_jobs(self, *, created: Iterable[str], deleted: Iterable[str], at: float) -> None:
        """After an apply: these jobs exist now, those are gone."""
        for name in created:
            self._pending[("job", name)] = Expected("job", name, True, since=at)
        for name in deleted:
            self._pending[("job", name)] = Expected("job", name, False, since=at)

    def expect_inventories(self, written: Iterable[str], planned_from: Mapping[str, str], *,
                           at: float) -> None:
        """After an apply: these inventories moved past the resourceVersion planned from."""
        for node in written:
            self._pending[("inventory", node)] = Expected(
                "inventory", node, not_version=planned_from.get(node, ""), since=at)

    def unmet(self, job_present: Callable[[str], bool],
              inventory_version: Callable[[str], str | None], *, now: float) -> list[Expected]:
        """The expectations the caches do not meet yet (met and expired ones are forgotten)."""
        left: list[Expected] = []
        for key, expected in list(self._pending.items()):
            if _met(expected, job_present, inventory_version) or now - expected.since >= self._ttl:
                del self._pending[key]
            else:
                left.append(expected)
        return left


def _met(expected: Expected, job_present: Callable[[str], bool],
         inventory_version: Callable[[str], str | None]) -> bool:
    if expected.kind == "job":
        return job_present(expected.name) == expected.present
    version = inventory_version(expected.name)
    return version is not None and version != expected.not_version


def describe(unmet: list[Expected], limit: int = 3) -> str:
    """'job ef-a-1 to appear, inventory edge-1 to change (+2 more)': for log lines."""
    def one(e: Expected) -> str:
        if e.kind == "job":
            return f"job {e.name} to {'appear' if e.present else 'go'}"
        return f"inventory {e.name} to change"
    more = f" (+{len(unmet) - limit} more)" if len(unmet) > limit else ""
    return ", ".join(one(e) for e in unmet[:limit]) + more
