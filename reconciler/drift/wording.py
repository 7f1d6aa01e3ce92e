"""Words shared by the drift formats: ages, times, reason breakdowns, the one-line summary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from reconciler.drift.report import DriftReport, PairDetail


def age(now: datetime, since: datetime | None) -> str:
    """How long ago `since` was, in the two largest units: "3d 4h", "5h 12m", "42m", "< 1m"."""
    if since is None:
        return "–"
    return duration(int((now - since).total_seconds()))


def duration(seconds: int | None) -> str:
    """A duration in the two largest units ("2h 5m"); "–" when unknown (not reached yet)."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return "< 1m"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def moment(value: datetime | None) -> str:
    """A time as "2026-12-02 07:00 UTC"."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"


def top_reasons(reasons: Mapping[str, int], limit: int = 3) -> str:
    """The most frequent reasons with their counts: "failed 120, in-flight 30, +2 more"."""
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{reason} {count:,}" for reason, count in ranked[:limit])
    left = len(ranked) - limit
    return f"{shown}, +{left} more" if left > 0 else (shown or "–")


def detail_text(detail: PairDetail | None) -> str:
    """Attempts, next retry and last error of one pair, on one line."""
    if detail is None:
        return ""
    parts = []
    if detail.attempt is not None:
        limit = f" of {detail.attempt_limit}" if detail.attempt_limit is not None else ""
        parts.append(f"attempt {detail.attempt}{limit}")
    if detail.next_retry_at is not None:
        parts.append(f"next retry {moment(detail.next_retry_at)}")
    if detail.last_error:
        parts.append(f"last error: {detail.last_error}")
    return "; ".join(parts)


def headline(report: DriftReport) -> str:
    """One sentence for a chat message or a page title."""
    s = report.summary
    if not report.drifting:
        return (f"No drift: {s.convergence_percent:.2f} % of {s.pairs_desired:,} desired pairs present "
                f"on {s.nodes:,} nodes.")
    return (f"{s.pairs_drifting:,} pairs drifting on {s.nodes_drifting:,} of {s.nodes:,} nodes; "
            f"{s.convergence_percent:.2f} % of {s.pairs_desired:,} desired pairs present; "
            f"oldest drift {age(report.generated_at, s.oldest_since)}.")
