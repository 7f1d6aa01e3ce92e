"""The three kinds of the fleet repository as pydantic models (docs/design.md §2).

These models check one document at a time: shape, types, ranges, names and image syntax.
Rules that span documents (duplicate names, missing ImageSets, at most one FleetConfig) and
the resolution into the Fleet contract live in the loader. Keys are camelCase in YAML and
snake_case in Python; unknown keys are errors.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

from reconciler.manifests import k8snames
from reconciler.manifests.fleet import CheckItem, SelectorOperator
from reconciler.manifests.imageref import ImageRefError, parse_image
from reconciler.manifests.quoting import quote
from reconciler.manifests.rollout_spec import BandwidthSpec, RolloutSpec, WindowSpec
from reconciler.manifests.schedule import check_cron, check_duration, check_timezone

API_VERSION = "edgefleet.io/v1alpha1"
INT32_MAX = 2**31 - 1


def _checked(problem_of: Any, what: str) -> Any:
    def check(value: str) -> str:
        problem = problem_of(value)
        if problem is not None:
            raise ValueError(f"invalid {what} {quote(value)}: {problem}")
        return value

    return AfterValidator(check)


def _check_image(value: str) -> str:
    try:
        parse_image(value)
    except ImageRefError as err:
        raise ValueError(f"invalid image reference {quote(value)}: {err}") from None
    return value


_DECIMAL_TEXT = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _failure_tolerate(value: object) -> object:
    """Accept a number or a decimal string in 0..1; emit the canonical decimal string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("failureTolerate must be a number or a string between 0 and 1")
    text = str(value)
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value) is None:
        raise ValueError(f"failureTolerate {quote(value)} is not a decimal number between 0 and 1")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"failureTolerate {quote(text)} is not a decimal number") from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise ValueError(f"failureTolerate must be between 0 and 1, not {text}")
    return format(number.normalize(), "f")


ResourceName = Annotated[str, _checked(k8snames.dns1123_label_problem, "name")]
SecretRef = Annotated[str, _checked(k8snames.secret_ref_problem, "imageSecret")]
NodeName = Annotated[str, _checked(k8snames.dns1123_subdomain_problem, "node name")]
NodeGroupName = Annotated[str, _checked(k8snames.dns1123_label_problem, "nodeGroup"), Field(max_length=63)]
LabelKey = Annotated[str, _checked(k8snames.label_key_problem, "label key")]
LabelValue = Annotated[str, _checked(k8snames.label_value_problem, "label value")]
ImageReference = Annotated[str, AfterValidator(_check_image)]
FailureTolerate = Annotated[
    str,
    BeforeValidator(_failure_tolerate),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"},
            ],
            "description": "Share of nodes that may fail, 0..1; emitted as a string.",
        }
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=False,
        field_title_generator=lambda name, _info: to_camel(name),
    )


class PolicySpec(_Model):
    """ImagePrePullJob knobs a group may override; every key optional."""

    concurrency: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    failure_tolerate: FailureTolerate | None = None
    timeout_seconds: Annotated[int, Field(gt=0, le=INT32_MAX)] | None = None
    retry_times: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = None
    check_items: list[CheckItem] | None = None
    max_nodes_per_job: Annotated[int, Field(ge=1, le=100)] | None = None


class DefaultsSpec(PolicySpec):
    """FleetConfig.spec.defaults: the policy of every group, plus the default pull secret."""

    image_secret: SecretRef | None = None
    rollout: RolloutSpec | None = None
    windows: list[WindowSpec] | None = None
    bandwidth: BandwidthSpec | None = None


def _check_registry_host(value: str) -> str:
    """A registry as it appears in image references: `host[:port]`, nothing else."""
    if "://" in value or "/" in value or "@" in value:
        raise ValueError(f"invalid registry {quote(value)}: expected host[:port], e.g. reg.local:5000")
    try:
        registry = parse_image(f"{value}/probe").registry
    except ImageRefError as err:
        raise ValueError(f"invalid registry {quote(value)}: {err}") from None
    if registry != value.lower():
        raise ValueError(f"invalid registry {quote(value)}: expected host[:port], e.g. reg.local:5000")
    return value.lower()


RegistryHost = Annotated[str, AfterValidator(_check_registry_host)]


class RegistriesSpec(_Model):
    """FleetConfig.spec.registries: how edgefleet itself talks to registries (docs/registry.md)."""

    insecure: list[RegistryHost] = Field(
        default_factory=list,
        description="Registries (host[:port]) spoken to over plain HTTP; every other one over TLS.",
    )


CronExpression = Annotated[str, AfterValidator(check_cron),
                           Field(description="Five-field cron expression (minute hour day month weekday).")]
TimeZone = Annotated[str, AfterValidator(check_timezone), Field(description="IANA time zone name.")]
Duration = Annotated[str, AfterValidator(check_duration),
                     Field(pattern=r"^(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$", min_length=2)]
SecretKey = Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]
ReportFormat = Literal["markdown", "json", "html"]


class WebhookSpec(_Model):
    """A drift-report webhook; its URL is read from a Secret key (a webhook URL is a credential)."""

    name: ResourceName
    kind: Literal["slack", "generic"]
    url_secret: Annotated[str, _checked(k8snames.secret_ref_problem, "urlSecret")]
    key: SecretKey = "url"


