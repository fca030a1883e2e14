"""Scheduler queueing: a claim event requeues only the pods that use that claim (VolumeBinding's
isSchedulableAfterPersistentVolumeClaimChange hint), so a pod whose claim binds is scheduled after
its own back-off, not after a cluster-wide flush. Manual clock, scheduler loop only."""

from __future__ import annotations

import asyncio

from test_sched_world import claim, container, get, node

from kstor.sim.cluster import SimCluster
from kstor.sim.controllers.scheduler import UNSCHEDULABLE_RETRY, Scheduler

UNBOUND = "pod has unbound immediate PersistentVolumeClaims"


def pod_using(name: str, claim_name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "containers": [container()],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


def static_pv(name: str, claim_name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "manual",
            "nfs": {"server": "10.96.0.20", "path": f"/exports/{name}"},
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": claim_name},
        },
    }


def bind_claim(cluster: SimCluster, claim_name: str, pv_name: str) -> None:
    """What the PV controller's last two writes do: volumeName + bind-completed, then phase Bound."""
    reg = cluster.registry
    pvc = reg.get("persistentvolumeclaims", claim_name, "default")
    pvc["spec"]["volumeName"] = pv_name
    pvc["metadata"].setdefault("annotations", {})["pv.kubernetes.io/bind-completed"] = "yes"
    pvc = reg.update("persistentvolumeclaims", pvc, "default")
    pvc["status"] = {"phase": "Bound", "accessModes": ["ReadWriteMany"], "capacity": {"storage": "1Gi"}}
    reg.update("persistentvolumeclaims", pvc, "default", subresource="status")


def unschedulable_message(cluster: SimCluster, name: str) -> str:
    pod = get(cluster, "pods", name, "default") or {}
    for cond in pod.get("status", {}).get("conditions") or []:
        if cond["type"] == "PodScheduled" and cond["status"] == "False":
            return cond["message"]
    return ""


async def settle(cluster: SimCluster, seconds: float) -> None:
    for _ in range(3):
        await asyncio.sleep(0)
    await cluster.clock.advance(seconds, step=0.5)


async def test_claim_event_requeues_only_the_pods_that_use_it() -> None:
    cluster = SimCluster(manual_clock=True, seed=7)
    reg = cluster.registry
    reg.create("nodes", node("worker-1"))
    for name in ("a", "b"):
        reg.create("persistentvolumeclaims", claim(name, "default", storage_class="manual"), "default")
        reg.create("persistentvolumes", static_pv(f"pv-{name}", name))
        reg.create("pods", pod_using(f"uses-{name}", name), "default")
    cluster.build()
    cluster.controllers.start("scheduler")
    scheduler = cluster.controllers.get("scheduler")
    assert isinstance(scheduler, Scheduler)
    try:
        await settle(cluster, 2.0)
        for name in ("uses-a", "uses-b"):
            assert UNBOUND in unschedulable_message(cluster, name)

        # Claim "a" binds. Only uses-a goes back to the queue; uses-b keeps waiting for its own claim
        # (or the periodic retry), it is not swept back by an unrelated claim's event.
        bind_claim(cluster, "a", "pv-a")
        await settle(cluster, 0.0)
        assert ("default", "uses-b") in scheduler.unschedulable
        assert ("default", "uses-a") not in scheduler.unschedulable

        # uses-a is scheduled after its back-off, well before the periodic retry of unschedulable pods.
        await settle(cluster, 3.0)
        assert cluster.clock.elapsed() < UNSCHEDULABLE_RETRY
        assert (get(cluster, "pods", "uses-a", "default") or {})["spec"].get("nodeName") == "worker-1"
        assert not (get(cluster, "pods", "uses-b", "default") or {})["spec"].get("nodeName")

        bind_claim(cluster, "b", "pv-b")
        await settle(cluster, 3.0)
        assert (get(cluster, "pods", "uses-b", "default") or {})["spec"].get("nodeName") == "worker-1"
    finally:
        await cluster.stop()
