"""`edgefleet drift` against the embedded cluster over HTTP and a fleet repository served by
`git daemon`: the reasons and ages a user reads, every format, the history across runs, the
snapshot path, the exit codes, and delivery to a directory and to a webhook receiver."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from kubernetes import client
from typer.testing import CliRunner, Result

from reconciler.cli import app
from reconciler.cycle import SyncSettings, sync_once
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.registry import default_catalogue
from reconciler.source import FleetFiles, Repository
from tests.e2e.conftest import AGENT_V1, MOSQUITTO, TEST_PLANNER, group_file, quiet_fleet
from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon

AGENT = AGENT_V1  # in no registry of the strict catalogue: every pull of it fails


def fleet_yaml(*, webhook: bool = False) -> bytes:
    hooks = """
    webhooks:
      - {name: ops, kind: generic, urlSecret: edgefleet/drift-hook}""" if webhook else ""
    return f"""\
apiVersion: edgefleet.io/v1alpha1
kind: FleetConfig
metadata: {{name: fleet}}
spec:
  defaults: {{concurrency: 4, timeoutSeconds: 300, retryTimes: 0, failureTolerate: "1"}}
  driftReport:
    schedule: "0 7 * * 1-5"
    minAge: 1h
    siteLabel: topology.kubernetes.io/zone
    formats: [markdown, json, html]{hooks}
