"""Scheduler filters and their FailedScheduling texts (taints, selectors, claims, ReadWriteOncePod)."""

from __future__ import annotations

from test_sched_world import claim, container, get, node, running, until

from kstor.sim.cluster import SimCluster

TAIL = " preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."


def bare_pod(name: str, **spec: object) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [container()], **spec},
    }


def with_claim(name: str, claim_name: str) -> dict:
    return bare_pod(name, volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": claim_name}}])


def world(cluster: SimCluster) -> None:
    reg = cluster.registry
    cp_taint = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    reg.create("nodes", node("control-plane", ip=10, taints=cp_taint))
    reg.create("pods", bare_pod("picky", nodeSelector={"disktype": "nvme"}), "default")
    tolerant = bare_pod(
        "tolerant",
        nodeSelector={"kubernetes.io/hostname": "control-plane"},
        tolerations=[
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
        ],
    )
    reg.create("pods", tolerant, "default")
    reg.create("pods", with_claim("no-claim", "missing"), "default")
    reg.create(
        "persistentvolumeclaims", claim("immediate", "default", storage_class="nothing-matches"), "default"
    )
    reg.create("pods", with_claim("unbound", "immediate"), "default")
    rwop = claim("solo", "default", storage_class="csi-hostpath-sc", mode="ReadWriteOncePod")
    reg.create("persistentvolumeclaims", rwop, "default")
    reg.create("pods", with_claim("solo-1", "solo"), "default")


def scheduled_message(cluster: SimCluster, name: str) -> str | None:
    pod = get(cluster, "pods", name, "default")
    for cond in (pod or {}).get("status", {}).get("conditions") or []:
        if cond["type"] == "PodScheduled" and cond["status"] == "False":
            return cond["message"]
    return None


async def test_filter_messages() -> None:
    async with running(world) as cluster:
        picky = await until(lambda: scheduled_message(cluster, "picky"), "picky unschedulable")
        assert picky == (
            "0/4 nodes are available: "
            "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "3 node(s) didn't match Pod's node affinity/selector." + TAIL
        )
        tolerant = await until(
            lambda: (p := get(cluster, "pods", "tolerant", "default"))["spec"].get("nodeName") and p,
            "tolerant",
        )
        assert tolerant["spec"]["nodeName"] == "control-plane"
        missing = await until(lambda: scheduled_message(cluster, "no-claim"), "missing claim")
        assert missing == '0/4 nodes are available: persistentvolumeclaim "missing" not found.' + TAIL
        unbound = await until(lambda: scheduled_message(cluster, "unbound"), "unbound immediate claim")
        assert unbound == "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims." + TAIL

        first = await until(
            lambda: (p := get(cluster, "pods", "solo-1", "default"))["spec"].get("nodeName") and p, "solo-1"
        )
        cluster.registry.create("pods", with_claim("solo-2", "solo"), "default")
        second = await until(lambda: scheduled_message(cluster, "solo-2"), "ReadWriteOncePod conflict")
        assert (
            "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
            in second
        )
        assert first["spec"]["nodeName"].startswith("worker-")
