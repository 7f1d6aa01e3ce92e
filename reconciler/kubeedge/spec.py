"""Build ImagePrePullJob objects in the form both KubeEdge dialects accept.

The spec is identical in operations.kubeedge.io/v1alpha1 and v1alpha2 (docs/kubeedge.md §2.2);
only apiVersion differs. Every field is emitted in its safe form (docs/kubeedge.md §4.6): a string
failureTolerate, timeoutSeconds > 0 (absent panics v1alpha1 and disables the v1alpha2 timeout),
retryTimes >= 0 (-1 reports success without pulling), concurrency >= 1, and always nodeNames,
never labelSelector (a selector is resolved once and includes nodes that need nothing).

`timeoutSeconds` in a fleet policy is per node; what a job carries depends on the dialect
(`job_timeout_seconds`): v1alpha1 runs a timer per dispatched node per stage, v1alpha2 (1.21)
measures a node that has no actionFlow yet from the job's creation, so a node queued behind
the concurrency limit needs the time of every wave before it (docs/kubeedge.md §4.3, point 5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from reconciler.manifests.fleet import JobPolicy

GROUP: Final = "operations.kubeedge.io"
KIND: Final = "ImagePrePullJob"
V1ALPHA1: Final = "operations.kubeedge.io/v1alpha1"
V1ALPHA2: Final = "operations.kubeedge.io/v1alpha2"
JobApiVersion = Literal["operations.kubeedge.io/v1alpha1", "operations.kubeedge.io/v1alpha2"]
JOB_API_VERSIONS: Final = (V1ALPHA1, V1ALPHA2)
INT32_MAX: Final = 2_147_483_647


class JobSpecError(ValueError):
    """A job could not be built because an input violates what KubeEdge accepts."""


def job_timeout_seconds(api_version: str, node_timeout: int, nodes: int, concurrency: int) -> int:
    """The `timeoutSeconds` a job of `nodes` nodes carries for a per-node timeout.

    v1alpha2: node_timeout x ceil(nodes / concurrency), so the last wave is not timed out
    before it is dispatched; v1alpha1 (and anything else): node_timeout unchanged. Clamped to
    INT32_MAX: the field is an int32, and the API server rejects a larger value.
    """
    if api_version != V1ALPHA2:
        return min(node_timeout, INT32_MAX)
    return min(node_timeout * math.ceil(max(nodes, 1) / max(concurrency, 1)), INT32_MAX)


def build_job_manifest(
    *,
    name: str,
    api_version: str,
    images: Sequence[str],
    node_names: Sequence[str],
    policy: JobPolicy,
    secret: str | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
) -> dict[str, Any]:
    """Return a complete ImagePrePullJob object (plain dict, keys in a fixed order).

    `images` and `node_names` are emitted in the order given (callers pass them sorted).
    `secret` is "namespace/name" or None (then `imageSecrets` is omitted). The policy's
    timeoutSeconds is per node; the emitted value is `job_timeout_seconds`. Raises JobSpecError
    for an unknown api_version, an empty image or node list, or a policy value KubeEdge would
    misread (concurrency < 1, timeoutSeconds <= 0, retryTimes < 0, failureTolerate not in 0..1).
    """
    if api_version not in JOB_API_VERSIONS:
        raise JobSpecError(f"unsupported ImagePrePullJob apiVersion {api_version!r}")
    if not images or not node_names:
        raise JobSpecError(f"job {name}: needs at least one image and one node")
    _check_policy(name, policy)
    template: dict[str, Any] = {
        "images": list(images),
        "nodeNames": list(node_names),
        "checkItems": list(policy.check_items),
        "failureTolerate": policy.failure_tolerate,
        "concurrency": policy.concurrency,
        "timeoutSeconds": job_timeout_seconds(
            api_version, policy.timeout_seconds, len(node_names), policy.concurrency),
        "retryTimes": policy.retry_times,
    }
    if secret:
        namespace, _, secret_name = secret.partition("/")
        if not namespace or not secret_name or "/" in secret_name:
            raise JobSpecError(f"job {name}: image secret {secret!r} is not namespace/name")
        template["imageSecrets"] = secret
    metadata: dict[str, Any] = {"name": name, "labels": dict(sorted(labels.items()))}
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {
        "apiVersion": api_version,
        "kind": KIND,
        "metadata": metadata,
        "spec": {"imagePrePullTemplate": template},
    }


def _check_policy(name: str, policy: JobPolicy) -> None:
    if policy.concurrency < 1:
        raise JobSpecError(f"job {name}: concurrency must be >= 1, got {policy.concurrency}")
    if policy.timeout_seconds <= 0:
        raise JobSpecError(f"job {name}: timeoutSeconds must be > 0, got {policy.timeout_seconds}")
    if policy.retry_times < 0:
        raise JobSpecError(f"job {name}: retryTimes must be >= 0, got {policy.retry_times}")
    try:
        tolerate = float(policy.failure_tolerate)
    except ValueError:
        tolerate = -1.0
    if not 0.0 <= tolerate <= 1.0:
        raise JobSpecError(f"job {name}: failureTolerate must be a number in 0..1, got "
                           f"{policy.failure_tolerate!r}")
