"""Write expectations as bookkeeping: met, unmet, superseded and expired (time is a parameter)."""

from __future__ import annotations

from reconciler.controller.expectations import Expectations, describe


def test_created_and_deleted_jobs_are_expected_until_the_cache_shows_them() -> None:
    expectations = Expectations(ttl=300)
    expectations.expect_jobs(created=["ef-a", "ef-b"], deleted=["ef-old"], at=0)
    cache = {"ef-a", "ef-old"}
    unmet = expectations.unmet(lambda n: n in cache, lambda n: None, now=1)
    assert sorted((e.name, e.present) for e in unmet) == [("ef-b", True), ("ef-old", False)]
    assert describe(unmet) == "job ef-b to appear, job ef-old to go"
    cache = {"ef-a", "ef-b"}
    assert expectations.unmet(lambda n: n in cache, lambda n: None, now=2) == []
    assert len(expectations) == 0  # met ones are forgotten: a later deletion of ef-a is not "unmet"


def test_the_latest_write_of_a_job_wins_and_old_expectations_expire() -> None:
    expectations = Expectations(ttl=300)
    expectations.expect_jobs(created=["ef-a"], deleted=[], at=0)
    expectations.expect_jobs(created=[], deleted=["ef-a"], at=10)  # replaced as stuck
    assert [e.present for e in expectations.unmet(lambda n: True, lambda n: None, now=11)] == [False]
    assert expectations.unmet(lambda n: True, lambda n: None, now=309) != []
    assert expectations.unmet(lambda n: True, lambda n: None, now=310) == []  # someone else's doing


def test_an_inventory_is_expected_past_the_version_it_was_planned_from() -> None:
    expectations = Expectations()
    expectations.expect_inventories(["edge-1", "edge-2"], {"edge-1": "41", "edge-2": ""}, at=0)
    versions = {"edge-1": "41"}  # edge-1 not moved yet, edge-2 (created) not seen yet
    assert {e.name for e in expectations.unmet(lambda n: False, versions.get, now=1)} == {"edge-1", "edge-2"}
    versions = {"edge-1": "57", "edge-2": "58"}
    assert expectations.unmet(lambda n: False, versions.get, now=2) == []
