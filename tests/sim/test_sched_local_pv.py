"""A StatefulSet pod on a local PV is pinned to its node: cordon + delete leaves it Pending until uncordon."""

from __future__ import annotations

from test_sched_world import events, get, local_pv, ready, running, statefulset, until

from kstor.sim.cluster import SimCluster

PINNED = (
    "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match PersistentVolume's node "
    "affinity. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
)


def local_set(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", local_pv("local-big", "worker-3", size="10Gi"))
    reg.create("persistentvolumes", local_pv("local-small", "worker-2", size="2Gi"))
    reg.create("statefulsets", statefulset("db", "default", replicas=1, storage_class="local-ssd"), "default")


async def test_statefulset_on_local_pv_waits_for_uncordon() -> None:
    async with running(local_set) as cluster:
        pod = await until(lambda: ready(p := get(cluster, "pods", "db-0", "default")) and p, "db-0 Ready")
        # WaitForFirstConsumer: the scheduler pre-bound the static PV on the node it chose.
        node = pod["spec"]["nodeName"]
        volume = {"worker-3": "local-big", "worker-2": "local-small"}[node]
        claim = get(cluster, "persistentvolumeclaims", "data-db-0", "default")
        assert claim["spec"]["volumeName"] == volume
        assert claim["status"]["phase"] == "Bound"
        pv = get(cluster, "persistentvolumes", volume)
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
        assert pv["spec"]["claimRef"]["name"] == "data-db-0"
        old_uid = pod["metadata"]["uid"]

        cluster.registry.patch("nodes", node, {"spec": {"unschedulable": True}})
        cluster.registry.delete("pods", "db-0", "default")

        pending = await until(
            lambda: (
                (p := get(cluster, "pods", "db-0", "default"))
                and p["metadata"]["uid"] != old_uid
                and any(c.get("reason") == "Unschedulable" for c in p["status"].get("conditions") or [])
                and p
            ),
            "recreated db-0 unschedulable",
        )
        cond = next(c for c in pending["status"]["conditions"] if c["type"] == "PodScheduled")
        assert (cond["status"], cond["message"]) == ("False", PINNED)
        failed = events(cluster, "default", name="db-0", reason="FailedScheduling")
        assert [e["message"] for e in failed] == [PINNED]
        assert failed[0]["source"] == {"component": "default-scheduler"}
        assert not pending["spec"].get("nodeName")

        cluster.registry.patch("nodes", node, {"spec": {"unschedulable": False}})
        back = await until(
            lambda: ready(p := get(cluster, "pods", "db-0", "default")) and p, "db-0 Ready again"
        )
        assert back["spec"]["nodeName"] == node
