"""VolumeAttachments follow pods between nodes; Multi-Attach for an RWO volume left on a dead node."""

from __future__ import annotations

import hashlib

from test_sched_world import CSI_DRIVER, attachments, deployment, events, get, pods, ready, running, until

from kstor.sim.cluster import SimCluster

HANDLE = "vol-0001"


def csi_app(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create(
        "persistentvolumes",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "block-1"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "block",
                "csi": {"driver": CSI_DRIVER, "volumeHandle": HANDLE, "fsType": "ext4"},
            },
        },
    )
    reg.create(
        "persistentvolumeclaims",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "db-data", "namespace": "default"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "block",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        "default",
    )
    app = deployment(
        "db", "default", volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "db-data"}}]
    )
    app["spec"]["strategy"] = {"type": "Recreate"}
    reg.create("deployments", app, "default")


def va_name(node: str) -> str:
    return "csi-" + hashlib.sha256(f"{HANDLE}{CSI_DRIVER}{node}".encode()).hexdigest()


def running_db(cluster: SimCluster) -> dict | None:
    found = [p for p in pods(cluster, "default", "db-") if ready(p)]
    return found[0] if len(found) == 1 else None


def attached_on(cluster: SimCluster, node: str) -> bool:
    va = get(cluster, "volumeattachments", va_name(node))
    node_obj = get(cluster, "nodes", node) or {}
    listed = [v["name"] for v in node_obj.get("status", {}).get("volumesAttached") or []]
    return bool(va and va.get("status", {}).get("attached")) and listed == [
        f"kubernetes.io/csi/{CSI_DRIVER}^{HANDLE}"
    ]


async def test_attachment_moves_with_the_pod() -> None:
    async with running(csi_app) as cluster:
        pod = await until(lambda: running_db(cluster), "db pod running")
        first = pod["spec"]["nodeName"]
        va = await until(
            lambda: attached_on(cluster, first) and get(cluster, "volumeattachments", va_name(first)),
            "attached",
        )
        assert va["spec"] == {
            "attacher": CSI_DRIVER,
            "nodeName": first,
            "source": {"persistentVolumeName": "block-1"},
        }
        assert va["metadata"]["finalizers"] == ["external-attacher/hostpath-csi-k8s-io"]
        assert (
            "external-attacher/hostpath-csi-k8s-io"
            in cluster.registry.get("persistentvolumes", "block-1")["metadata"]["finalizers"]
        )
        node = cluster.registry.get("nodes", first)
        assert node["status"]["volumesInUse"] == [f"kubernetes.io/csi/{CSI_DRIVER}^{HANDLE}"]
        attach_events = events(
            cluster, "default", name=pod["metadata"]["name"], reason="SuccessfulAttachVolume"
        )
        assert [e["message"] for e in attach_events] == [
            'AttachVolume.Attach succeeded for volume "block-1" '
        ]
        assert attach_events[0]["source"] == {"component": "attachdetach-controller"}

        cluster.registry.patch("nodes", first, {"spec": {"unschedulable": True}})
        cluster.registry.delete("pods", pod["metadata"]["name"], "default")

        moved = await until(
            lambda: (p := running_db(cluster)) and p["spec"]["nodeName"] != first and p,
            "pod running elsewhere",
        )
        second = moved["spec"]["nodeName"]
        await until(lambda: attached_on(cluster, second), "attached on the new node")
        assert get(cluster, "volumeattachments", va_name(first)) is None
        assert not cluster.registry.get("nodes", first)["status"].get("volumesAttached")
        assert [v["spec"]["nodeName"] for v in attachments(cluster)] == [second]


async def test_multi_attach_error_for_volume_on_dead_node() -> None:
    async with running(csi_app) as cluster:
        pod = await until(lambda: running_db(cluster), "db pod running")
        first, old_name = pod["spec"]["nodeName"], pod["metadata"]["name"]
        await until(lambda: attached_on(cluster, first), "attached")
        await cluster.controllers.stop(f"kubelet/{first}")
        await until(
            lambda: any(
                t["key"] == "node.kubernetes.io/unreachable"
                for t in get(cluster, "nodes", first)["spec"].get("taints") or []
            ),
            "dead node tainted unreachable",
        )
        cluster.registry.delete("pods", old_name, "default")  # stays Terminating: no kubelet to finish it

        def replacement() -> dict | None:
            found = [
                p
                for p in pods(cluster, "default", "db-")
                if p["metadata"]["name"] != old_name and p["spec"].get("nodeName")
            ]
            return found[0] if found else None

        new = await until(replacement, "replacement scheduled")
        assert new["spec"]["nodeName"] != first
        multi = await until(
            lambda: events(cluster, "default", name=new["metadata"]["name"], reason="FailedAttachVolume"),
            "Multi-Attach event",
        )
        assert multi[0]["type"] == "Warning"
        assert (
            multi[0]["message"]
            == f'Multi-Attach error for volume "block-1" Volume is already used by pod(s) {old_name}'
        )
        assert get(cluster, "pods", old_name, "default")["metadata"].get("deletionTimestamp")
        assert get(cluster, "volumeattachments", va_name(first)) is not None
        # Force-delete the Terminating pod (as an operator would); the dead kubelet still lists the volume
        # in volumesInUse, so the controller waits maxWaitForUnmountDuration (6 sim minutes), then detaches.
        cluster.registry.delete("pods", old_name, "default", grace_period_seconds=0)
        await until(
            lambda: attached_on(cluster, new["spec"]["nodeName"]), "force detach, then attach on the new node"
        )
        assert get(cluster, "volumeattachments", va_name(first)) is None
        await until(
            lambda: ready(get(cluster, "pods", new["metadata"]["name"], "default")), "replacement Ready"
        )
        assert len(events(cluster, "default", name=new["metadata"]["name"], reason="FailedAttachVolume")) == 1


def test_a_pod_delete_event_always_queues_its_node() -> None:
    """A DELETED event carries the pod's last version as both old and new, so nothing in it 'changed';
    it must still take the pod out of the node's desired state. Filtering it like an update left the
    volume attached until the next periodic resync (the drain-node-rwo drill failed its 60 s SLO)."""
    from kstor.sim.controllers.attach_detach import AttachDetachController

    adc = AttachDetachController(SimCluster(speed=100))
    pod = {
        "metadata": {"name": "db-0", "namespace": "default", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"nodeName": "worker-1"},
        "status": {"phase": "Running", "containerStatuses": [{"name": "db", "state": {"running": {}}}]},
    }
    adc.on_event("pods", "MODIFIED", pod, dict(pod))
    assert len(adc.queue) == 0  # an update that changes nothing the node sync reads
    adc.on_event("pods", "DELETED", pod, pod)
    assert len(adc.queue) == 1
