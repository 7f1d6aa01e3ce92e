"""Cron expressions as crontab(5) means them, turned into APScheduler 3.x triggers.

APScheduler 3.x numbers weekdays from Monday = 0, crontab from Sunday = 0 (its own docs warn
about it): `CronTrigger.from_crontab("0 7 * * 1-5")` fires Tuesday to Saturday. Here the weekday
field is expanded in crontab's numbering (0 and 7 are Sunday) and handed to APScheduler as day
names, so "1-5" means Monday to Friday as every cron user expects.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any, Final

from reconciler.manifests.quoting import quote

_NAMES: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str) -> int:
    lowered = token.lower()
    if lowered in _NAMES:
        return _NAMES.index(lowered)
    if not token.isdigit() or int(token) > 7:
        raise ValueError(f"weekday {token!r} is not 0-7 or sun..sat")
    return int(token) % 7


def crontab_weekdays(field: str) -> str:
    """The weekday field in APScheduler's terms: "*" or a comma list of day names.

    Accepts what crontab does: numbers 0-7, names, ranges, lists and steps ("1-5", "mon,wed",
    "*/2", "0-6/3"). Raises ValueError for anything else.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"weekday step {step_text!r} is not a positive number")
        if part == "*":
            first, last = 0, 6
        elif "-" in part:
            low, high = part.split("-", 1)
            first, last = _weekday(low), int(high) if high == "7" else _weekday(high)
            if last < first:
                raise ValueError(f"weekday range {part!r} runs backwards")
        else:
            first = last = _weekday(part)
            if step is not None:
                last = 6
        days.update(day % 7 for day in range(first, last + 1, step or 1))
    return ",".join(_NAMES[day] for day in sorted(days))


def crontab_trigger(expression: str, timezone: str) -> Any:
    """An APScheduler CronTrigger firing as crontab would for `expression` in `timezone`.

    Raises ValueError for a malformed expression (wrong field count, values out of range) or an
    unknown time zone.
    """
    from apscheduler.triggers.cron import CronTrigger  # only FleetConfigs with driftReport need it

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"needs 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(weekday), timezone=timezone)


_DURATION = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")


def duration_seconds(text: str) -> int:
    """Seconds of a duration written like "1h", "90m", "1h30m", "45s". Raises ValueError."""
    found = _DURATION.fullmatch(text)
    if not text or found is None:
        raise ValueError(f"duration {quote(text)} must look like 1h, 30m, 1h30m or 45s")
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def check_duration(value: str) -> str:
    """A pydantic validator: `value` unchanged if it is a duration, else ValueError."""
    duration_seconds(value)
    return value


def check_cron(value: str) -> str:
    """A pydantic validator: `value` unchanged if it is a five-field cron expression."""
    try:
        crontab_trigger(value, "UTC")
    except ValueError as err:
        raise ValueError(f"schedule {quote(value)} is not a cron expression "
                         f"(minute hour day month weekday): {err}") from None
    return value


def check_timezone(value: str) -> str:
    """A pydantic validator: `value` unchanged if it names an IANA time zone."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {quote(value)} is not an IANA time zone (e.g. Asia/Shanghai)") from None
    return value
