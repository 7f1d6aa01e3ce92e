"""The controller end to end: embedded cluster (simulated KubeEdge), fleet-examples/ served by a
real `git daemon`, webhooks over real HTTP. Git polling is set to once an hour, so anything
that happens within seconds was caused by the webhook or the watches."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from reconciler.cli.demo_change import find_bump, send_push_webhook
from reconciler.controller.daemon import Controller
from reconciler.manifests import load_fleet
from reconciler.manifests.imageref import normalize_image
from reconciler.sim.kubeedge.edge import EdgeNode
from reconciler.source import read_worktree
from tests.controller.conftest import FLEET_EXAMPLES, WEBHOOK_SECRET, FleetEnv, wait_until


def first_cycle_done(controller: Controller) -> str:
    assert wait_until(lambda: controller.state.snapshot().ready, 20), controller.state.snapshot()
    last = controller.state.snapshot().last
    assert last is not None and last.revision_in_force is not None
    return last.revision_in_force


def in_force(controller: Controller) -> str | None:
    last = controller.state.snapshot().last
    return last.revision_in_force if last is not None else None


def job_images(env: FleetEnv) -> set[str]:
    return {image for job in env.managed_jobs()
            for image in job["spec"]["imagePrePullTemplate"]["images"]}


def bump_and_push(env: FleetEnv) -> tuple[str, str]:
    bump = find_bump(env.repo.work)
    revision = env.repo.commit(bump.path, bump.content, f"bump {bump.new}")
    env.repo.push()
    return revision, normalize_image(bump.new)


def post_unsigned(url: str, body: bytes = b'{"ref":"refs/heads/main"}') -> int:
    request = urllib.request.Request(f"{url}/hooks/git", data=body, method="POST",
                                     headers={"X-GitHub-Event": "push"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_signed_push_is_reconciled_within_seconds(fleet_env: FleetEnv,
                                                    start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    first_cycle_done(controller)
    revision, image = bump_and_push(fleet_env)
    assert image not in job_images(fleet_env)
    assert send_push_webhook(controller.url, WEBHOOK_SECRET, branch="main", revision=revision) == 202
    assert wait_until(lambda: image in job_images(fleet_env), 10)
    # The cycle that created the job publishes its view when it ends.
    assert wait_until(lambda: in_force(controller) == revision, 5)
    job = next(j for j in fleet_env.managed_jobs() if image in j["spec"]["imagePrePullTemplate"]["images"])
    assert job["metadata"]["annotations"]["edgefleet.io/revision"] == revision


def test_an_unsigned_webhook_is_refused_and_changes_nothing(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    before = first_cycle_done(controller)
    revision, image = bump_and_push(fleet_env)
    assert post_unsigned(controller.url) == 401
    wrong = send_push_webhook(controller.url, b"guessed-secret", branch="main", revision=revision)
    assert wrong == 401
    assert not wait_until(lambda: controller.git.status().head == revision, 2.0)
    last = controller.state.snapshot().last
    assert last is not None and last.revision_in_force == before
    assert image not in job_images(fleet_env)
    # The same push, signed, is picked up: the refusal above was the signature's doing.
    assert send_push_webhook(controller.url, WEBHOOK_SECRET, branch="main", revision=revision) == 202
    assert wait_until(lambda: image in job_images(fleet_env), 10)


def retail_images() -> set[str]:
    fleet = load_fleet(read_worktree(FLEET_EXAMPLES).files).fleet
    assert fleet is not None
    return {i.image for i in fleet.group("retail-shops").images}


def test_a_node_joining_a_group_gets_its_images(fleet_env: FleetEnv,
                                                start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    first_cycle_done(controller)
    newcomer = EdgeNode(name="shop-berlin-0900", site="shop-berlin")
    fleet_env.cluster.fleet.add(newcomer)
    wanted = retail_images()
    assert wait_until(lambda: all(newcomer.has(image) for image in wanted), 30), sorted(newcomer.images)
    targeted = [j for j in fleet_env.managed_jobs()
                if "shop-berlin-0900" in j["spec"]["imagePrePullTemplate"]["nodeNames"]]
    assert targeted, "the newcomer was served by a job naming it"


def test_a_broken_commit_keeps_the_last_good_revision_in_force(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    good = first_cycle_done(controller)
    broken = fleet_env.repo.commit("groups/broken.yaml", (
        "apiVersion: edgefleet.io/v1alpha1\nkind: NodeGroupImages\nmetadata: {name: broken}\n"
        "spec:\n  nodes: {names: [x]}\n  images: [nginx]\n  colour: blue\n"), "a typo")
    fleet_env.repo.push()
    assert send_push_webhook(controller.url, WEBHOOK_SECRET, branch="main", revision=broken) == 202

    def reported() -> bool:
        last = controller.state.snapshot().last
        return last is not None and last.revision_error is not None and last.revision_seen == broken

    assert wait_until(reported, 10)
    last = controller.state.snapshot().last
    assert last is not None and last.revision_in_force == good
    assert "groups/broken.yaml" in (last.revision_error or "")
    with urllib.request.urlopen(f"{controller.url}/status", timeout=5) as page:
        html = page.read().decode()
    assert 'id="revision-error"' in html and broken[:12] in html and good[:12] in html
    assert controller.registry.get_sample_value("edgefleet_revision_load_failing") == 1
    # The last good fleet keeps converging: a node that joins now still gets its images.
    newcomer = EdgeNode(name="shop-munich-0900", site="shop-munich")
    fleet_env.cluster.fleet.add(newcomer)
    assert wait_until(lambda: all(newcomer.has(image) for image in retail_images()), 30)


def test_metrics_of_a_running_controller_parse(fleet_env: FleetEnv,
                                               start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    first_cycle_done(controller)
    with urllib.request.urlopen(f"{controller.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = {(s.labels["verb"], s.labels["code"]) for s in families["edgefleet_api_requests"].samples
                if s.name.endswith("_total")}
    assert {("get", "200"), ("watch", "200"), ("create", "201")} <= requests
    groups = {s.labels["group"] for s in families["edgefleet_group_pairs"].samples}
    assert groups == {"factory-shanghai", "factory-suzhou", "retail-shops", "toll-a4"}
    assert families["edgefleet_leader"].samples[0].value == 1
    assert families["edgefleet_last_successful_reconcile_timestamp_seconds"].samples[0].value > 0
    assert any(s.labels.get("in_force") for s in families["edgefleet_git_revision_info"].samples)


def test_the_status_page_lists_every_group(fleet_env: FleetEnv,
                                          start_controller: Callable[..., Controller]) -> None:
    controller = start_controller()
    first_cycle_done(controller)
    with urllib.request.urlopen(f"{controller.url}/status", timeout=5) as response:
        html = response.read().decode()
    for group in ("factory-shanghai", "factory-suzhou", "retail-shops", "toll-a4"):
        assert f'data-group="{group}"' in html
