"""Issue 9's "done means", end to end: `edgefleet drift --kubeconfig <sim> --output html --out
r.html` on a 300-node simulated fleet served by the embedded cluster over HTTP, with some nodes
offline and one image that fails to pull, shows why pairs are missing, since when, and the plots.

Two sites (NodeGroups line-a and line-b): both desire mosquitto, line-a also an agent image no
registry holds, so only line-a's nodes fail pulls. The cluster runs on a manual clock; the
command's clock is the cluster's, so the second report, made hours later with the same history,
shows hours-old drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from reconciler.cli import app
from reconciler.cycle import SyncSettings, sync_once
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.sim.clock import ManualClock
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.sim.kubeedge.fleetgen import FleetOptions
from reconciler.sim.kubeedge.registry import default_catalogue
from reconciler.source import FleetFiles, Repository
from tests.e2e.conftest import AGENT_V1, MOSQUITTO, TEST_PLANNER
from tests.fleetrepo import FleetRepo
from tests.gitserve import serve_git_daemon

NODES = 300
OFFLINE = 12  # 6 per site
START = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)

FLEET = b"""\
apiVersion: edgefleet.io/v1alpha1
kind: FleetConfig
metadata: {name: fleet}
spec:
  defaults: {concurrency: 20, timeoutSeconds: 300, retryTimes: 0, failureTolerate: "1", maxNodesPerJob: 100}
  driftReport:
    schedule: "0 7 * * 1-5"
    minAge: 1h
    siteLabel: topology.kubernetes.io/zone
---
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: line}
spec:
  nodes: {nodeGroup: line-a}
  images: [%(mosquitto)s, %(agent)s]
---
apiVersion: edgefleet.io/v1alpha1
kind: NodeGroupImages
metadata: {name: shop}
spec:
  nodes: {nodeGroup: line-b}
  images: [%(mosquitto)s]
