"""The kubelet runs Deployment pods and mounts their NFS volumes where a real kubelet would."""

from __future__ import annotations

from test_sched_world import claim, deployment, events, mounts, nfs_pv, pods, ready, running, until

from kstor.sim.cluster import SimCluster


def nfs_app(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", nfs_pv("nfs-static"))
    reg.create("persistentvolumeclaims", claim("shared", "default", storage_class="manual"), "default")
    app = deployment(
        "web",
        "default",
        replicas=2,
        volumes=[{"name": "www", "persistentVolumeClaim": {"claimName": "shared"}}],
    )
    reg.create("deployments", app, "default")


async def test_deployment_pods_run_with_nfs_volume_mounted() -> None:
    async with running(nfs_app) as cluster:

        def two_ready() -> list[dict] | None:
            found = [p for p in pods(cluster, "default", "web-") if ready(p)]
            return found if len(found) == 2 else None

        web = await until(two_ready, "both web pods Ready")
        for pod in web:
            uid = pod["metadata"]["uid"]
            assert pod["status"]["phase"] == "Running"
            assert pod["spec"]["nodeName"].startswith("worker-")
            assert pod["status"]["podIP"].startswith("10.244.")
            record = mounts(pod)["www"]
            assert record["state"] == "mounted"
            assert record["path"] == f"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~nfs/nfs-static"
            seen = {
                e["reason"]: e["message"] for e in events(cluster, "default", name=pod["metadata"]["name"])
            }
            assert (
                seen["Scheduled"]
                == f"Successfully assigned default/{pod['metadata']['name']} to {pod['spec']['nodeName']}"
            )
            assert seen["Created"] == "Created container: app"
            assert {"Pulled", "Started"} <= set(seen)
        rs_name = web[0]["metadata"]["ownerReferences"][0]["name"]
        assert rs_name.startswith("web-") and web[0]["metadata"]["name"].startswith(rs_name + "-")
        deploy = cluster.registry.get("deployments", "web", "default")
        await until(
            lambda: (
                cluster.registry.get("deployments", "web", "default")["status"].get("availableReplicas") == 2
            ),
            "deployment status counts both pods available",
        )
        assert deploy["metadata"]["name"] == "web"
