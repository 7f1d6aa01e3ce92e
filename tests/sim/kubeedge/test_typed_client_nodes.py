"""Every Node the embedded cluster generates, edge or control plane, must deserialize with the
official client's typed models (kubernetes 37 rejects a nodeInfo without its required IDs)."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config

from reconciler.sim.cluster import EmbeddedCluster


def test_typed_client_lists_every_generated_node(tmp_path: Path) -> None:
    with EmbeddedCluster(nodes=12, seed=3) as cluster:
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(cluster.write_kubeconfig(tmp_path / "kc")),
                                client_configuration=configuration)
        with client.ApiClient(configuration) as api:
            nodes = client.CoreV1Api(api).list_node().items
    roles = {"control-plane" if "node-role.kubernetes.io/control-plane" in n.metadata.labels else "edge"
             for n in nodes}
    assert roles == {"control-plane", "edge"}
    assert all(n.status.node_info.boot_id for n in nodes)
