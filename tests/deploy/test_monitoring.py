"""components/monitoring (in the ha overlay): every alert and dashboard query names only
metrics the controller exports (read from its own registry), every alert has a severity, a
summary and a duration, and the ServiceMonitor scrapes the Service's port. (No Prometheus runs
here: the expressions are not evaluated.)"""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from reconciler.controller.metrics import ControllerMetrics
from tests.deploy.rendered import one, render

# PromQL words that are not metric names
PROMQL = {"sum", "max", "min", "by", "without", "rate", "time", "absent", "or", "and",
          "histogram_quantile", "le", "state", "group", "outcome", "phase", "action", "code"}


def exported() -> set[str]:
    """Metric names of `edgefleet run`'s /metrics, histogram and counter series included."""
    registry = CollectorRegistry()
    ControllerMetrics(registry)
    text = generate_latest(registry).decode()
    names = {line.split("{")[0].split()[0] for line in text.splitlines() if line and not line.startswith("#")}
    names |= {m.group(1) for m in re.finditer(r"^# TYPE (\S+) ", text, flags=re.M)}
    return names | {n + s for n in set(names) for s in ("_bucket", "_total")}


def metric_names(expr: str) -> set[str]:
    # label matchers ({what="x"}) and ranges ([10m]) name no metric
    without_strings = re.sub(r"\{[^}]*\}", "", re.sub(r'"[^"]*"', "", re.sub(r"\[[^\]]*\]", "", expr)))
    return {w for w in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", without_strings)
            if w not in PROMQL and not w.isdigit()}


def expressions() -> list[tuple[str, str]]:
    objects = render("ha")
    rule = one(objects, "PrometheusRule", "edgefleet")
    found = [(r["alert"], r["expr"]) for g in rule["spec"]["groups"] for r in g["rules"]]
    config = one(objects, "ConfigMap", "edgefleet-dashboard")
    dashboard: dict[str, Any] = json.loads(config["data"]["edgefleet.json"])
    found += [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    return found


def test_every_query_names_only_exported_metrics() -> None:
    known = exported()
    assert "edgefleet_revision_load_failing" in known
    unknown = {(where, name) for where, expr in expressions() for name in metric_names(expr)
               if name not in known}
    assert unknown == set()


def test_every_alert_says_how_bad_and_what_it_is_about() -> None:
    rule = one(render("ha"), "PrometheusRule", "edgefleet")
    for alert in (r for g in rule["spec"]["groups"] for r in g["rules"]):
        assert alert["labels"]["severity"] in ("warning", "critical"), alert["alert"]
        assert alert["annotations"]["summary"], alert["alert"]
        assert re.fullmatch(r"\d+[mh]", alert["for"]), alert["alert"]


def test_the_service_monitor_scrapes_the_controller_service() -> None:
    objects = render("ha")
    monitor = one(objects, "ServiceMonitor", "edgefleet-controller")
    service = one(objects, "Service", "edgefleet-controller")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in service["spec"]["ports"]]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
