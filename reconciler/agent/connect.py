"""How the agent reaches the API server: a kubeconfig, the in-cluster config, or a plain URL
(edgecore's MetaServer, http://127.0.0.1:10550 on the node)."""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client, config

from reconciler.agent.writer import NODES_GROUP, node_identity
from reconciler.kube.errors import KubeConfigError
from reconciler.kube.session import ClientSettings, Session

#: An agent writes a few times an hour: a small budget, so a bug cannot flood the API server.
AGENT_CLIENT = ClientSettings(qps=2.0, burst=4, request_timeout=20.0)


def connect(kubeconfig: Path | None, server: str | None, *, as_node: str | None = None) -> Session:
    """A Session: `server` (no credentials: MetaServer) wins, then `kubeconfig` or $KUBECONFIG,
    then the in-cluster service account, then ~/.kube/config. Raises KubeConfigError.

    `as_node`: every request impersonates that node (`Impersonate-User: system:node:<node>`,
    group `system:nodes`), as cloudcore does for what edgecore forwards; the credentials must
    be allowed to impersonate exactly that node (docs/agent.md, RBAC)."""
    session = _session(kubeconfig, server)
    if as_node is not None:
        session.api_client.set_default_header(  # type: ignore[no-untyped-call]
            "Impersonate-User", node_identity(as_node))
        session.api_client.set_default_header(  # type: ignore[no-untyped-call]
            "Impersonate-Group", NODES_GROUP)
    return session


def _session(kubeconfig: Path | None, server: str | None) -> Session:
    if server:
        configuration = client.Configuration()
        configuration.host = server.rstrip("/")
        configuration.retries = False
        return Session(client.ApiClient(configuration), AGENT_CLIENT)
    if kubeconfig is None and not os.environ.get("KUBECONFIG") and os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except config.ConfigException as error:
            raise KubeConfigError(f"in-cluster config: {error}") from None
        configuration.retries = False
        return Session(client.ApiClient(configuration), AGENT_CLIENT)
    return Session.from_kubeconfig(kubeconfig, settings=AGENT_CLIENT)
