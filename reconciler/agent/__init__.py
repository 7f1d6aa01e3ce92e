"""The edge inventory agent (`edgefleet agent`): what a node's container runtime holds, written
to the node's EdgeNodeInventory as `status.agent`.

- report.py: PURE, runtime images -> normalized inventory report with a content hash;
- runtime.py: the CRI adapter (Version, ListImages, ImageFsInfo over the runtime's unix socket);
- cri/: the CRI runtime.v1 client stubs, generated from upstream's api.proto;
- writer.py: the merge patch of `status.agent`, written on change and at every resync;
- connect.py: kubeconfig, in-cluster config or edgecore's MetaServer;
- loop.py: the poll loop the CLI runs.
"""
