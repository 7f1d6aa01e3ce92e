"""An embedded cluster made ready for edgefleet, as an operator would prepare a real one: the
pull secrets the fleet's manifests name, edgefleet's CRDs installed through the API, and a
kubeconfig for clients. The chaos suite and the controller tests start their clusters here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.kube.crds import install_crds, read_crds
from reconciler.kube.session import Session
from reconciler.manifests import load_fleet
from reconciler.sim.cluster import EmbeddedCluster
from reconciler.source import read_worktree


def pull_secrets_of(fleet_dir: Path) -> set[str]:
    """Every `namespace/name` pull secret the fleet under `fleet_dir` names.

    Raises ValueError when the fleet does not load (the first error, one line).
    """
    loaded = load_fleet(read_worktree(fleet_dir).files)
    if loaded.fleet is None:
        raise ValueError(f"{fleet_dir} does not load: {loaded.errors[0]}")
    return {image.secret for group in loaded.fleet.groups for image in group.images if image.secret}


@contextmanager
def edgefleet_cluster(kubeconfig: Path, *, pull_secrets: Iterable[str],
                      **cluster: Any) -> Iterator[EmbeddedCluster]:
    """A started `EmbeddedCluster(**cluster)` with `pull_secrets` created, edgefleet's CRDs
    installed and a kubeconfig for it written to `kubeconfig`; stopped (threads joined) on exit."""
    embedded = EmbeddedCluster(**cluster)
    try:
        embedded.start()
        for ref in sorted(pull_secrets):
            embedded.add_pull_secret(ref)
        embedded.write_kubeconfig(kubeconfig)
        session = Session.from_kubeconfig(kubeconfig)
        try:
            install_crds(session, read_crds())
        finally:
            session.close()
        yield embedded
    finally:
        embedded.stop()
