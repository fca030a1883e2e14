"""kubectl drain, done as kubectl does it: cordon, then evict every pod on the node through pods/eviction."""

from __future__ import annotations

from test_attach_lifecycle import HANDLE, attached_on, csi_app, running_db
from test_sched_world import CSI_DRIVER, attachments, get, pods, ready, running, until

from kstor.sim.cluster import SimCluster


async def drain(cluster: SimCluster, node: str) -> list[str]:
    cluster.registry.patch("nodes", node, {"spec": {"unschedulable": True}})
    evicted = []
    for pod in cluster.registry.list("pods", field_selector=f"spec.nodeName={node}")["items"]:
        meta = pod["metadata"]
        eviction = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        }
        cluster.registry.evict(meta["name"], meta["namespace"], eviction)
        evicted.append(meta["name"])
    return evicted


async def test_drain_moves_pods_and_their_attachments() -> None:
    async with running(csi_app) as cluster:
        pod = await until(lambda: running_db(cluster), "db pod running")
        node = pod["spec"]["nodeName"]
        await until(lambda: attached_on(cluster, node), "attached")

        evicted = await drain(cluster, node)
        assert pod["metadata"]["name"] in evicted

        moved = await until(
            lambda: (p := running_db(cluster)) and p["spec"]["nodeName"] != node and p, "db running elsewhere"
        )
        await until(lambda: attached_on(cluster, moved["spec"]["nodeName"]), "attachment follows the pod")
        await until(
            lambda: all(
                get(cluster, "pods", name, "default") is None for name in evicted if name.startswith("db-")
            ),
            "old pod gone",
        )
        assert [va["spec"]["nodeName"] for va in attachments(cluster)] == [moved["spec"]["nodeName"]]
        drained = get(cluster, "nodes", node)
        assert drained["spec"]["unschedulable"] is True
        assert not drained["status"].get("volumesAttached")
        assert not drained["status"].get("volumesInUse")
        assert not [p for p in pods(cluster, "default") if p["spec"].get("nodeName") == node]
        unique = f"kubernetes.io/csi/{CSI_DRIVER}^{HANDLE}"
        target = get(cluster, "nodes", moved["spec"]["nodeName"])
        assert target["status"]["volumesInUse"] == [unique]
        assert ready(moved)
