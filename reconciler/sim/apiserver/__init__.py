"""The embedded Kubernetes API server: storage, HTTP, watches, schemas. It knows nothing of KubeEdge."""
