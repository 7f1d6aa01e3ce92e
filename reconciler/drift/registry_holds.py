"""Registry facts in a drift report, read off the plan's registry section
(planner/registry_rules.py). Pure.

- Holds as reasons: the (node, image) pairs a plan held back because the registry does not have
  the image (`not-in-registry`) or has no variant for the node's platform (`no-platform`);
- bytes to transfer per group and per site (`transfer`), as the plan counts them.

A pinned image held for want of a digest (`registry-unreachable`) is not a registry fact about
the image: its pairs keep the reason they would have without a registry check.
"""

from __future__ import annotations

from reconciler.drift.reasons import Reason
from reconciler.drift.report import ByteCount, Transfer
from reconciler.planner.model import Plan
from reconciler.planner.registry_rules import NO_PLATFORM, NOT_IN_REGISTRY, RegistryReport

_REASONS = {NOT_IN_REGISTRY: Reason.NOT_IN_REGISTRY, NO_PLATFORM: Reason.NO_PLATFORM}


def held_pairs(plan: Plan) -> dict[tuple[str, str], Reason]:
    """(node, committed image) -> the registry reason the plan held the pair for; empty when
    the plan was made without registry facts."""
    report = plan.registry
    if not isinstance(report, RegistryReport):
        return {}
    return {(node, hold.image): _REASONS[hold.reason] for hold in report.holds
            if hold.reason in _REASONS for node in hold.node_names}


def transfer_of(plan: Plan) -> Transfer | None:
    """The bytes the plan's new jobs move per group and site; None without registry facts."""
    report = plan.registry
    if not isinstance(report, RegistryReport):
        return None
    return Transfer(groups=[ByteCount(key=g, bytes=b) for g, b in report.bytes_by_group],
                    sites=[ByteCount(key=s, bytes=b) for s, b in report.bytes_by_site],
                    unsized_pairs=report.unsized_pairs)
