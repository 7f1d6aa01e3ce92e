"""One reconcile cycle, end to end: revision -> manifests -> cluster -> plan -> apply -> record.

`edgefleet sync` calls `sync_once` once; the daemon calls it again and again, handing back the
`in_force` revision of the previous result as `last_good`, so a broken commit never changes the
cluster. Outcomes use one small vocabulary, mapped to exit codes and wake-ups in outcome.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from reconciler.cycle.outcome import (
    CycleResult,
    GoodRevision,
    Outcome,
    classify,
    outcome_of_apply,
)
from reconciler.kube.applying import ApplyReport
from reconciler.kube.errors import KubeError
from reconciler.manifests import load_fleet
from reconciler.manifests.diagnostics import LoadResult
from reconciler.manifests.fleet import Fleet
from reconciler.observed import ClusterFacts
from reconciler.observed.registry import ImageFacts
from reconciler.planner import EmptyDesiredState, Plan, PlannerSettings, plan_revision
from reconciler.planner.registry_rules import registry_lines
from reconciler.planner.secrets import missing_secrets, secret_refs
from reconciler.source import FleetFiles, SourceError


class Cluster(Protocol):
    """The cluster as a cycle sees it: `kube.LiveCluster`, or a function-shaped fake in tests."""

    def observe(self, *, secrets: Iterable[str] = ()) -> ClusterFacts: ...

    def apply(self, plan: Plan, *, dry_run: bool) -> ApplyReport: ...


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """Everything a cycle needs besides its inputs: explicit, frozen, never a module global."""

    planner: PlannerSettings = field(default_factory=PlannerSettings)
    dry_run: bool = False  # plan and send server-side dry runs: persist nothing
    # Registry facts per committed image (docs/registry.md; `--registry`): None plans without.
    registry: Callable[[Fleet], Mapping[str, ImageFacts]] | None = None


def utc_now() -> datetime:
    """The wall clock: the default `now` of a cycle (the embedded cluster passes its own)."""
    return datetime.now(UTC)


def sync_once(*, read_revision: Callable[[], FleetFiles], cluster: Cluster, settings: SyncSettings,
              last_good: GoodRevision | None = None, now: Callable[[], datetime] = utc_now,
              record: Callable[[CycleResult], None] | None = None,
              load: Callable[[Mapping[str, bytes]], LoadResult] = load_fleet,
              plan_step: Callable[..., Plan] = plan_revision) -> CycleResult:
    """Run one cycle; return its result, after `record(result)` has seen it on every exit path.

    Reads the fleet (`read_revision`) and the cluster (`cluster.observe`), plans at `now()`,
    applies (`cluster.apply`; server-side dry runs with `settings.dry_run`). Returns early and
    writes nothing: STALLED when the revision does not load or is refused by the planner (the
    result keeps `last_good` in force), WAITING when the API server stays busy (429; see
    `retry_after`), TRANSIENT when git or the API server is unreachable. A group naming a pull
    secret the cluster lacks gets no jobs: the others are applied, and the cycle is STALLED
    with one error per (group, secret) (planner/secrets.py). Any other exception is
    a bug: `record` sees a TRANSIENT result naming it, then it propagates. `load` is
    `load_fleet` or one that remembers results by content (the daemon's FleetMemo); `plan_step`
    is `plan_revision` or one that reuses an idle cycle's plan (the daemon's PlanMemo).
    """
    result = CycleResult(Outcome.TRANSIENT, "cycle interrupted", now(), in_force=last_good)
    try:
        files = read_revision()
        result = replace(result, revision=files.revision)
        loaded = load(files.files)
        if loaded.errors or loaded.fleet is None:
            # A human must fix the commit; the last good revision stays in force, untouched.
            errors = tuple(str(e) for e in loaded.errors)
            result = replace(result, outcome=Outcome.STALLED, errors=errors, message=errors[0])
        else:
            facts = cluster.observe(secrets=secret_refs(loaded.fleet))
            if settings.registry is not None:  # never raises: an unreachable registry is a warning
                facts = replace(facts, registry=settings.registry(loaded.fleet))
            the_plan = plan_step(loaded.fleet, facts, now=now(), revision=files.revision,
                                 settings=settings.planner,
                                 rollouts=getattr(cluster, "rollouts", None))  # docs/rollout.md
            result = replace(result, plan=the_plan, warnings=tuple(str(w) for w in loaded.warnings)
                             + registry_lines(the_plan))
            applied = cluster.apply(the_plan, dry_run=settings.dry_run)
            outcome, message, retry_after = outcome_of_apply(the_plan, applied)
            in_force = last_good if settings.dry_run else GoodRevision(files.revision, loaded.fleet)
            result = replace(result, applied=applied, outcome=outcome, message=message,
                             retry_after=retry_after, in_force=in_force)
            if missing := missing_secrets(loaded.fleet, facts.secrets):
                # The other groups were applied; these wait for a human to create the secret.
                result = replace(result, errors=tuple(str(m) for m in missing))
                if result.ok:
                    result = replace(result, outcome=Outcome.STALLED, message=(
                        f"{len(missing)} pull secret(s) missing, their groups get no jobs; "
                        f"{message.removeprefix('converged; ')}"))
    except EmptyDesiredState as error:
        # A revision that would garbage-collect everything: as broken as an invalid one.
        result = replace(result, outcome=Outcome.STALLED, errors=(str(error),), message=str(error))
    except (KubeError, SourceError) as error:
        outcome, retry_after = classify(error) if isinstance(error, KubeError) else (Outcome.TRANSIENT, None)
        result = replace(result, outcome=outcome, message=str(error), retry_after=retry_after)
    except Exception as error:
        result = replace(result, message=f"internal error: {type(error).__name__}: {error}")
        raise
    finally:
        result = replace(result, finished_at=now())
        if record is not None:
            record(result)
    return result
