"""The pure mapping, on recorded CRI answers: runtime images -> the status.agent report."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reconciler.agent.report import AgentReport, ImageFs, RuntimeImage, build_report
from reconciler.agent.runtime import image_fs_from_response, images_from_response, runtime_from_response
from tests.agent.conftest import recorded

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
REGISTRY = "127.0.0.1:5000"
IMG_DIGEST = "sha256:9a6baf4a709ff18c6f243f5baa8a67400e3e03255d46720ce1878fa39ab85b26"
OTHER_DIGEST = "sha256:31b655a8904efc8b7dcd8a85cebf372ba225a36b1beedfecb77f8f19cb19c53a"


def report_of(name: str, now: datetime = NOW, capacity: int | None = 100 * 2**30) -> AgentReport:
    answers = recorded(name)
    return build_report(images_from_response(answers.list_images),
                        image_fs_from_response(answers.image_fs_info, lambda mountpoint: capacity),
                        runtime_from_response(answers.version), now)


def test_containerd_answer_lists_every_tag_and_repo_digest_with_digest_and_size() -> None:
    status = report_of("containerd-1.6.20").as_status()
    assert status["images"] == [
        {"image": f"{REGISTRY}/mirror/img:1", "digest": IMG_DIGEST, "sizeBytes": 698},
        {"image": f"{REGISTRY}/mirror/img@{IMG_DIGEST}", "digest": IMG_DIGEST, "sizeBytes": 698},
        {"image": f"{REGISTRY}/test/img:1", "digest": IMG_DIGEST, "sizeBytes": 698},
        {"image": f"{REGISTRY}/test/img:2", "digest": IMG_DIGEST, "sizeBytes": 698},
        {"image": f"{REGISTRY}/test/img@{IMG_DIGEST}", "digest": IMG_DIGEST, "sizeBytes": 698},
        {"image": f"{REGISTRY}/test/other:3", "digest": OTHER_DIGEST, "sizeBytes": 709},
        {"image": f"{REGISTRY}/test/other@{OTHER_DIGEST}", "digest": OTHER_DIGEST, "sizeBytes": 709},
    ]
    assert status["runtime"] == {"name": "containerd", "version": "1.6.20~ds1"}
    assert status["imageFsUsedBytes"] == 0 and status["imageFsCapacityBytes"] == 100 * 2**30
    assert status["complete"] is True and status["skippedRefs"] == 0
    assert status["observedAt"] == "2026-12-02T12:00:00Z"
    assert status["contentHash"].startswith("sha256:") and len(status["contentHash"]) == 71


def test_short_and_legacy_names_normalize_to_one_entry_and_bad_names_are_skipped_and_counted() -> None:
    report = report_of("mixed-names")
    images = {i["image"]: i for i in report.as_status()["images"]}
    assert sorted(images) == [
        "docker.io/library/nginx:1.25",
        "docker.io/library/nginx@sha256:" + "0" * 63 + "1",
        "localhost/app:dev",
        "localhost/app@sha256:" + "0" * 63 + "2",
    ]
    assert images["docker.io/library/nginx:1.25"] == {
        "image": "docker.io/library/nginx:1.25", "digest": "sha256:" + "0" * 63 + "1", "sizeBytes": 70000000}
    # The upper-case tag and the malformed digest of the second image are skipped, not fatal;
    # its valid name is still listed. The untagged image has no name to list.
    assert report.skipped_refs == 2
    assert [s.split(":")[0] for s in report.skipped] == ["registry.example.com/Line/Agent",
                                                         "registry.example.com/line/agent@sha256"]
    assert report.as_status()["imageFsUsedBytes"] == 2147483648
    assert report.as_status()["runtime"] == {"name": "cri-o", "version": "1.30.4"}


def test_hash_ignores_observed_at_and_listing_order_but_not_content() -> None:
    answers = recorded("containerd-1.6.20")
    images = images_from_response(answers.list_images)
    fs, runtime = ImageFs(0, 2**40), runtime_from_response(answers.version)
    first = build_report(images, fs, runtime, NOW)
    shuffled = [replace(i, repo_tags=tuple(reversed(i.repo_tags)),
                        repo_digests=tuple(reversed(i.repo_digests))) for i in reversed(images)]
    random.Random(3).shuffle(shuffled)
    later = build_report(shuffled, fs, runtime, NOW + timedelta(hours=5))
    assert later.content_hash == first.content_hash
    assert later.as_status()["images"] == first.as_status()["images"]

    removed = build_report(images[:1], fs, runtime, NOW)
    upgraded = build_report(images, fs, replace(runtime, version="1.7.0"), NOW)
    assert len({first.content_hash, removed.content_hash, upgraded.content_hash}) == 3


def test_image_fs_noise_does_not_change_the_hash_but_a_real_change_does() -> None:
    images = [RuntimeImage("sha256:" + "a" * 64, ("busybox:1.36",), (), 4_000_000)]
    runtime = recorded("containerd-1.6.20").version
    info = runtime_from_response(runtime)
    base = build_report(images, ImageFs(10 * 2**30, 100 * 2**30), info, NOW)
    logs_grew = build_report(images, ImageFs(10 * 2**30 + 5 * 2**20, 100 * 2**30), info, NOW)
    filled = build_report(images, ImageFs(30 * 2**30, 100 * 2**30), info, NOW)
    assert logs_grew.content_hash == base.content_hash
    assert logs_grew.as_status()["imageFsUsedBytes"] == 10 * 2**30 + 5 * 2**20  # exact when written
    assert filled.content_hash != base.content_hash


def test_one_runtime_image_claiming_a_name_twice_gives_a_stable_choice() -> None:
    digest = "sha256:" + "b" * 64
    a = RuntimeImage("sha256:" + "1" * 64, ("nginx:1",), (), 100)
    b = RuntimeImage("sha256:" + "2" * 64, ("docker.io/library/nginx:1",), (f"nginx@{digest}",), 90)
    info = runtime_from_response(recorded("containerd-1.6.20").version)
    one = build_report([a, b], ImageFs(), info, NOW)
    two = build_report([b, a], ImageFs(), info, NOW)
    assert one.as_status() == two.as_status()
    entry = next(i for i in one.as_status()["images"] if i["image"] == "docker.io/library/nginx:1")
    assert entry == {"image": "docker.io/library/nginx:1", "digest": digest, "sizeBytes": 90}
    assert one.as_status()["imageFsUsedBytes"] is None  # absent: the merge patch removes it
