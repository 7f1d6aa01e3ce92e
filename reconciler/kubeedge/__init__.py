"""The KubeEdge ImagePrePullJob dialects: build a job, read v1alpha1 and v1alpha2 status."""

from reconciler.kubeedge.spec import (
    JOB_API_VERSIONS,
    V1ALPHA1,
    V1ALPHA2,
    JobApiVersion,
    JobSpecError,
    build_job_manifest,
    job_timeout_seconds,
)
from reconciler.kubeedge.status import JobPhase, JobReading, NodeEvidence, read_job

__all__ = [
    "JOB_API_VERSIONS",
    "V1ALPHA1",
    "V1ALPHA2",
    "JobApiVersion",
    "JobPhase",
    "JobReading",
    "JobSpecError",
    "NodeEvidence",
    "build_job_manifest",
    "job_timeout_seconds",
    "read_job",
]