""".encode()


class Fleet:
    """The cluster (a manual clock started at the real time, so the command's own clock agrees
    with the cluster's), the served repository and a kubeconfig."""

    def __init__(self, cluster: EmbeddedCluster, repo: FleetRepo, url: str, kubeconfig: Path,
                 cache: Path) -> None:
        self.cluster, self.repo, self.url, self.kubeconfig = cluster, repo, url, kubeconfig
        self.session = Session.from_kubeconfig(kubeconfig)
        self.source = Repository.open(url, cache_dir=cache)

    def read_main(self) -> FleetFiles:
        self.source.fetch()
        return self.source.read_fleet("main")

    def sync(self) -> None:
        """One cycle of the reconciler at the cluster's time."""
        sync_once(read_revision=self.read_main, cluster=LiveCluster(self.session),
                  settings=SyncSettings(planner=TEST_PLANNER), last_good=None, now=self.cluster.clock.now)

    def drift(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["drift", "--repo", self.url, "--kubeconfig", str(self.kubeconfig),
                                        *args])


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    repo.commit({"fleet.yaml": fleet_yaml(webhook=True), "groups/line.yaml": group_file(MOSQUITTO, AGENT)},
                "Line A: mosquitto and the agent")
    start = datetime.now(UTC).replace(microsecond=0)
    with serve_git_daemon(tmp_path / "served") as url, EmbeddedCluster(
            nodes=6, kubeedge="1.21", clock=ManualClock(start), seed=2, fleet=quiet_fleet(6),
            heartbeat_seconds=60.0, catalogue=default_catalogue(unknown_exist=False)) as cluster:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        bed = Fleet(cluster, repo, f"{url}/fleet.git", kubeconfig, tmp_path / "cache")
        install_crds(bed.session, read_crds())
        try:
            yield bed
        finally:
            bed.session.close()


def drifted(fleet: Fleet) -> str:
    """One node offline, the agent image missing from the registry: sync, let the edge pull."""
    offline = sorted(fleet.cluster.edge_names())[0]
    fleet.cluster.nodes[offline].set_behaviour("offline")
    fleet.cluster.advance(120)
    fleet.sync()
    fleet.cluster.advance(60)
    fleet.sync()
    return offline


def test_the_report_names_each_missing_pair_with_its_reason_and_exits_2(fleet: Fleet, tmp_path: Path) -> None:
    offline = drifted(fleet)
    run = fleet.drift("-o", "json")
    assert run.exit_code == 2, run.output
    report = orjson.loads(run.stdout)
    assert report["kind"] == "DriftReport" and report["apiVersion"] == "edgefleet.io/v1alpha1"
    assert report["revision"] == fleet.read_main().revision
    reasons = {(p["node"], p["image"]): p["reason"] for p in report["pairs"]}
    online = sorted(n for n in fleet.cluster.edge_names() if n != offline)
    assert reasons[(offline, MOSQUITTO)] == "deferred-offline"
    assert reasons[(offline, AGENT)] == "deferred-offline"
    assert {reasons[(n, AGENT)] for n in online} <= {"backing-off", "in-flight", "not-yet-planned"}
    assert "backing-off" in {reasons[(n, AGENT)] for n in online}
    assert not any((n, MOSQUITTO) in reasons for n in online)  # pulled: not drift
    assert report["summary"]["pairsDrifting"] == len(online) + 2
    by_reason = {a["key"]: a["pairs"] for a in report["aggregates"]["reasons"]}
    assert by_reason["deferred-offline"] == 2
    # Without --history the age is unknown: every missing pair counts from now, and is drift.
    assert report["minAgeSeconds"] == 0
    assert "pairs drifting on" in run.stderr

    markdown = fleet.drift()
    assert markdown.exit_code == 2
    assert "deferred-offline" in markdown.stdout and offline in markdown.stdout

    page = tmp_path / "r.html"
    html = fleet.drift("--output", "html", "--out", str(page))
    assert html.exit_code == 2, html.output
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") or text.lower().startswith("<!doctype html>")
    assert text.count("<svg") >= 2 and "deferred-offline" in text
    assert f"written to {page}" in html.stderr


def test_history_keeps_the_age_of_drift_across_runs_and_forgets_what_recovered(fleet: Fleet,
                                                                               tmp_path: Path) -> None:
    offline = drifted(fleet)
    history = f"sqlite://{tmp_path / 'state' / 'drift.db'}"
    first = fleet.drift("-o", "json", "--history", history, "--min-age", "0s")
    assert first.exit_code == 2, first.output
    since = {(p["node"], p["image"]): p["since"] for p in orjson.loads(first.stdout)["pairs"]}

    # The node comes back and pulls mosquitto; a later run (a new process) keeps the age of
    # what still drifts and drops what recovered.
    fleet.cluster.nodes[offline].set_behaviour("online")
    fleet.cluster.advance(120)
    fleet.sync()
    fleet.cluster.advance(120)
    assert fleet.cluster.nodes[offline].has_image(MOSQUITTO)
    second = fleet.drift("-o", "json", "--history", history, "--min-age", "0s")
    assert second.exit_code == 2, second.output
    report = orjson.loads(second.stdout)
    later = {(p["node"], p["image"]): p["since"] for p in report["pairs"]}
    assert (offline, MOSQUITTO) not in later
    assert later[(offline, AGENT)] == since[(offline, AGENT)]
    assert [p["pairsDrifting"] for p in report["trend"]["points"]] == [len(since), len(later)]

    # With the FleetConfig's minAge (1h), pairs missing for minutes are settling: no drift yet.
    settled = fleet.drift("-o", "json", "--history", history)
    assert settled.exit_code == 0, settled.output
    summary = orjson.loads(settled.stdout)["summary"]
    assert summary["pairsDrifting"] == 0 and summary["pairsSettling"] == len(later)


def test_a_converged_fleet_exits_0_and_the_snapshot_report_is_the_live_one(fleet: Fleet,
                                                                          tmp_path: Path) -> None:
    fleet.repo.commit({"fleet.yaml": fleet_yaml(), "groups/line.yaml": group_file(MOSQUITTO)},
                      "Only mosquitto")
    for _ in range(6):
        fleet.sync()
        fleet.cluster.advance(120)
    run = fleet.drift()
    assert run.exit_code == 0, run.output
    assert "No drift: 100.00 %" in run.stderr

    drifted(fleet)
    fleet.repo.commit({"fleet.yaml": fleet_yaml(), "groups/line.yaml": group_file(MOSQUITTO, AGENT)}, "Agent")
    fleet.sync()
    snapshot = tmp_path / "fleet.json.gz"
    taken = CliRunner().invoke(app, ["snapshot", "--kubeconfig", str(fleet.kubeconfig),
                                     "--out", str(snapshot)])
    assert taken.exit_code == 0, taken.output
    live = fleet.drift("-o", "json")
    offline = CliRunner().invoke(app, ["drift", "--repo", fleet.url, "--snapshot", str(snapshot),
                                       "-o", "json"])
    assert live.exit_code == offline.exit_code == 2, offline.output

    def without_time(out: str) -> dict[str, Any]:
        report: dict[str, Any] = orjson.loads(out)
        report.pop("generatedAt")
        for row in report["pairs"]:
            row.pop("since")
        for aggregate in (a for kind in report["aggregates"].values() for a in kind):
            aggregate.pop("oldestSince", None)
        report["summary"].pop("oldestSince")
        report.pop("ageHistogram")
        return report

    assert without_time(offline.stdout) == without_time(live.stdout)


def test_errors_are_one_line_and_exit_1(fleet: Fleet, tmp_path: Path) -> None:
    both = fleet.drift("--snapshot", str(tmp_path / "x.json.gz"))
    assert both.exit_code == 1 and both.stderr.count("\n") == 1 and "not both" in both.stderr
    missing = CliRunner().invoke(app, ["drift", "--repo", str(tmp_path / "nowhere"),
                                       "--kubeconfig", str(fleet.kubeconfig)])
    assert missing.exit_code == 1 and "fleet repository not found" in missing.stderr
    bad_history = fleet.drift("--history", "postgres://db")
    assert bad_history.exit_code == 1 and "sqlite:///var/lib/edgefleet/drift.db" in bad_history.stderr
    bad_age = fleet.drift("--min-age", "soon")
    assert bad_age.exit_code == 1 and "--min-age" in bad_age.stderr


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes]
    statuses: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies.append(body)
        code = self.statuses.pop(0) if self.statuses else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_report_dir_and_a_webhook_from_a_secret_never_showing_its_url(fleet: Fleet, tmp_path: Path) -> None:
    drifted(fleet)
    handler = type("Receiver", (_Receiver,), {"bodies": [], "statuses": [500]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    secret_url = f"http://127.0.0.1:{server.server_address[1]}/hooks/s3cr3t-token"
    core = client.CoreV1Api(fleet.session.api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="edgefleet")))
    core.create_namespaced_secret("edgefleet", client.V1Secret(
        metadata=client.V1ObjectMeta(name="drift-hook"),
        data={"url": base64.b64encode(secret_url.encode()).decode()}))
    try:
        run = fleet.drift("--report-dir", str(tmp_path / "reports"), "--webhooks")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert run.exit_code == 2, run.output
    assert "s3cr3t" not in run.output
    assert "posted to webhook/ops (attempt 2)" in run.stderr  # the 500 was retried
    posted = orjson.loads(handler.bodies[-1])
    assert len(handler.bodies) == 2 and posted["kind"] == "DriftReport"
    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert {"latest.md", "latest.json", "latest.html"} <= set(names) and len(names) == 6
    assert orjson.loads((tmp_path / "reports" / "latest.json").read_bytes())["summary"] == posted["summary"]
