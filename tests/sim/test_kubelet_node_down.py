"""A stopped kubelet: node NotReady, unreachable taints, taint-based eviction; recovery when it returns."""

from __future__ import annotations

from test_sched_world import deployment, events, get, pods, ready, running, until

from kstor.sim.cluster import SimCluster


def web_app(cluster: SimCluster) -> None:
    cluster.registry.create("deployments", deployment("web", "default", replicas=3), "default")


def taint_keys(cluster: SimCluster, node: str) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in get(cluster, "nodes", node)["spec"].get("taints") or []}


async def test_dead_kubelet_node_not_ready_taints_and_eviction() -> None:
    async with running(web_app) as cluster:
        await until(
            lambda: len([p for p in pods(cluster, "default", "web-") if ready(p)]) == 3, "3 web pods Ready"
        )
        dead = sorted(p["spec"]["nodeName"] for p in pods(cluster, "default", "web-"))[0]
        lease = get(cluster, "leases", dead, "kube-node-lease")
        assert lease["spec"]["holderIdentity"] == dead
        assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
        victims = [
            p["metadata"]["name"] for p in pods(cluster, "default", "web-") if p["spec"]["nodeName"] == dead
        ]

        await cluster.controllers.stop(f"kubelet/{dead}")

        node = await until(
            lambda: (
                (n := get(cluster, "nodes", dead))
                and {c["type"]: c for c in n["status"]["conditions"]}["Ready"]["status"] == "Unknown"
                and n
            ),
            "node Ready=Unknown",
        )
        cond = {c["type"]: c for c in node["status"]["conditions"]}["Ready"]
        assert cond["reason"] == "NodeStatusUnknown"
        assert cond["message"] == "Kubelet stopped posting node status."
        await until(
            lambda: (
                {
                    ("node.kubernetes.io/unreachable", "NoSchedule"),
                    ("node.kubernetes.io/unreachable", "NoExecute"),
                }
                <= taint_keys(cluster, dead)
            ),
            "unreachable taints",
        )
        assert all(not ready(get(cluster, "pods", name, "default")) for name in victims)
        assert events(cluster, "default", name=dead, reason="NodeNotReady") or events(
            cluster, "default", reason="NodeNotReady"
        )
        # After the default 300 s toleration the pods are deleted; with no kubelet they stay Terminating.
        await until(
            lambda: all(
                get(cluster, "pods", name, "default")["metadata"].get("deletionTimestamp") for name in victims
            ),
            "victims marked for deletion",
        )
        evicted = events(cluster, "default", name=victims[0], reason="TaintManagerEviction")
        assert evicted[0]["message"] == f"Marking for deletion Pod default/{victims[0]}"
        await until(
            lambda: (
                len(
                    [
                        p
                        for p in pods(cluster, "default", "web-")
                        if ready(p) and p["spec"]["nodeName"] != dead
                    ]
                )
                == 3
            ),
            "replacements Ready on other nodes",
        )
        assert get(cluster, "pods", victims[0], "default") is not None  # still Terminating

        cluster.controllers.start(f"kubelet/{dead}")
        await until(
            lambda: all(get(cluster, "pods", name, "default") is None for name in victims),
            "kubelet finishes them",
        )
        await until(lambda: not taint_keys(cluster, dead), "taints removed")
        node = get(cluster, "nodes", dead)
        assert {c["type"]: c for c in node["status"]["conditions"]}["Ready"]["status"] == "True"


async def test_cordon_adds_the_unschedulable_taint_and_uncordon_removes_it() -> None:
    async with running(web_app) as cluster:
        node = "worker-1"
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") not in taint_keys(cluster, node)
        cluster.registry.patch("nodes", node, {"spec": {"unschedulable": True}})
        await until(
            lambda: ("node.kubernetes.io/unschedulable", "NoSchedule") in taint_keys(cluster, node),
            "cordon taint",
        )
        cluster.registry.patch("nodes", node, {"spec": {"unschedulable": None}})
        await until(
            lambda: ("node.kubernetes.io/unschedulable", "NoSchedule") not in taint_keys(cluster, node),
            "cordon taint removed",
        )
