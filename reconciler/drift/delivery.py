"""Delivering a drift report: files in a report directory, and POSTs to webhooks.

A webhook URL is a credential (a Slack incoming-webhook URL is its own secret): the caller
reads it from the Secret named in the FleetConfig and passes the string in; it is never logged
and never put in an error text. Logs name the webhook by its configured name. A delivery that
fails is retried with backoff on 5xx, 429 and connection errors, then logged and returned as a
failed `Delivery` (the daemon counts it in edgefleet_drift_delivery_failures_total{target});
nothing here raises into the caller.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Final, Literal

import httpx
import orjson

from reconciler.drift.render_json import report_dict
from reconciler.drift.report import DriftReport
from reconciler.drift.wording import age, headline, moment, top_reasons

log = logging.getLogger(__name__)

#: File extension per format.
EXTENSIONS: Final = {"markdown": "md", "json": "json", "html": "html"}
WebhookKind = Literal["slack", "generic"]


class _NoRequestLines(logging.Filter):
    """Drops httpx's "HTTP Request: POST <url>" records: for a webhook the URL is the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


_HTTPX_FILTER: Final = _NoRequestLines()
logging.getLogger("httpx").addFilter(_HTTPX_FILTER)


@dataclass(frozen=True, slots=True)
class Webhook:
    """One configured webhook: its name (logged), kind, and the URL read from its Secret."""

    name: str
    kind: WebhookKind
    url: str

    def __repr__(self) -> str:  # never show the URL, even in a traceback or a debugger
        return f"Webhook(name={self.name!r}, kind={self.kind!r}, url=<redacted>)"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts, backoff (base doubling up to cap) and per-request timeout of a delivery."""

    attempts: int = 4
    backoff: float = 1.0
    backoff_cap: float = 30.0
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one target: `target` is "dir" or "webhook/<name>"."""

    target: str
    ok: bool
    attempts: int
    error: str = ""
    paths: tuple[Path, ...] = ()


def write_report_files(directory: Path, rendered: Mapping[str, bytes], report: DriftReport) -> Delivery:
    """Write each rendered format (key: markdown, json or html) to `directory` as
    drift-<UTC time>.<ext> and replace latest.<ext> atomically (write a temporary file in the
    same directory, then rename). A reader never sees a half-written file."""
    stamp = report.generated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for kind, data in sorted(rendered.items()):
            ext = EXTENSIONS[kind]
            for name in (f"drift-{stamp}.{ext}", f"latest.{ext}"):
                written.append(_replace(directory / name, data))
    except OSError as error:
        log.warning("drift report not written to %s: %s", directory, error)
        return Delivery(target="dir", ok=False, attempts=1, error=str(error), paths=tuple(written))
    log.info("drift report written to %s (%s)", directory, ", ".join(p.name for p in written))
    return Delivery(target="dir", ok=True, attempts=1, paths=tuple(written))


def _replace(path: Path, data: bytes) -> Path:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def slack_payload(report: DriftReport, *, link: str | None = None) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (the notification line) and a few blocks."""
    s = report.summary
    revision = report.revision[:12] if report.revision else "no revision"
    lines = [f"*edgefleet drift* · revision `{revision}` · {moment(report.generated_at)}", headline(report)]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if report.drifting:
        fields = [{"type": "mrkdwn", "text": f"*{a.key}*: {a.pairs:,} pairs on {a.nodes:,} nodes"}
                  for a in report.aggregates.reasons[:5]]
        blocks.append({"type": "section", "fields": fields})
        worst = [a for a in report.aggregates.groups if a.pairs][:5]
        if worst:
            now = report.generated_at
            text = "\n".join(f"• `{a.key}`: {a.pairs:,} pairs, oldest {age(now, a.oldest_since)}"
                             f" ({top_reasons(a.reasons, 2)})" for a in worst)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Worst groups*\n" + text}})
    context = f"{s.pairs_desired:,} desired pairs · {s.nodes:,} nodes"
    if link:
        context += f" · <{link}|full report>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"edgefleet drift: {headline(report)}", "blocks": blocks}


def webhook_body(webhook: Webhook, report: DriftReport, *, link: str | None = None) -> bytes:
    """The POST body: a Slack message, or the whole JSON report for a generic webhook."""
    if webhook.kind == "slack":
        return orjson.dumps(slack_payload(report, link=link))
    return orjson.dumps(report_dict(report), option=orjson.OPT_SORT_KEYS)


def post_webhooks(
    webhooks: Sequence[Webhook],
    report: DriftReport,
    *,
    policy: RetryPolicy = RetryPolicy(),
    link: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> list[Delivery]:
    """POST the report to every webhook, one after the other; one Delivery per webhook.

    `sleep` waits between attempts (tests pass a recorder); `transport` is httpx's seam.
    """
    results = []
    with httpx.Client(timeout=policy.timeout, transport=transport, follow_redirects=False) as client:
        for webhook in webhooks:
            try:
                body = webhook_body(webhook, report, link=link)
                results.append(_post(client, webhook, body, policy, sleep))
            except Exception as failure:  # a bug must not stop reconciling; the text may hold the URL
                log.error("drift report to webhook %s failed: %s", webhook.name, type(failure).__name__)
                results.append(Delivery(target=f"webhook/{webhook.name}", ok=False, attempts=1,
                                        error=type(failure).__name__))
    return results


def _post(client: httpx.Client, webhook: Webhook, body: bytes, policy: RetryPolicy,
          sleep: Callable[[float], None]) -> Delivery:
    target = f"webhook/{webhook.name}"
    error = ""
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        retry = False
        try:
            response = client.post(webhook.url, content=body, headers={"Content-Type": "application/json"})
        except (httpx.TransportError, httpx.TooManyRedirects) as failure:
            # The text of an httpx error may carry the URL: only its class is kept.
            error, retry = f"{type(failure).__name__} (no response)", True
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as failure:
            error = f"{type(failure).__name__} (check the URL in the Secret)"
            break
        else:
            if response.is_success:
                log.info("drift report delivered to webhook %s (attempt %d)", webhook.name, attempt)
                return Delivery(target=target, ok=True, attempts=attempt)
            error = f"HTTP {response.status_code}"
            retry = response.status_code >= 500 or response.status_code == 429
        if not retry or attempt == attempts:
            break
        delay = min(policy.backoff * 2 ** (attempt - 1), policy.backoff_cap)
        log.info("drift report to webhook %s failed (%s), retrying in %.1fs", webhook.name, error, delay)
        sleep(delay)
    log.warning("drift report not delivered to webhook %s after %d attempt(s): %s",
                webhook.name, attempt, error)
    return Delivery(target=target, ok=False, attempts=attempt, error=error)
