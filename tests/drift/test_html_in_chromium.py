"""The HTML drift report in a real headless Chromium: it renders (a screenshot with colour in
it), its three plots are in the DOM as drawn SVG, and loading it asks the network for nothing
but the page (every request goes through a logging proxy on 127.0.0.1)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from reconciler.drift.history import DriftHistory
from reconciler.drift.reasons import Reason
from reconciler.drift.render_html import render_report_html
from reconciler.drift.report import DriftReport
from tests.drift.conftest import NOW, nodes, pair, report
from tests.realparts.chromium import NEEDS_CHROMIUM, run_chromium

#: Hosts Chromium itself calls (network time, component updates, sign-in), not the page.
CHROMIUM_SERVICES = re.compile(r"^(CONNECT |http://)[a-z0-9.-]*\.(google\.com|googleapis\.com|gvt1\.com)[:/]")

pytestmark = NEEDS_CHROMIUM


class _Recorder(BaseHTTPRequestHandler):
    """Serves the page at /report.html; records every request, proxied ones included."""

    page: bytes
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.path.endswith("/report.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_CONNECT(self) -> None:  # an https:// fetch through the proxy
        self.seen.append(f"CONNECT {self.path}")
        self.send_response(403)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    handler = type("Recorder", (_Recorder,), {"page": _page(tmp_path).encode(), "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _page(tmp_path: Path) -> str:
    """A report of 30 nodes over 3 sites with a trend of three reports."""
    pairs = [pair(f"edge-{i:03d}", "docker.io/library/nginx:1.25", reason, age=timedelta(hours=2 + i))
             for i, reason in zip(range(12), [Reason.FAILED, Reason.DEFERRED_OFFLINE, Reason.IN_FLIGHT] * 4,
                                  strict=True)]
    with DriftHistory(f"sqlite://{tmp_path / 'drift.db'}") as history:
        for days, count in ((2, 12), (1, 6), (0, 3)):
            history.append(report(pairs[:count], fleet=nodes(30), now=NOW - timedelta(days=days)))
        made: DriftReport = report(pairs, fleet=nodes(30), trend=history.trend(now=NOW))
    return render_report_html(made)


def chromium(tmp_path: Path, proxy: str, *args: str) -> str:
    return run_chromium(tmp_path / "profile", f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>",
                        *args)


class Figures(HTMLParser):
    """figure id -> number of SVG shapes (path, rect, line...) drawn inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: dict[str, int] = {}
        self._figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "figure":
            self._figure = dict(attrs).get("id") or ""
            self.shapes[self._figure] = 0
        elif self._figure is not None and tag in ("path", "rect", "line", "polyline", "use"):
            self.shapes[self._figure] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None


def test_the_report_renders_with_its_plots_and_fetches_nothing(served: tuple[str, list[str]],
                                                               tmp_path: Path) -> None:
    base, seen = served
    url = f"{base}/report.html"
    dom = chromium(tmp_path, base, "--dump-dom", url)
    figures = Figures()
    figures.feed(dom)
    assert set(figures.shapes) == {"plot-convergence", "plot-age", "plot-sites"}
    assert all(count >= 5 for count in figures.shapes.values()), figures.shapes
    assert "12 pairs drifting" in dom

    shot = tmp_path / "report.png"
    chromium(tmp_path, base, f"--screenshot={shot}", "--window-size=1200,1800", "--hide-scrollbars", url)
    with Image.open(shot) as image:
        assert image.size == (1200, 1800)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, cards and plots, not a blank or error page
    # Only the page itself, twice (DOM, screenshot): no script, font, image or stylesheet. The
    # browser's own calls home (time, updates, sign-in) pass the proxy too and are set aside.
    page_requests = [r for r in seen if not CHROMIUM_SERVICES.search(r)]
    assert page_requests == [url, url], seen
