"""Attach under chaos: attacher stopped, VolumeAttachment deleted, out-of-service (non-graceful shutdown)."""

from __future__ import annotations

from test_attach_lifecycle import attached_on, csi_app, running_db, va_name
from test_sched_world import events, get, pods, ready, running, until


async def test_attacher_down_pod_waits_with_timeout_events_then_attaches() -> None:
    async with running(csi_app) as cluster:
        await cluster.controllers.stop("csi-attacher")
        pod = await until(
            lambda: (p := pods(cluster, "default", "db-")) and p[0]["spec"].get("nodeName") and p[0],
            "scheduled",
        )
        name = pod["metadata"]["name"]
        timeout = await until(
            lambda: [e for e in events(cluster, "default", name=name, reason="FailedMount")],
            "kubelet timeout event",
        )
        assert timeout[0]["message"] == (
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: "
            "timed out waiting for the condition"
        )
        attach = await until(
            lambda: events(cluster, "default", name=name, reason="FailedAttachVolume"), "attach timeout"
        )
        assert attach[0]["message"] == (
            'AttachVolume.Attach failed for volume "block-1" : timed out waiting for external-attacher of '
            "hostpath.csi.k8s.io CSI driver to attach volume vol-0001"
        )
        current = get(cluster, "pods", name, "default")
        assert current["status"]["phase"] == "Pending"
        assert current["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
        assert (
            get(cluster, "volumeattachments", va_name(pod["spec"]["nodeName"]))
            .get("status", {})
            .get("attached")
            is not True
        )

        cluster.controllers.start("csi-attacher")
        await until(lambda: ready(get(cluster, "pods", name, "default")), "pod runs once attached")


async def test_deleted_attachment_still_needed_is_recreated() -> None:
    async with running(csi_app) as cluster:
        pod = await until(lambda: running_db(cluster), "db running")
        node = pod["spec"]["nodeName"]
        await until(lambda: attached_on(cluster, node), "attached")
        old_uid = get(cluster, "volumeattachments", va_name(node))["metadata"]["uid"]
        cluster.registry.delete("volumeattachments", va_name(node))
        await until(
            lambda: (
                (va := get(cluster, "volumeattachments", va_name(node)))
                and va["metadata"]["uid"] != old_uid
                and attached_on(cluster, node)
            ),
            "attachment re-created and attached",
        )


async def test_out_of_service_taint_force_detaches_at_once() -> None:
    async with running(csi_app) as cluster:
        pod = await until(lambda: running_db(cluster), "db running")
        node, old = pod["spec"]["nodeName"], pod["metadata"]["name"]
        await until(lambda: attached_on(cluster, node), "attached")
        await cluster.controllers.stop(f"kubelet/{node}")
        await until(
            lambda: any(
                c["type"] == "Ready" and c["status"] == "Unknown"
                for c in get(cluster, "nodes", node)["status"]["conditions"]
            ),
            "node NotReady",
        )
        taints = get(cluster, "nodes", node)["spec"].get("taints") or []
        oos = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}
        cluster.registry.patch("nodes", node, {"spec": {"taints": [*taints, oos]}})
        await until(
            lambda: get(cluster, "pods", old, "default") is None, "pod on the shut-down node force-deleted"
        )
        moved = await until(
            lambda: (p := running_db(cluster)) and p["spec"]["nodeName"] != node and p, "db runs elsewhere"
        )
        await until(lambda: attached_on(cluster, moved["spec"]["nodeName"]), "attached on the new node")
        assert get(cluster, "volumeattachments", va_name(node)) is None
