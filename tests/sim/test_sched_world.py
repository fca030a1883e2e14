"""Builders for the node-side loop tests: a small cluster (3 workers, NFS + CSI hostpath) in-process.

Imported by the test_sched_*/test_workloads_*/test_attach_*/test_kubelet_*/test_drain_* modules;
it holds no tests itself.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.cluster import SimCluster
from kstor.sim.testing import async_wait_for

Obj = dict[str, Any]
SPEED = 500.0
CSI_DRIVER = "hostpath.csi.k8s.io"
TOPOLOGY_KEY = "topology.hostpath.csi/node"
NFS_SERVER = "10.96.0.20"


def node(name: str, *, zone: str = "zone-a", ip: int = 2, taints: list[Obj] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/zone": zone,
                TOPOLOGY_KEY: name,
            },
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {"taints": taints} if taints else {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "addresses": [{"type": "InternalIP", "address": f"172.18.0.{ip}"}],
            "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
        },
    }


def container(name: str = "app", image: str = "registry.k8s.io/pause:3.10") -> Obj:
    return {"name": name, "image": image}


def deployment(name: str, namespace: str, *, replicas: int = 1, volumes: list[Obj] | None = None) -> Obj:
    labels = {"app": name}
    spec: Obj = {"containers": [container()]}
    if volumes:
        spec["volumes"] = volumes
        spec["containers"][0]["volumeMounts"] = [
            {"name": v["name"], "mountPath": f"/{v['name']}"} for v in volumes
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def statefulset(name: str, namespace: str, *, replicas: int, storage_class: str, size: str = "1Gi") -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{**container(), "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": storage_class,
                        "resources": {"requests": {"storage": size}},
                    },
                }
            ],
        },
    }


def nfs_pv(name: str, *, size: str = "1Gi", path: str = "/exports/static") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "manual",
            "nfs": {"server": NFS_SERVER, "path": path},
        },
    }


def claim(
    name: str, namespace: str, *, storage_class: str, size: str = "1Gi", mode: str = "ReadWriteMany"
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "accessModes": [mode],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": size}},
        },
    }


def local_pv(name: str, node_name: str, *, size: str = "1Gi", storage_class: str = "local-ssd") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class,
            "local": {"path": f"/mnt/disks/{name}"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node_name]}
                            ]
                        }
                    ]
                }
            },
        },
    }


def base_world(cluster: SimCluster, *, workers: int = 3) -> None:
    """Nodes, the CSI hostpath driver + WFFC class, an NFS server and a local-SSD class."""
    reg = cluster.registry
    reg.create("namespaces", {"metadata": {"name": "nfs"}})
    for i in range(workers):
        reg.create("nodes", node(f"worker-{i + 1}", ip=i + 2))
    reg.create(
        "csidrivers",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": CSI_DRIVER},
            "spec": {"attachRequired": True, "podInfoOnMount": True},
        },
    )
    reg.create(
        "storageclasses",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "csi-hostpath-sc"},
            "provisioner": CSI_DRIVER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
    )
    reg.create(
        "storageclasses",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local-ssd"},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
    )
    nfs = deployment("nfs-server", "nfs")
    nfs["spec"]["template"]["metadata"]["labels"] = {"app": "nfs-server"}
    nfs["spec"]["selector"] = {"matchLabels": {"app": "nfs-server"}}
    reg.create("deployments", nfs, "nfs")
    reg.create("deployments", deployment("csi-hostpathplugin", "kube-system"), "kube-system")


@contextlib.asynccontextmanager
async def running(
    setup: Callable[[SimCluster], None] | None = None, *, workers: int = 3, speed: float = SPEED
) -> AsyncIterator[SimCluster]:
    cluster = SimCluster(speed=speed)
    base_world(cluster, workers=workers)
    if setup is not None:
        setup(cluster)
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


async def until(predicate: Callable[[], Any], message: str, timeout: float = 15.0) -> Any:
    return await async_wait_for(predicate, timeout=timeout, message=message)


def get(cluster: SimCluster, plural: str, name: str, namespace: str | None = None) -> Obj | None:
    try:
        return cluster.registry.get(plural, name, namespace)
    except ApiError:
        return None


def pods(cluster: SimCluster, namespace: str, prefix: str = "") -> list[Obj]:
    items = cluster.registry.list("pods", namespace)["items"]
    return [p for p in items if p["metadata"]["name"].startswith(prefix)]


def ready(pod: Obj | None) -> bool:
    if not pod or pod["metadata"].get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions") or []
    )


def mounts(pod: Obj) -> Obj:
    return json.loads((pod["metadata"].get("annotations") or {}).get("kstor.io/mounts", "{}"))


def events(
    cluster: SimCluster, namespace: str, *, name: str | None = None, reason: str | None = None
) -> list[Obj]:
    out = []
    for ev in cluster.registry.list("events", namespace)["items"]:
        if name is not None and ev["involvedObject"].get("name") != name:
            continue
        if reason is not None and ev.get("reason") != reason:
            continue
        out.append(ev)
    return out


def attachments(cluster: SimCluster) -> list[Obj]:
    return cluster.registry.list("volumeattachments")["items"]
