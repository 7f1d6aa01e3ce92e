"""The rollout keys of a NodeGroupImages spec (and of FleetConfig spec.defaults) as pydantic
models: `rollout` (waves, canary, failure budget, pause), `windows` and `bandwidth`
(docs/rollout.md). They check shape only; `rollout_policy_of` turns them into the frozen
`manifests.rollout_policy.RolloutPolicy` the planner reads.

This module stands apart from models.py (which imports it) so that the rollout vocabulary is
read in one place; it shares models.py's conventions: camelCase keys, unknown keys are errors.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from reconciler.manifests import k8snames
from reconciler.manifests.fleet import LabelRequirement, SelectorOperator
from reconciler.manifests.quoting import quote
from reconciler.manifests.rollout_policy import Bandwidth, RolloutPolicy, Wave, Window
from reconciler.manifests.schedule import check_cron, check_duration, check_timezone, duration_seconds

_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)%")


def _share(text: str, what: str) -> Decimal:
    found = _PERCENT.fullmatch(text)
    if found is None:
        raise ValueError(f"{what} {quote(text)} must be a percentage like 10% (or a node count)")
    share = Decimal(found.group(1))
    if not 0 <= share <= 100:
        raise ValueError(f"{what} {quote(text)} must be between 0% and 100%")
    return share / 100


def _check_wave_share(value: int | str) -> int | str:
    if isinstance(value, str) and _share(value, "wave nodes") == 0:
        raise ValueError(f"wave nodes {quote(value)} must be more than 0%")
    return value


def _check_budget(value: str) -> str:
    _share(value, "failureBudget")
    return value


def _checked_label(kind: str) -> AfterValidator:
    problem_of = k8snames.label_key_problem if kind == "key" else k8snames.label_value_problem

    def check(value: str) -> str:
        problem = problem_of(value)
        if problem is not None:
            raise ValueError(f"invalid label {kind} {quote(value)}: {problem}")
        return value

    return AfterValidator(check)


WaveSize = Annotated[
    Annotated[int, Field(ge=1)] | Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?%$")],
    AfterValidator(_check_wave_share),
    Field(description="Cumulative size after this wave: a node count, or a share like 10%."),
]
Percent = Annotated[str, AfterValidator(_check_budget), Field(pattern=r"^[0-9]+(\.[0-9]+)?%$")]
RolloutDuration = Annotated[str, AfterValidator(check_duration),
                            Field(pattern=r"^(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$", min_length=2)]
LabelKey = Annotated[str, _checked_label("key")]
LabelValue = Annotated[str, _checked_label("value")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, alias_generator=to_camel,
                              populate_by_name=False,
                              field_title_generator=lambda name, _info: to_camel(name))


class WaveSpec(_Model):
    """One wave: how many of the group's nodes hold the new images once it is done."""

    nodes: WaveSize


class CanaryRequirement(_Model):
    """One metav1.LabelSelectorRequirement of the canary selector."""

    key: LabelKey
    operator: SelectorOperator
    values: list[LabelValue] | None = None

    @model_validator(mode="after")
    def _values_match_operator(self) -> CanaryRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs a non-empty values list")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class CanarySelector(_Model):
    """The canary nodes, as a metav1.LabelSelector: every matchLabels pair AND every
    matchExpressions requirement must hold. At least one of the two must be given: an empty
    selector would make every node a canary."""

    match_labels: dict[LabelKey, LabelValue] | None = None
    match_expressions: list[CanaryRequirement] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> CanarySelector:
        if not self.match_labels and not self.match_expressions:
            raise ValueError("canary.selector needs matchLabels or matchExpressions "
                             "(an empty selector would make every node a canary)")
        return self


class CanarySpec(_Model):
    selector: CanarySelector


class RolloutSpec(_Model):
    """Waves, an optional canary wave 0, the failure budget and the soak time between waves."""

    waves: Annotated[list[WaveSpec], Field(min_length=1, max_length=20)]
    canary: CanarySpec | None = None
    failure_budget: Percent = "100%"
    pause_after_wave: RolloutDuration = "0s"

    @model_validator(mode="after")
    def _ordered(self) -> RolloutSpec:
        counts = [w.nodes for w in self.waves if isinstance(w.nodes, int)]
        shares = [_share(w.nodes, "wave nodes") for w in self.waves if isinstance(w.nodes, str)]
        if counts != sorted(counts) or shares != sorted(shares):
            raise ValueError("rollout.waves must grow: each wave's nodes at least the previous one's")
        return self


class WindowSpec(_Model):
    """A maintenance window: opens at each `schedule` firing in `timezone`, lasts `duration`."""

    schedule: Annotated[str, AfterValidator(check_cron),
                        Field(description="Five-field cron expression: when the window opens.")]
    duration: RolloutDuration
    timezone: Annotated[str, AfterValidator(check_timezone), Field(description="IANA time zone.")] = "UTC"

    @model_validator(mode="after")
    def _long_enough(self) -> WindowSpec:
        if duration_seconds(self.duration) < 60:
            raise ValueError(f"window duration {quote(self.duration)} must be at least 1m")
        return self


class BandwidthSpec(_Model):
    """At most this many nodes of one site (nodes sharing `siteLabel`'s value) pull at once."""

    max_concurrent_pulls_per_site: Annotated[int, Field(ge=1, le=100000)]
    site_label: LabelKey = "topology.kubernetes.io/zone"


def rollout_policy_of(rollout: RolloutSpec | None, windows: list[WindowSpec] | None,
                      bandwidth: BandwidthSpec | None) -> RolloutPolicy | None:
    """The frozen policy of validated keys; None when none of the three is set."""
    if rollout is None and not windows and bandwidth is None:
        return None
    waves = tuple(Wave(count=w.nodes) if isinstance(w.nodes, int) else Wave(share=_share(w.nodes, "wave"))
                  for w in (rollout.waves if rollout else ()))
    return RolloutPolicy(
        waves=waves,
        canary=tuple(sorted((rollout.canary.selector.match_labels or {}).items()))
        if rollout is not None and rollout.canary is not None else (),
        canary_expressions=tuple(sorted(
            LabelRequirement(e.key, e.operator, tuple(sorted(set(e.values or ()))))
            for e in rollout.canary.selector.match_expressions or ()))
        if rollout is not None and rollout.canary is not None else (),
        failure_budget=_share(rollout.failure_budget, "failureBudget") if rollout else Decimal(1),
        pause_seconds=duration_seconds(rollout.pause_after_wave) if rollout else 0,
        windows=tuple(Window(w.schedule, duration_seconds(w.duration), w.timezone) for w in windows or ()),
        bandwidth=Bandwidth(bandwidth.max_concurrent_pulls_per_site, bandwidth.site_label)
        if bandwidth is not None else None,
    )
