"""Discovery: which API versions the cluster serves, hence which KubeEdge dialect to speak."""

from __future__ import annotations

import msgspec

from reconciler.kube.errors import KubeError
from reconciler.kube.session import Session
from reconciler.observed.cluster import JOB_GROUP as JOB_GROUP

JOB_PLURAL = "imageprepulljobs"
#: Preferred first: v1alpha2 is served (and the storage version) from KubeEdge 1.21 on.
JOB_VERSIONS = ("v1alpha2", "v1alpha1")


class _GroupVersion(msgspec.Struct):
    version: str


class _Group(msgspec.Struct):
    name: str
    versions: list[_GroupVersion] = []


class _GroupList(msgspec.Struct):
    groups: list[_Group] = []


class DiscoveryError(KubeError):
    """The cluster does not serve what edgefleet needs; `str()` is one line."""


def served_versions(session: Session) -> dict[str, tuple[str, ...]]:
    """Every API group the server lists under /apis, with its served versions."""
    body = session.call("discover API groups", session.apis.get_api_versions)
    groups = msgspec.json.decode(body, type=_GroupList).groups
    return {g.name: tuple(v.version for v in g.versions) for g in groups}


def job_api_version(session: Session) -> str:
    """`operations.kubeedge.io/v1alpha2` where served (KubeEdge 1.21+), else `.../v1alpha1`.

    Raises DiscoveryError when the cluster serves no ImagePrePullJob version at all (KubeEdge
    older than 1.16, or its CRDs not installed), KubeError when discovery fails.
    """
    return choose_job_api_version(served_versions(session))


def choose_job_api_version(served: dict[str, tuple[str, ...]]) -> str:
    """The job apiVersion to speak given the served versions per group (see job_api_version)."""
    versions = served.get(JOB_GROUP, ())
    for version in JOB_VERSIONS:
        if version in versions:
            return f"{JOB_GROUP}/{version}"
    raise DiscoveryError(
        f"the cluster serves no {JOB_GROUP} ImagePrePullJob API (KubeEdge >= 1.16 with its CRDs "
        f"is required); served versions of the group: {', '.join(versions) or 'none'}")