""" % {b"mosquitto": MOSQUITTO.encode(), b"agent": AGENT_V1.encode()}


class Bed:
    """The 300-node cluster, the served fleet repository, a kubeconfig, one reconciler."""

    def __init__(self, cluster: EmbeddedCluster, url: str, kubeconfig: Path, cache: Path) -> None:
        self.cluster, self.url, self.kubeconfig = cluster, url, kubeconfig
        self.session = Session.from_kubeconfig(kubeconfig)
        self.source = Repository.open(url, cache_dir=cache)

    def sync(self) -> None:
        def read_main() -> FleetFiles:
            self.source.fetch()
            return self.source.read_fleet("main")

        sync_once(read_revision=read_main, cluster=LiveCluster(self.session),
                  settings=SyncSettings(planner=TEST_PLANNER), last_good=None, now=self.cluster.clock.now)

    def run_for(self, seconds: int, *, step: int = 600) -> None:
        """Reconcile every `step` seconds of cluster time for `seconds`."""
        for _ in range(seconds // step):
            self.cluster.advance(step)
            self.sync()

    def drift(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["drift", "--repo", self.url, "--kubeconfig", str(self.kubeconfig),
                                        *args])


@pytest.fixture
def bed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bed]:
    repo = FleetRepo(tmp_path / "served" / "fleet.git")
    repo.commit({"fleet.yaml": FLEET}, "Two sites: mosquitto everywhere, the agent on line-a")
    options = FleetOptions(nodes=NODES, sites=("line-a", "line-b"), node_group_sites=("line-a", "line-b"),
                           named_nodes=(), control_plane=1, offline=0, flapping=0, silent=0, slow=0,
                           images_min=3, images_max=5)
    with serve_git_daemon(tmp_path / "served") as url, EmbeddedCluster(
            nodes=NODES, kubeedge="1.21", clock=ManualClock(START), seed=9, fleet=options,
            heartbeat_seconds=600.0, catalogue=default_catalogue(unknown_exist=False)) as cluster:
        # The command reads the cluster's clock: its reports are made in simulated time.
        monkeypatch.setattr("reconciler.cli.drift.utc_now", cluster.clock.now)
        bed = Bed(cluster, f"{url}/fleet.git", cluster.write_kubeconfig(tmp_path / "kubeconfig"),
                  tmp_path / "cache")
        install_crds(bed.session, read_crds())
        try:
            yield bed
        finally:
            bed.session.close()


def _site(name: str) -> str:
    return name.rsplit("-", 1)[0]


def test_a_300_node_fleet_gets_an_html_report_with_reasons_ages_and_plots(bed: Bed, tmp_path: Path) -> None:
    edges = sorted(bed.cluster.edge_names())
    assert len(edges) >= NODES - 1
    offline = [n for n in edges if _site(n) == "line-a"][:OFFLINE // 2] + \
        [n for n in edges if _site(n) == "line-b"][:OFFLINE // 2]
    for name in offline:
        bed.cluster.nodes[name].set_behaviour("offline")
    bed.run_for(1200, step=300)  # the commit is planned, mosquitto lands, the agent's pulls fail

    history = f"sqlite://{tmp_path / 'state' / 'drift.db'}"
    first = bed.drift("--output", "html", "--out", str(tmp_path / "first.html"), "--history", history)
    assert first.exit_code == 0, first.output  # minutes old: settling, not drift yet (minAge 1h)

    bed.run_for(3 * 3600)
    page = tmp_path / "r.html"
    run = bed.drift("--output", "html", "--out", str(page), "--history", history)
    assert run.exit_code == 2, run.output
    assert f"written to {page}" in run.stderr
    html = page.read_text(encoding="utf-8")
    assert html.lower().startswith("<!doctype html>")

    # The plots: convergence over the two reports, drift ages, drift per site, as inline SVG.
    for figure in ("plot-convergence", "plot-age", "plot-sites"):
        assert re.search(rf'<figure id="{figure}"><svg', html), figure
    assert "http://" not in html.replace("http://www.w3.org/", "")  # nothing to fetch

    # Why: every offline node's two or one pairs are deferred-offline; line-a's agent fails.
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>"
                      r"<td>([^<]+)</td><td>([^<]+)</td><td>([^<]*)</td></tr>", html)
    pairs = {(node, image): (reason, age, detail) for node, _, _, image, reason, age, detail in rows}
    for name in offline:
        assert pairs[(name, MOSQUITTO)][0] == "deferred-offline"
    online_a = [n for n in edges if _site(n) == "line-a" and n not in offline]
    agent = {pairs[(n, AGENT_V1)][0] for n in online_a}
    assert agent <= {"failed", "backing-off", "not-yet-planned", "in-flight"}
    assert agent & {"failed", "backing-off"}
    assert not any((n, MOSQUITTO) in pairs for n in edges if n not in offline)  # pulled: not drift
    assert not any((n, AGENT_V1) in pairs for n in edges if _site(n) == "line-b")  # not desired there
    # Since when: the history remembers the first report, three hours and some before.
    assert {pairs[(name, MOSQUITTO)][1] for name in offline} == {"3h"}
    failing = [pairs[(n, AGENT_V1)] for n in online_a if pairs[(n, AGENT_V1)][0] == "failed"]
    assert failing and all("attempt 5 of 5" in detail for _, _, detail in failing)
    for reason in ("deferred-offline", "failed"):
        assert f"<tr><td>{reason}</td>" in html  # the Why table
    headline = re.search(r'<p class="headline">([^<]+)</p>', html)
    drifting = OFFLINE + OFFLINE // 2 + len(online_a)  # offline: 2 pairs on line-a, 1 on line-b
    assert headline is not None and f"{drifting:,} pairs drifting on {OFFLINE + len(online_a):,}" \
        in headline.group(1)
    assert "oldest drift 3h" in headline.group(1)

