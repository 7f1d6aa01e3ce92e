"""The rollout keys: valid ones resolve into the group's policy (group over FleetConfig
defaults, key by key); invalid ones are one-line errors at file:line:col."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.manifests import load_fleet
from reconciler.manifests.fleet import LabelRequirement
from reconciler.manifests.rollout_policy import Bandwidth, Wave, Window

from .conftest import yaml

CONFIG = yaml("""
    apiVersion: edgefleet.io/v1alpha1
    kind: FleetConfig
    spec:
      defaults:
        rollout:
          waves: [{nodes: 1%}, {nodes: 10%}, {nodes: 100%}]
          canary: {selector: {matchLabels: {ring: canary}}}
          failureBudget: 2%
          pauseAfterWave: 30m
        windows:
          - {schedule: "0 1 * * *", duration: 4h, timezone: Asia/Shanghai}
        bandwidth: {maxConcurrentPullsPerSite: 20}
""")


def _group(extra: str) -> bytes:
    return yaml("""
        apiVersion: edgefleet.io/v1alpha1
        kind: NodeGroupImages
        metadata: {name: shop}
        spec:
          nodes: {nodeGroup: shop-berlin}
          images: [nginx]
    """) + extra.encode()


def test_defaults_apply_and_a_group_replaces_one_key_at_a_time() -> None:
    fleet = load_fleet({"f.yaml": CONFIG, "g.yaml": _group("  windows: []\n")}).fleet
    assert fleet is not None
    policy = fleet.group("shop").rollout
    assert policy is not None
    assert policy.waves == (Wave(share=Decimal("0.01")), Wave(share=Decimal("0.1")), Wave(share=Decimal(1)))
    assert policy.canary == (("ring", "canary"),)
    assert (policy.failure_budget, policy.pause_seconds) == (Decimal("0.02"), 1800)
    assert policy.windows == ()  # the group's empty list overrides the default window
    assert policy.bandwidth == Bandwidth(20, "topology.kubernetes.io/zone")
    inherited = load_fleet({"f.yaml": CONFIG, "g.yaml": _group("")}).fleet
    assert inherited is not None and inherited.group("shop").rollout is not None
    assert inherited.group("shop").rollout.windows == (Window("0 1 * * *", 4 * 3600, "Asia/Shanghai"),)


def test_a_group_without_rollout_keys_has_no_policy() -> None:
    fleet = load_fleet({"g.yaml": _group("")}).fleet
    assert fleet is not None and fleet.group("shop").rollout is None


@pytest.mark.parametrize(("extra", "expected"), [
    pytest.param("  rollout: {waves: [{nodes: 10%}, {nodes: 5%}]}\n",
                 "g.yaml:7:12: rollout.waves must grow: each wave's nodes at least the "
                 "previous one's", id="waves-shrink"),
    pytest.param("  rollout: {waves: [{nodes: 0%}]}\n",
                 "g.yaml:7:29: wave nodes \"0%\" must be more than 0%", id="empty-wave"),
    pytest.param("  rollout: {waves: [{nodes: 1}], failureBudget: 120%}\n",
                 "g.yaml:7:49: failureBudget \"120%\" must be between 0% and 100%", id="budget"),
    pytest.param("  rollout: {waves: [{nodes: 1}], pauseAfterWave: soon}\n",
                 "g.yaml:7:50: duration \"soon\" must look like 1h, 30m", id="pause"),
    pytest.param("  windows: [{schedule: '0 1 * *', duration: 4h}]\n",
                 "g.yaml:7:24: schedule \"0 1 * *\" is not a cron expression", id="cron"),
    pytest.param("  windows: [{schedule: '0 1 * * *', duration: 4h, timezone: Mars/Base}]\n",
                 "g.yaml:7:61: timezone \"Mars/Base\" is not an IANA time zone", id="timezone"),
    pytest.param("  bandwidth: {maxConcurrentPullsPerSite: 0}\n",
                 "g.yaml:7:42: spec.bandwidth.maxConcurrentPullsPerSite must be >= 1, not 0",
                 id="bandwidth"),
])
def test_invalid_rollout_keys_are_errors_at_their_line(extra: str, expected: str) -> None:
    errors = [str(e) for e in load_fleet({"g.yaml": _group(extra)}).errors]
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_a_canary_selector_takes_match_expressions() -> None:
    extra = ("  rollout:\n    waves: [{nodes: 100%}]\n    canary:\n      selector:\n"
             "        matchLabels: {tier: shop}\n"
             "        matchExpressions:\n"
             "          - {key: ring, operator: In, values: [early, canary, canary]}\n"
             "          - {key: frozen, operator: DoesNotExist}\n")
    fleet = load_fleet({"g.yaml": _group(extra)}).fleet
    assert fleet is not None
    policy = fleet.group("shop").rollout
    assert policy is not None and policy.has_canary
    assert policy.canary == (("tier", "shop"),)
    assert policy.canary_expressions == (LabelRequirement("frozen", "DoesNotExist"),
                                         LabelRequirement("ring", "In", ("canary", "early")))


@pytest.mark.parametrize(("canary", "expected"), [
    pytest.param("{selector: {}}", "g.yaml:7:56: canary.selector needs matchLabels or "
                 "matchExpressions", id="empty-selector"),
    pytest.param("{selector: {matchExpressions: [{key: ring, operator: In}]}}",
                 "g.yaml:7:76: operator In needs a non-empty values list", id="in-without-values"),
    pytest.param("{selector: {matchExpressions: [{key: ring, operator: Exists, values: [a]}]}}",
                 "g.yaml:7:76: operator Exists takes no values", id="exists-with-values"),
    pytest.param("{selector: {matchExpressions: [{key: ring, operator: Near}]}}",
                 "g.yaml:7:", id="unknown-operator"),
])
def test_invalid_canary_selectors_are_errors_at_their_line(canary: str, expected: str) -> None:
    extra = f"  rollout: {{waves: [{{nodes: 100%}}], canary: {canary}}}\n"
    errors = [str(e) for e in load_fleet({"g.yaml": _group(extra)}).errors]
    assert len(errors) == 1 and errors[0].startswith(expected), errors
