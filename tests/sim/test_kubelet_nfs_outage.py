"""While the NFS server is down, mounts fail with the real mount.nfs text and running pods turn unready."""

from __future__ import annotations

from test_kubelet_mounts import nfs_app
from test_sched_world import NFS_SERVER, events, get, mounts, pods, ready, running, until


async def test_failed_mount_while_nfs_down_then_recovery() -> None:
    async with running(nfs_app) as cluster:
        await until(
            lambda: len([p for p in pods(cluster, "default", "web-") if ready(p)]) == 2, "web pods Ready"
        )
        before = {p["metadata"]["name"] for p in pods(cluster, "default", "web-")}

        await cluster.controllers.stop("nfs-server")  # nfsd dies: the exports stop answering
        await until(
            lambda: not any(ready(p) for p in pods(cluster, "default", "web-")), "NFS pods turn unready"
        )
        for pod in pods(cluster, "default", "web-"):
            assert pod["status"]["phase"] == "Running"
            ready_cond = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
            assert ready_cond["reason"] == "ContainersNotReady"

        cluster.registry.update_scale("deployments", "web", "default", {"spec": {"replicas": 3}})

        def failing() -> dict | None:
            fresh = [p for p in pods(cluster, "default", "web-") if p["metadata"]["name"] not in before]
            if fresh and events(cluster, "default", name=fresh[0]["metadata"]["name"], reason="FailedMount"):
                return get(cluster, "pods", fresh[0]["metadata"]["name"], "default")
            return None

        new = await until(failing, "FailedMount on the new pod")
        name, uid = new["metadata"]["name"], new["metadata"]["uid"]
        path = f"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~nfs/nfs-static"
        (event,) = [
            e
            for e in events(cluster, "default", name=name, reason="FailedMount")
            if e["message"].startswith("MountVolume.SetUp")
        ]
        assert event["type"] == "Warning"
        assert event["source"] == {"component": "kubelet", "host": new["spec"]["nodeName"]}
        assert event["message"] == (
            'MountVolume.SetUp failed for volume "nfs-static" : mount failed: exit status 32\n'
            "Mounting command: mount\n"
            f"Mounting arguments: -t nfs {NFS_SERVER}:/exports/static {path}\n"
            "Output: mount.nfs: Connection timed out"
        )
        assert new["status"]["phase"] == "Pending"
        assert new["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
        assert mounts(new)["www"]["state"] == "failed"

        cluster.controllers.start("nfs-server")
        await until(
            lambda: len([p for p in pods(cluster, "default", "web-") if ready(p)]) == 3, "all 3 recover"
        )
        assert mounts(get(cluster, "pods", name, "default"))["www"] == {
            "path": path,
            "state": "mounted",
            "message": "",
        }
