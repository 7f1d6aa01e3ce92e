"""edgefleet: a GitOps reconciler that keeps KubeEdge edge image caches converged with git."""

__version__ = "0.1.0"
