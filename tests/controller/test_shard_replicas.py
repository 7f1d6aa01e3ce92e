"""Two replicas with `--shards 2` on the embedded cluster: they split the node groups (each writes
only the groups of the shard it holds, as the API server's request log shows by User-Agent),
and when one dies without releasing its Lease the other takes its shard and converges its
groups. No group is ever written by two replicas."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.cli.demo_change import send_push_webhook
from reconciler.controller.daemon import Controller
from reconciler.controller.shard_election import ShardElection
from reconciler.controller.sharding import shard_of
from reconciler.manifests.imageref import normalize_image
from reconciler.planner.model import GROUP_LABEL
from reconciler.sim.apiserver.audit import Request
from tests.controller.conftest import REPO_ROOT, WEBHOOK_SECRET, FleetEnv, wait_until

SHARDS = 2
WRITES = {"create", "update", "patch", "delete"}
# One image per shard: base-runtime reaches the factory and shop groups (shard 1), the toll
# station group lists its own (shard 0).
BUMPS = (("image-sets/base-runtime.yaml", "registry.example.com/edge/telemetry-agent:1.4.", 2),
         ("groups/toll-a4.yaml", "registry.example.com/toll/anpr-camera:3.1.", 0))


def election(controller: Controller) -> ShardElection:
    assert isinstance(controller.elector, ShardElection)
    return controller.elector


def bump(env: FleetEnv, step: int) -> tuple[str, list[str]]:
    """Commit one new image for each shard's groups; the revision and the new images."""
    images, revision = [], ""
    for path, prefix, patch in BUMPS:
        file = Path(env.repo.work) / path
        old, new = f"{prefix}{patch + step - 1}", f"{prefix}{patch + step}"
        text = file.read_text(encoding="utf-8")
        assert old in text, (path, old)
        revision = env.repo.commit(path, text.replace(old, new, 1), f"bump {new}")
        images.append(normalize_image(new))
    env.repo.push()
    return revision, images


def in_jobs(env: FleetEnv, image: str) -> bool:
    return any(image in j["spec"]["imagePrePullTemplate"]["images"] for j in env.managed_jobs())


def group_writes(env: FleetEnv, requests: list[Request]) -> list[tuple[str, str]]:
    """(writer, group) of every job write and (writer, "node:<name>") of every inventory write,
    in order. A job's group is read from its label (deleted jobs: from the creates seen)."""
    group_of = {j["metadata"]["name"]: j["metadata"]["labels"][GROUP_LABEL] for j in env.managed_jobs()}
    out = []
    for r in requests:
        if r.verb not in WRITES:
            continue
        name = r.created or r.name
        if r.resource == "imageprepulljobs" and name in group_of:
            out.append((r.agent, group_of[name]))
        elif r.resource == "edgenodeinventories":
            out.append((r.agent, f"node:{name}"))
    return out


def owner_shard(key: str) -> int:
    return shard_of(key.removeprefix("node:"), SHARDS)


def settled(*controllers: Controller) -> bool:
    held = [election(c).held() for c in controllers]
    return all(len(h) == 1 for h in held) and sorted(s for h in held for s in h) == list(range(SHARDS))


def test_two_replicas_split_the_groups_and_the_survivor_takes_over_a_dead_ones_shard(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    a = start_controller("replica-a", shards=SHARDS)
    b = start_controller("replica-b", shards=SHARDS)
    # However the start raced, each ends up holding one shard (the fair share).
    assert wait_until(lambda: settled(a, b), 30)
    assert wait_until(lambda: {j["metadata"]["labels"][GROUP_LABEL] for j in fleet_env.managed_jobs()} >=
                      {"toll-a4", "retail-shops"}, 30)
    holder = {s: c for c in (a, b) for s in election(c).held()}
    server = fleet_env.cluster.server
    assert server is not None
    server.requests.clear()

    # A change for both shards' groups: each replica writes its own.
    revision, images = bump(fleet_env, 1)
    for c in (a, b):
        assert send_push_webhook(c.url, WEBHOOK_SECRET, branch="main", revision=revision) == 202
    assert wait_until(lambda: all(in_jobs(fleet_env, image) for image in images), 30)
    writes = group_writes(fleet_env, server.requests.requests())
    agents = {f"edgefleet/{c.settings.identity}": c for c in (a, b)}
    assert {agent for agent, _ in writes} == set(agents)  # both wrote
    for agent, key in writes:
        assert holder[owner_shard(key)] is agents[agent], (agent, key)
    writers: dict[str, set[str]] = {}
    for agent, key in writes:
        writers.setdefault(key, set()).add(agent)
    assert all(len(w) == 1 for w in writers.values())  # 0 double writes

    # The holder of shard 0 dies without releasing its Leases: the other takes shard 0 once
    # its Lease expires, and converges the dead replica's groups too.
    dead, survivor = holder[0], holder[1]
    dead.stop(release=False)
    server.requests.clear()
    assert wait_until(lambda: election(survivor).held() == [0, 1], 30)
    revision, images = bump(fleet_env, 2)
    assert send_push_webhook(survivor.url, WEBHOOK_SECRET, branch="main", revision=revision) == 202
    assert wait_until(lambda: all(in_jobs(fleet_env, image) for image in images), 30)
    writes = group_writes(fleet_env, server.requests.requests())
    assert {agent for agent, _ in writes} == {f"edgefleet/{survivor.settings.identity}"}
    assert {owner_shard(key) for _, key in writes} == {0, 1}


def test_one_shard_is_today_s_single_leader(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    a = start_controller("replica-a", shards=1)
    assert not isinstance(a.elector, ShardElection)
    assert wait_until(a.elector.is_leader, 10)
    assert fleet_env.cluster.store.get("coordination.k8s.io", "leases", "edgefleet", namespace="default")


@pytest.mark.parametrize("value", ["0", "65", "auto"])
def test_a_shard_count_out_of_range_is_a_usage_error(value: str) -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "run", "--repo", "git://127.0.0.1:9/x.git",
                           "--shards", value], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert "--shards" in done.stderr and "Traceback" not in done.stderr
