"""What both simulated KubeEdge versions read from an ImagePrePullJob and from a Node, as the
Go controllers decode them (docs/kubeedge.md §2.2 and §4), plus the bug switches.

Pure: plain dicts in, frozen values out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sim.apiserver.errors import Obj

EDGE_ROLE_LABEL = "node-role.kubernetes.io/edge"

# Go strconv.ParseFloat accepts these; Python's float() also takes whitespace and
# underscores, which Go rejects, so match the Go grammar first.
_GO_FLOAT = re.compile(r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$",
                       re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Switches:
    """The documented KubeEdge bugs, each on by default as real clusters have them."""

    # kubeedge#7049: a timed-out or silent node keeps its concurrency slot forever (v1alpha2).
    wedge_on_silent_node: bool = True
    # v1alpha2: an executor that still lives under a job's name makes a re-created job of the
    # same name be skipped as "already running".
    skip_already_running: bool = True
    # v1alpha1: an unreadable secret makes the node report success with no imageStatus.
    v1alpha1_secret_silent_success: bool = True
    # retryTimes -1 reports success without pulling (both versions; uint wrap / skipped loop).
    retry_minus_one_silent_success: bool = True
    # The edge decodes the secret's .dockerconfigjson straight into a CRI AuthConfig, so a
    # standard {"auths": {...}} document yields empty credentials and an anonymous pull
    # (docs/kubeedge.md §1 item 9, §4.5; inferred). Off: the edge understands `auths`.
    dockerconfig_auths_yields_no_credentials: bool = True
    # A timeoutSeconds the Go types cannot hold stops the job from being processed at all:
    # absent in v1alpha1 (nil *uint32 dereferenced) or negative in either version (no uint32
    # decode in the informer); docs/kubeedge.md §2.2, inferred.
    nil_or_negative_timeout_breaks_job: bool = True


@dataclass(frozen=True, slots=True)
class PrePullSpec:
    """`spec.imagePrePullTemplate`, as read by the controllers (no defaults applied)."""

    images: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()
    label_selector: Obj | None = None  # None: absent (nil pointer); {} selects everything
    check_items: tuple[str, ...] = ()
    failure_tolerate: str = ""
    concurrency: int = 0
    timeout_seconds: int | None = None
    image_secret: str = ""
    retry_times: int = 0

    @classmethod
    def from_job(cls, job: Mapping[str, Any]) -> PrePullSpec:
        """Read a job dict; wrong-typed fields read as their zero value, as Go would fail to
        decode them (the CRD has no validation, so the store may hold anything)."""
        spec = job.get("spec") or {}
        tpl = spec.get("imagePrePullTemplate") or {} if isinstance(spec, dict) else {}
        if not isinstance(tpl, dict):
            tpl = {}

        def strings(key: str) -> tuple[str, ...]:
            value = tpl.get(key)
            return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        def integer(key: str) -> int | None:
            value = tpl.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        selector = tpl.get("labelSelector")
        tolerate = tpl.get("failureTolerate")
        secret = tpl.get("imageSecrets")
        return cls(
            images=strings("images"),
            node_names=strings("nodeNames"),
            label_selector=selector if isinstance(selector, dict) else None,
            check_items=strings("checkItems"),
            failure_tolerate=tolerate if isinstance(tolerate, str) else "",
            concurrency=integer("concurrency") or 0,
            timeout_seconds=integer("timeoutSeconds"),
            image_secret=secret if isinstance(secret, str) else "",
            retry_times=integer("retryTimes") or 0,
        )


def unreadable_timeout(spec: PrePullSpec, *, nil_breaks: bool) -> str | None:
    """Why the controllers cannot handle the job's timeoutSeconds, or None when they can:
    negative values do not decode into the Go `*uint32`; absent breaks the v1alpha1
    controller (`nil_breaks`), which dereferences the pointer (docs/kubeedge.md §2.2, inferred)."""
    if spec.timeout_seconds is None:
        return ("timeoutSeconds is absent and the v1alpha1 controller dereferences the nil "
                "pointer" if nil_breaks else None)
    if spec.timeout_seconds < 0:
        return f"timeoutSeconds {spec.timeout_seconds} cannot be decoded into uint32"
    return None


def parse_tolerance(text: str, default: float) -> float:
    """`failureTolerate` as Go's strconv.ParseFloat reads it; `default` when empty or invalid."""
    if not _GO_FLOAT.match(text):
        return default
    value = float(text)
    return default if math.isnan(value) else value


def go_round2(value: float) -> float:
    """Go's math.Round(x*100)/100: halves round away from zero (Python's round is banker's)."""
    scaled = value * 100
    return math.floor(scaled + 0.5) / 100 if scaled >= 0 else -math.floor(-scaled + 0.5) / 100


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What the controllers check about a node."""

    name: str
    is_edge: bool  # label node-role.kubernetes.io/edge present
    ready: bool | None  # Ready condition status == "True"; None when there is no Ready condition


def node_facts(node: Mapping[str, Any]) -> NodeFacts:
    """Read a Node object."""
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    ready: bool | None = None
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = cond.get("status") == "True"
    return NodeFacts(str(meta.get("name", "")), EDGE_ROLE_LABEL in labels, ready)


def selector_string(selector: Mapping[str, Any]) -> str:
    """A metav1.LabelSelector dict as the `labelSelector` query string (empty: everything).
    Raises ValueError on an operator Kubernetes does not know."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            raise ValueError(f'"{op}" is not a valid label selector operator')
    return ",".join(parts)


def tolerance_reason(failed: int, total: int) -> str:
    """The job reason both versions write when the failure tolerance is exceeded."""
    return (f"the number of failed nodes is {failed}/{total}, "
            "which exceeds the failure tolerance threshold")
