"""The resolved fleet: what a valid revision of the fleet repository desires.

These frozen values are the contract between the manifest loader (which builds them from
YAML, after validation and image normalization) and the rest of the pipeline (desired state,
planner, reports). Nothing here does I/O; everything is hashable and totally ordered by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from reconciler.manifests.rollout_policy import RolloutPolicy

if TYPE_CHECKING:  # models imports this module
    from reconciler.manifests.models import DriftReportSpec

#: Built-in job policy, used where neither FleetConfig.defaults nor a group sets a key.
#: failureTolerate is "1": edgefleet retries per (node, image) pair itself, so a job should run
#: every node to the end; a low tolerance makes KubeEdge v1alpha1 stop dispatching early.
DEFAULT_CONCURRENCY = 10
DEFAULT_FAILURE_TOLERATE = "1"
DEFAULT_TIMEOUT_SECONDS = 300
DEFAULT_RETRY_TIMES = 1
DEFAULT_MAX_NODES_PER_JOB = 100

CheckItem = Literal["cpu", "mem", "disk"]
SelectionKind = Literal["nodeGroup", "selector", "names"]
SelectorOperator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


@dataclass(frozen=True, slots=True, order=True)
class JobPolicy:
    """The ImagePrePullJob knobs of a group, after defaults are applied (all valid)."""

    concurrency: int = DEFAULT_CONCURRENCY
    failure_tolerate: str = DEFAULT_FAILURE_TOLERATE  # a decimal string in 0..1, e.g. "0.1"
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS  # > 0
    retry_times: int = DEFAULT_RETRY_TIMES  # >= 0
    check_items: tuple[CheckItem, ...] = ()  # sorted, unique
    max_nodes_per_job: int = DEFAULT_MAX_NODES_PER_JOB  # 1..100


@dataclass(frozen=True, slots=True, order=True)
class LabelRequirement:
    """One metav1.LabelSelectorRequirement (values sorted; empty for Exists/DoesNotExist)."""

    key: str
    operator: SelectorOperator
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeSelection:
    """How a group selects nodes: exactly one of the three ways, named by `kind`.

    - nodeGroup: nodes labelled `apps.kubeedge.io/belonging-to=<node_group>`
    - selector: full metav1.LabelSelector semantics (match_labels AND match_expressions)
    - names: exactly these node names
    """

    kind: SelectionKind
    node_group: str | None = None
    match_labels: tuple[tuple[str, str], ...] = ()  # sorted by key
    match_expressions: tuple[LabelRequirement, ...] = ()
    names: tuple[str, ...] = ()  # sorted, unique


@dataclass(frozen=True, slots=True, order=True)
class GroupImage:
    """One normalized image reference a group desires, with the secret it is pulled with."""

    image: str  # normalized, e.g. docker.io/library/nginx:1.25
    secret: str | None = None  # effective "namespace/name": image > group > defaults


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a document was defined, for messages: `path:line`."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class NodeGroupSpec:
    """A NodeGroupImages document, resolved: ImageSets expanded, images normalized, deduplicated
    and sorted, policy and secrets fully defaulted."""

    name: str
    selection: NodeSelection
    images: tuple[GroupImage, ...]
    policy: JobPolicy = field(default_factory=JobPolicy)
    suspend: bool = False
    image_sets: tuple[str, ...] = ()  # names of the ImageSets it uses, for reports
    source: SourceLocation | None = None
    pin_digests: bool = False  # group's pinDigests, else FleetConfig's
    rollout: RolloutPolicy | None = None  # waves, windows, bandwidth (docs/rollout.md)


@dataclass(frozen=True, slots=True)
class Fleet:
    """Everything a valid revision desires. `groups` is sorted by name."""

    groups: tuple[NodeGroupSpec, ...]
    defaults: JobPolicy = field(default_factory=JobPolicy)
    allow_empty: bool = False
    image_sets: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, normalized images), sorted
    insecure_registries: tuple[str, ...] = ()  # host[:port] spoken to over plain HTTP, sorted
    pin_digests: bool = False  # FleetConfig spec.pinDigests (each group has its effective value)
    # FleetConfig spec.driftReport (docs/drift.md); out of the hash: the spec holds lists.
    drift_report: DriftReportSpec | None = field(default=None, hash=False)
    # FleetConfig spec.agentReports (docs/agent.md): when a report is stale, the GC threshold
    agent_stale_after_seconds: int = 7200
    agent_gc_high_percent: int = 85

    def group(self, name: str) -> NodeGroupSpec:
        """The group called `name` (KeyError if there is none)."""
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    @property
    def distinct_images(self) -> frozenset[str]:
        """Every normalized image any group desires."""
        return frozenset(i.image for g in self.groups for i in g.images)
