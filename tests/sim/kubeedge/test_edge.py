"""The edge side: CRI pulls (ImageStatus first, secrets, retries, disk), pre-checks, image GC
and `node.status.images` reporting (docs/kubeedge.md §2.2, 4.5, 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.sim.kubeedge.edge import GIB, EdgeNode, run_check, simulate_pull
from reconciler.sim.kubeedge.registry import MIB, ImageCatalogue, RegistryImage, digest_of

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
PUBLIC = RegistryImage("docker.io/library/nginx:1.25", 100 * MIB, digest_of("nginx"))
SMALL = RegistryImage("docker.io/library/busybox:1.36", 5 * MIB, digest_of("busybox"))
PRIVATE = RegistryImage("reg.example.com/team/app:1", 50 * MIB, digest_of("app"), needs_secret=True)
CATALOGUE = ImageCatalogue([PUBLIC, SMALL, PRIVATE], unknown_exist=False)


def node(**kw: object) -> EdgeNode:
    edge = EdgeNode("n", link_bps=10 * MIB, disk_bytes=64 * GIB, system_bytes=GIB)
    for key, value in kw.items():
        setattr(edge, key, value)
    return edge


def test_pull_takes_size_over_link_and_skips_present_images() -> None:
    edge = node()
    edge.add_image(SMALL, T0)
    out = simulate_pull(edge, ["nginx:1.25", "busybox:1.36"], CATALOGUE, secret="",
                        secret_state="none", attempts=1, whole_list=True)
    assert out.ok
    assert [a[1].ref for a in out.arrivals] == [PUBLIC.ref]  # busybox was already there
    assert out.arrivals[0][0] == pytest.approx(10.0)
    assert edge.images.keys() == {SMALL.ref}  # the outcome does not change the node


def test_held_image_succeeds_even_when_the_registry_lacks_it() -> None:
    # CRI ImageStatus on the node's own store comes before any registry lookup
    gone = RegistryImage("docker.io/library/redis:7.2", 40 * MIB, digest_of("redis"))
    edge = node()
    edge.add_image(gone, T0)
    out = simulate_pull(edge, ["redis:7.2"], CATALOGUE, secret="", secret_state="none",
                        attempts=1, whole_list=True)
    assert out.ok and out.arrivals == ()
    assert [(r.image, r.ok) for r in out.results] == [("redis:7.2", True)]


@pytest.mark.parametrize(("images", "secret_state", "fragment"), [
    pytest.param(["nginx:9.9"], "none", "not found", id="unknown-reference"),
    pytest.param(["reg.example.com/team/app:1"], "none", "no basic auth credentials", id="needs-secret"),
    pytest.param(["nginx:1.25"], "missing", 'secrets "s" not found', id="secret-missing"),
    pytest.param(["nginx:1.25"], "bad-format", "pull secret format is not correct", id="secret-bad-ref"),
])
def test_pull_failures(images: list[str], secret_state: str, fragment: str) -> None:
    out = simulate_pull(node(), images, CATALOGUE, secret="ns/s", secret_state=secret_state,  # type: ignore[arg-type]
                        attempts=2, whole_list=True)
    assert not out.ok
    assert fragment in (out.reason or out.results[0].reason)


def test_secret_lets_private_pull_through() -> None:
    out = simulate_pull(node(), ["reg.example.com/team/app:1"], CATALOGUE, secret="ns/s",
                        secret_state="ok", attempts=1, whole_list=True)
    assert out.ok and out.arrivals[0][1] == PRIVATE


def test_disk_full_fails_the_pull() -> None:
    out = simulate_pull(node(disk_bytes=GIB + 50 * MIB), ["nginx:1.25"], CATALOGUE, secret="",
                        secret_state="none", attempts=1, whole_list=True)
    assert not out.ok and "no space left on device" in out.results[0].reason
    assert out.arrivals == ()


@pytest.mark.parametrize(("whole_list", "results"), [
    # v1alpha2: retry-go runs zero attempts and returns nil: success, no imageStatus at all
    pytest.param(True, [], id="v1alpha2-empty-image-status"),
    # v1alpha1: the per-image loop is skipped, err stays nil: every image "Successful"
    pytest.param(False, [("docker.io/library/nginx:1.25", True)], id="v1alpha1-claims-success"),
])
def test_retry_minus_one_reports_success_without_pulling(whole_list: bool,
                                                         results: list[tuple[str, bool]]) -> None:
    out = simulate_pull(node(), ["docker.io/library/nginx:1.25"], CATALOGUE, secret="",
                        secret_state="none", attempts=0, whole_list=whole_list)
    assert out.ok and out.arrivals == ()
    assert [(r.image, r.ok) for r in out.results] == results


@pytest.mark.parametrize(("items", "unknown_fails", "ok"), [
    pytest.param([], True, True, id="no-items-no-check"),
    pytest.param(["cpu", "mem", "disk"], True, True, id="all-below-80"),
    pytest.param(["gpu"], True, False, id="v1alpha2-unknown-item-fails"),
    pytest.param(["gpu"], False, True, id="v1alpha1-unknown-item-recorded-only"),
])
def test_pre_check(items: list[str], unknown_fails: bool, ok: bool) -> None:
    assert run_check(node(), items, unknown_fails=unknown_fails)[0] is ok


def test_pre_check_fails_above_80_percent() -> None:
    ok, reason = run_check(node(cpu_percent=91.0), ["cpu"], unknown_fails=True)
    assert not ok and "cpu usage 91.00%" in reason


@pytest.mark.parametrize(("cap", "expected"), [
    pytest.param(0, [], id="kubeedge-default-none"),
    pytest.param(1, [PUBLIC.size], id="cap-keeps-largest"),
    pytest.param(-1, [PUBLIC.size, PRIVATE.size, SMALL.size], id="all-by-size-descending"),
])
def test_status_images(cap: int, expected: list[int]) -> None:
    edge = node()
    for image in (SMALL, PUBLIC, PRIVATE):
        edge.add_image(image, T0)
    reported = edge.status_images(cap)
    assert [i["sizeBytes"] for i in reported] == expected
    if reported:
        assert reported[0]["names"] == [f"docker.io/library/nginx@{PUBLIC.digest}", PUBLIC.ref]


def test_image_gc_removes_old_unused_images_above_threshold() -> None:
    # 1 GiB system + 155 MiB of images on 1364 MiB: 86 %; without nginx: 79 %
    edge = node(disk_bytes=GIB + 340 * MIB)
    edge.add_image(PUBLIC, T0 - timedelta(hours=2))
    edge.add_image(SMALL, T0 - timedelta(hours=1))
    edge.add_image(PRIVATE, T0)  # younger than the minimum GC age
    assert edge.collect_garbage(T0) == [PUBLIC.ref]
    assert set(edge.images) == {SMALL.ref, PRIVATE.ref}


def test_a_withdrawn_tag_is_not_found_even_where_unknown_images_exist() -> None:
    catalogue = ImageCatalogue([PUBLIC], unknown_exist=True)
    catalogue.withdraw("nginx:1.25")
    catalogue.withdraw("registry.example.com/retail/display:1.4.1-rc")
    for ref in ("nginx:1.25", "registry.example.com/retail/display:1.4.1-rc"):
        out = simulate_pull(node(), [ref], catalogue, secret="", secret_state="none", attempts=1,
                            whole_list=True)
        assert not out.ok and "not found" in str(out), out
    assert catalogue.lookup("registry.example.com/retail/display:1.4.0") is not None
