"""The Kubernetes adapter: the only layer that talks to an API server (official client).

- session.py: `Session` (kubeconfig, QPS token bucket, retries honouring Retry-After); every
  request goes through `Session.call` and comes back as raw bytes;
- discovery.py: which ImagePrePullJob dialect the cluster serves;
- listing.py / reading.py: paged LISTs decoded page by page into typed facts (ClusterFacts);
- applying.py: carry out a Plan (Strict creates, deletes, EdgeNodeInventory records, dry run);
- crds.py: install edgefleet's CRDs; cluster.py: `LiveCluster`, what a cycle observes and applies.
"""

from reconciler.kube.applying import ApplyReport, apply_plan
from reconciler.kube.cluster import LiveCluster
from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.discovery import DiscoveryError, job_api_version
from reconciler.kube.errors import ApiBusy, ApiRejected, ApiUnavailable, KubeConfigError, KubeError
from reconciler.kube.reading import observe
from reconciler.kube.session import ClientSettings, Session

__all__ = [
    "ApiBusy",
    "ApiRejected",
    "ApiUnavailable",
    "ApplyReport",
    "ClientSettings",
    "DiscoveryError",
    "KubeConfigError",
    "KubeError",
    "LiveCluster",
    "Session",
    "apply_plan",
    "install_crds",
    "job_api_version",
    "observe",
    "read_crds",
]
