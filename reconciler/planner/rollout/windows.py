"""Maintenance windows: is `now` inside one, and when does the next one open. Pure: time is a
parameter. A window opens at each firing of its crontab schedule read in its IANA time zone
(APScheduler's CronTrigger over zoneinfo, so DST days fire as the local clock says) and stays
open for its duration in elapsed time: a 3h window opening at 01:00 on a spring-forward night
closes at 05:00 local, three real hours later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from reconciler.manifests.rollout_policy import Window
from reconciler.manifests.schedule import crontab_trigger


@lru_cache(maxsize=256)
def _trigger(schedule: str, timezone: str) -> Any:
    return crontab_trigger(schedule, timezone)


def _next_fire(window: Window, since: datetime) -> datetime | None:
    fire: datetime | None = _trigger(window.schedule, window.timezone).get_next_fire_time(None, since)
    return fire


def window_opened(window: Window, now: datetime) -> datetime | None:
    """When the opening of `window` that `now` lies in began, or None when it is closed."""
    # The first firing after (now - duration) is the only candidate: any firing at or before
    # `now` and after that instant has now < firing + duration.
    since = now - timedelta(seconds=window.seconds) + timedelta(microseconds=1)
    fire = _next_fire(window, since)
    return fire if fire is not None and fire <= now else None


def next_opening(windows: Sequence[Window], now: datetime) -> datetime | None:
    """The earliest window opening strictly after `now` (None: none is scheduled)."""
    fires = [f for w in windows if (f := _next_fire(w, now + timedelta(microseconds=1))) is not None]
    return min(fires).astimezone(UTC) if fires else None


def inside_window(windows: Sequence[Window], now: datetime) -> bool:
    """True when no window is configured or `now` is inside one of them."""
    return not windows or any(window_opened(w, now) is not None for w in windows)