class DriftReportSpec(_Model):
    """FleetConfig.spec.driftReport: when and how drift reports are made (docs/drift.md)."""

    schedule: CronExpression
    timezone: TimeZone = "UTC"
    formats: Annotated[list[ReportFormat], Field(min_length=1)] = ["markdown", "json", "html"]
    min_age: Duration = "1h"
    site_label: LabelKey = "topology.kubernetes.io/zone"
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    webhooks: list[WebhookSpec] = []

    @model_validator(mode="after")
    def _unique(self) -> DriftReportSpec:
        if len(set(self.formats)) != len(self.formats):
            raise ValueError("driftReport.formats lists a format twice")
        names = [w.name for w in self.webhooks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"driftReport.webhooks: duplicate name {quote(twice[0])}")
        return self


class AgentReportsSpec(_Model):
    """FleetConfig.spec.agentReports: how far the edge agents' reports are trusted (docs/agent.md)."""

    stale_after: Duration = Field(
        default="2h", description="A report older than this is stale: planning falls back to jobs' evidence.")
    gc_high_threshold_percent: Annotated[int, Field(ge=1, le=100)] = Field(
        default=85, description="The nodes' imageGCHighThresholdPercent: the disk rule stays below it.")


class FleetConfigSpec(_Model):
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    allow_empty: bool = False
    registries: RegistriesSpec = Field(default_factory=RegistriesSpec)
    pin_digests: bool = Field(
        default=False, description="Jobs pull repo@sha256:... resolved at plan time (a group may override)."
    )
    drift_report: DriftReportSpec | None = None
    agent_reports: AgentReportsSpec = Field(default_factory=AgentReportsSpec)


class Metadata(_Model):
    """Object metadata: a name; labels and annotations are accepted for tooling and ignored."""

    name: ResourceName
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class OptionalNameMetadata(Metadata):
    name: ResourceName | None = None  # type: ignore[assignment]


class ImageEntry(_Model):
    """One image: written as a plain string, or as {image, imageSecret}."""

    image: ImageReference
    image_secret: SecretRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        if isinstance(data, str):
            return {"image": data}
        if not isinstance(data, dict):
            raise ValueError("an image entry is a string or a mapping {image, imageSecret}")
        if len(data) == 1 and "image" not in data and next(iter(data.values())) is None:
            # `- nginx:` (a reference ending in ':') is YAML for the mapping {nginx: null}.
            raise ValueError(
                f"{quote(next(iter(data)) + ':')} was read as a YAML mapping; quote the image reference"
            )
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: cs.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        as_object = handler(core_schema)
        return {"anyOf": [{"type": "string", "description": "An image reference."}, as_object]}


class LabelSelectorRequirement(_Model):
    """metav1.LabelSelectorRequirement."""

    key: LabelKey
    operator: SelectorOperator
    values: list[LabelValue] | None = None

    @model_validator(mode="after")
    def _values_match_operator(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs a non-empty values list")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(_Model):
    """metav1.LabelSelector: matchLabels AND matchExpressions."""

    match_labels: dict[LabelKey, LabelValue] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


_SELECTION_KEYS = ("nodeGroup", "selector", "names")


class NodesSpec(_Model):
    """How a group selects nodes: exactly one of nodeGroup, selector, names."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": [key]} for key in _SELECTION_KEYS]},
    )

    node_group: NodeGroupName | None = None
    selector: LabelSelector | None = None
    names: list[NodeName] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> NodesSpec:
        given = [to_camel(field) for field in type(self).model_fields if getattr(self, field) is not None]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            raise ValueError(f"nodes needs exactly one of nodeGroup, selector, names{found}")
        return self


class ImageSetSpec(_Model):
    images: list[ImageEntry]


class NodeGroupImagesSpec(_Model):
    nodes: NodesSpec
    image_sets: list[ResourceName] = []
    images: list[ImageEntry] = []
    image_secret: SecretRef | None = None
    policy: PolicySpec = Field(default_factory=PolicySpec)
    suspend: bool = False
    pin_digests: bool | None = Field(default=None, description="Overrides FleetConfig spec.pinDigests.")
    rollout: RolloutSpec | None = None  # each of the three replaces FleetConfig's default whole
    windows: list[WindowSpec] | None = None
    bandwidth: BandwidthSpec | None = None


class FleetConfig(_Model):
    """The fleet-wide settings; at most one per repository."""

    model_config = ConfigDict(title="FleetConfig")

    api_version: Literal["edgefleet.io/v1alpha1"]
    kind: Literal["FleetConfig"]
    metadata: OptionalNameMetadata | None = None
    spec: FleetConfigSpec = Field(default_factory=FleetConfigSpec)


class ImageSet(_Model):
    """A named, reusable list of images."""

    model_config = ConfigDict(title="ImageSet")

    api_version: Literal["edgefleet.io/v1alpha1"]
    kind: Literal["ImageSet"]
    metadata: Metadata
    spec: ImageSetSpec


class NodeGroupImages(_Model):
    """The images every node of a group must hold."""

    model_config = ConfigDict(title="NodeGroupImages")

    api_version: Literal["edgefleet.io/v1alpha1"]
    kind: Literal["NodeGroupImages"]
    metadata: Metadata
    spec: NodeGroupImagesSpec


Document = FleetConfig | ImageSet | NodeGroupImages
KINDS: dict[str, type[FleetConfig] | type[ImageSet] | type[NodeGroupImages]] = {
    "FleetConfig": FleetConfig,
    "ImageSet": ImageSet,
    "NodeGroupImages": NodeGroupImages,
}
