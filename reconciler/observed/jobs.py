"""ImagePrePullJobs as the cluster reports them, in either KubeEdge status dialect.

These are typed, selective decodes of the raw objects: metadata, the spec template and both
status shapes (v1alpha1 `state`/`status[]`, v1alpha2 `phase`/`nodeStatus[]`). Interpreting a
status is the job of `reconciler.kubeedge.status`; this module only carries the fields.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class JobMetadata(msgspec.Struct, frozen=True, rename="camel"):
    name: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    creation_timestamp: datetime | None = None
    deletion_timestamp: datetime | None = None


class JobTemplate(msgspec.Struct, frozen=True, rename="camel"):
    images: list[str] = msgspec.field(default_factory=list)
    node_names: list[str] = msgspec.field(default_factory=list)
    concurrency: int = 0
    timeout_seconds: int | None = None
    failure_tolerate: str = ""
    retry_times: int = 0
    image_secrets: str = ""
    check_items: list[str] = msgspec.field(default_factory=list)
    label_selector: dict[str, object] | None = None


class JobSpec(msgspec.Struct, frozen=True, rename="camel"):
    image_pre_pull_template: JobTemplate = msgspec.field(default_factory=JobTemplate)


class ImageStatus(msgspec.Struct, frozen=True, rename="camel"):
    """One image on one node: v1alpha2 writes `status` ("True"/"False"), v1alpha1 `state`."""

    image: str = ""
    status: str = ""
    state: str = ""
    reason: str = ""


class ActionFlowItem(msgspec.Struct, frozen=True, rename="camel"):
    action: str = ""
    status: str = ""
    reason: str = ""
    time: str = ""


class NodeStatusV2(msgspec.Struct, frozen=True, rename="camel"):
    """A v1alpha2 `status.nodeStatus[]` entry."""

    node_name: str = ""
    phase: str = ""
    reason: str = ""
    action_flow: list[ActionFlowItem] = msgspec.field(default_factory=list)
    image_status: list[ImageStatus] = msgspec.field(default_factory=list)


class NodeStateV1(msgspec.Struct, frozen=True, rename="camel"):
    node_name: str = ""
    state: str = ""
    event: str = ""
    action: str = ""
    reason: str = ""
    time: str = ""


class NodeStatusV1(msgspec.Struct, frozen=True, rename="camel"):
    """A v1alpha1 `status.status[]` entry."""

    node_status: NodeStateV1 = msgspec.field(default_factory=NodeStateV1)
    image_status: list[ImageStatus] = msgspec.field(default_factory=list)


class JobStatus(msgspec.Struct, frozen=True, rename="camel"):
    """Both dialects' fields; `phase is None` and `state is None` tell which one was written."""

    phase: str | None = None
    reason: str = ""
    node_status: list[NodeStatusV2] = msgspec.field(default_factory=list)
    state: str | None = None
    event: str = ""
    action: str = ""
    time: str = ""
    status: list[NodeStatusV1] = msgspec.field(default_factory=list)


class JobFacts(msgspec.Struct, frozen=True, rename="camel"):
    """One ImagePrePullJob: apiVersion, metadata, spec template and raw status."""

    api_version: str = ""
    metadata: JobMetadata = msgspec.field(default_factory=JobMetadata)
    spec: JobSpec = msgspec.field(default_factory=JobSpec)
    status: JobStatus = msgspec.field(default_factory=JobStatus)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def template(self) -> JobTemplate:
        return self.spec.image_pre_pull_template


class _JobList(msgspec.Struct, rename="camel"):
    items: list[JobFacts] | None = None


_LIST_DECODER = msgspec.json.Decoder(_JobList)
_ONE_DECODER = msgspec.json.Decoder(JobFacts)


def decode_jobs(data: bytes) -> list[JobFacts]:
    """Decode `kubectl get imageprepulljobs -o json` (kind List), an ImagePrePullJobList or one
    API page into JobFacts, in document order. Raises msgspec.DecodeError (a ValueError) when the
    bytes are not such a list or a field has the wrong type."""
    return list(_LIST_DECODER.decode(data).items or ())


def decode_job(data: bytes) -> JobFacts:
    """Decode one ImagePrePullJob object (JSON). Raises msgspec.DecodeError on bad input."""
    return _ONE_DECODER.decode(data)


def job_from_object(obj: object) -> JobFacts:
    """Convert an already-parsed object (e.g. from YAML or a watch event) into JobFacts.
    Raises msgspec.ValidationError (a ValueError) when a field has the wrong type."""
    return msgspec.convert(obj, JobFacts)
