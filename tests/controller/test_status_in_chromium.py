"""A person's view of /status: a real headless Chromium loads the page of a running controller."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from reconciler.controller.daemon import Controller
from tests.controller.conftest import FleetEnv, wait_until
from tests.realparts.chromium import NEEDS_CHROMIUM, run_chromium

pytestmark = NEEDS_CHROMIUM


class GroupRows(HTMLParser):
    """Collects each group row of the rendered DOM: name -> (state, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[str, list[str]]] = {}
        self._current: str | None = None
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-group"):
            self._current = found["data-group"] or ""
            self.rows[self._current] = (found.get("data-state") or "", [])
        elif tag == "td" and self._current is not None:
            self._in_cell = True
            self.rows[self._current][1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._current = None
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._current is not None and self._in_cell:
            cells = self.rows[self._current][1]
            cells[-1] += data.strip()


def dump_dom(url: str, profile: Path) -> str:
    return run_chromium(profile, "--dump-dom", url, timeout=60)


def test_status_page_shows_groups_and_their_convergence(
        fleet_env: FleetEnv, start_controller: Callable[..., Controller], tmp_path: Path) -> None:
    controller = start_controller()

    def converged() -> bool:
        last = controller.state.snapshot().last
        return last is not None and last.converged

    assert wait_until(converged, 60), controller.state.snapshot().last
    dom = dump_dom(f"{controller.url}/status", tmp_path / "chromium-profile")
    rows = GroupRows()
    rows.feed(dom)
    assert set(rows.rows) == {"factory-shanghai", "factory-suzhou", "retail-shops", "toll-a4"}
    last = controller.state.snapshot().last
    assert last is not None
    for group in last.groups:
        state, cells = rows.rows[group.name]
        assert state == "converged"
        assert f"{group.present:,} / {group.desired:,}" in cells
        assert f"{group.percent:.1f}%" in cells[1]
    assert last.revision_in_force is not None and last.revision_in_force[:12] in dom
    assert "edgefleet controller" in dom
