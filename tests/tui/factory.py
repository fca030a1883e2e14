"""Realistic API JSON for dashboard tests: a seed-like cluster frozen at a fixed time.

Covers the states the dashboard must show: a static `manual` bind with no StorageClass object, a
dynamic NFS claim (beta class annotation), a Pending WaitForFirstConsumer claim, a Terminating PV,
a Released PV, a Multi-Attach error, a FailedMount, a cordoned node and a NotReady node.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

BASE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = BASE + timedelta(hours=1)
Obj = dict[str, Any]


def ts(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(name: str, namespace: str | None = None, *, at: float = 0, **extra: Any) -> Obj:
    m: Obj = {
        "name": name,
        "uid": f"uid-{namespace or ''}-{name}",
        "resourceVersion": "1",
        "creationTimestamp": ts(at),
    }
    if namespace:
        m["namespace"] = namespace
    m.update(extra)
    return m


def node(
    name: str,
    *,
    ready: bool = True,
    cordoned: bool = False,
    zone: str = "zone-a",
    attached: tuple[str, ...] = (),
    in_use: tuple[str, ...] = (),
) -> Obj:
    spec: Obj = {}
    if cordoned:
        spec = {
            "unschedulable": True,
            "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
        }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name, labels={"topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": name}),
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "Unknown",
                    "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                    "lastTransitionTime": ts(0),
                }
            ],
            "volumesAttached": [{"name": v, "devicePath": ""} for v in attached],
            "volumesInUse": list(in_use),
        },
    }


def storage_class(
    name: str, provisioner: str, *, mode: str = "Immediate", default: bool = False, reclaim: str = "Delete"
) -> Obj:
    ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": _meta(name, annotations=ann),
        "provisioner": provisioner,
        "reclaimPolicy": reclaim,
        "volumeBindingMode": mode,
    }


def csi_driver(name: str, *, attach: bool = True) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIDriver",
        "metadata": _meta(name),
        "spec": {"attachRequired": attach},
    }


def pv(
    name: str,
    *,
    cls: str,
    claim: tuple[str, str] | None = None,
    phase: str = "Bound",
    source: Obj | None = None,
    reclaim: str = "Delete",
    size: str = "1Gi",
    deleting: bool = False,
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    at: float = 60,
) -> Obj:
    extra: Obj = {"finalizers": ["kubernetes.io/pv-protection"]}
    if deleting:
        extra["deletionTimestamp"] = ts(3000)
        extra["deletionGracePeriodSeconds"] = 0
    spec: Obj = {
        "capacity": {"storage": size},
        "accessModes": list(modes),
        "storageClassName": cls,
        "persistentVolumeReclaimPolicy": reclaim,
        "volumeMode": "Filesystem",
    }
    spec.update(source or {"hostPath": {"path": f"/mnt/{name}"}})
    if claim:
        spec["claimRef"] = {
            "kind": "PersistentVolumeClaim",
            "namespace": claim[0],
            "name": claim[1],
            "uid": f"uid-{claim[0]}-{claim[1]}",
            "apiVersion": "v1",
        }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _meta(name, at=at, **extra),
        "spec": spec,
        "status": {"phase": phase},
    }


def pvc(
    name: str,
    namespace: str = "default",
    *,
    cls: str | None,
    volume: str = "",
    beta: bool = False,
    size: str = "1Gi",
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    at: float = 60,
) -> Obj:
    ann: Obj = {}
    spec: Obj = {
        "accessModes": list(modes),
        "resources": {"requests": {"storage": size}},
        "volumeMode": "Filesystem",
    }
    if beta and cls:
        ann["volume.beta.kubernetes.io/storage-class"] = cls
    elif cls is not None:
        spec["storageClassName"] = cls
    status: Obj = {"phase": "Pending"}
    if volume:
        spec["volumeName"] = volume
        ann["pv.kubernetes.io/bind-completed"] = "yes"
        status = {"phase": "Bound", "accessModes": list(modes), "capacity": {"storage": size}}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(
            name, namespace, at=at, annotations=ann, finalizers=["kubernetes.io/pvc-protection"]
        ),
        "spec": spec,
        "status": status,
    }


def pod(
    name: str,
    namespace: str = "default",
    *,
    node_name: str | None,
    claims: dict[str, str],
    phase: str = "Running",
    mounts: dict[str, str] | None = None,
    waiting: str | None = None,
    at: float = 120,
) -> Obj:
    uid = f"uid-{namespace}-{name}"
    ann: Obj = {}
    if mounts is not None:
        ann["kstor.io/mounts"] = json.dumps(
            {
                vol: {
                    "path": f"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/{vol}/mount",
                    "state": state,
                    **({"message": "mount failed: exit status 32"} if state == "failed" else {}),
                }
                for vol, state in mounts.items()
            }
        )
    containers = [
        {
            "name": "main",
            "image": "busybox",
            "volumeMounts": [{"name": v, "mountPath": f"/data/{v}"} for v in claims],
        }
    ]
    status: Obj = {
        "phase": phase,
        "conditions": [{"type": "PodScheduled", "status": "True" if node_name else "False"}],
    }
    if phase == "Running":
        status["conditions"].append({"type": "Ready", "status": "True"})
        status["containerStatuses"] = [
            {"name": "main", "ready": True, "state": {"running": {"startedAt": ts(at)}}}
        ]
    elif waiting:
        status["containerStatuses"] = [
            {"name": "main", "ready": False, "state": {"waiting": {"reason": waiting}}}
        ]
    spec: Obj = {
        "containers": containers,
        "volumes": [{"name": v, "persistentVolumeClaim": {"claimName": c}} for v, c in claims.items()],
    }
    if node_name:
        spec["nodeName"] = node_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, at=at, uid=uid, annotations=ann),
        "spec": spec,
        "status": status,
    }


def va(
    name: str,
    *,
    pv_name: str,
    node_name: str,
    attached: bool = True,
    driver: str = "hostpath.csi.k8s.io",
    error: str = "",
) -> Obj:
    status: Obj = {"attached": attached}
    if error:
        status["attachError"] = {"message": error, "time": ts(200)}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "VolumeAttachment",
        "metadata": _meta(name, at=130),
        "spec": {"attacher": driver, "nodeName": node_name, "source": {"persistentVolumeName": pv_name}},
        "status": status,
    }


def event(
    name: str,
    obj: Obj,
    *,
    reason: str,
    message: str,
    type_: str = "Normal",
    count: int = 1,
    at: float = 300,
    component: str = "kubelet",
) -> Obj:
    m = obj["metadata"]
    inv = {"kind": obj["kind"], "name": m["name"], "uid": m["uid"], "apiVersion": obj["apiVersion"]}
    if m.get("namespace"):
        inv["namespace"] = m["namespace"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": _meta(name, m.get("namespace") or "default", at=at),
        "involvedObject": inv,
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": ts(at - 60 * (count - 1)),
        "lastTimestamp": ts(at),
        "source": {"component": component},
    }


CSI = "hostpath.csi.k8s.io"
NFS_PROV = "k8s-sigs.io/nfs-subdir-external-provisioner"


def handle(pv_name: str) -> str:
    return f"kubernetes.io/csi/{CSI}^{pv_name}-handle"


def csi_source(pv_name: str) -> Obj:
    return {"csi": {"driver": CSI, "volumeHandle": f"{pv_name}-handle", "fsType": "ext4"}}


def seed_objects() -> list[tuple[str, Obj]]:
    """(kind, object) pairs for the seed-like cluster."""
    out: list[tuple[str, Obj]] = []
    add = out.append
    add(
        (
            "Node",
            node(
                "worker-1",
                zone="zone-a",
                attached=(handle("pvc-csi-web"), handle("pvc-csi-shared")),
                in_use=(handle("pvc-csi-web"), handle("pvc-csi-shared")),
            ),
        )
    )
    add(("Node", node("worker-2", zone="zone-b", cordoned=True)))
    add(("Node", node("worker-3", zone="zone-c", ready=False)))
    add(("StorageClass", storage_class("nfs-client-storageclass", NFS_PROV, reclaim="Delete")))
    add(("StorageClass", storage_class("csi-hostpath-sc", CSI, mode="WaitForFirstConsumer", default=True)))
    add(("CSIDriver", csi_driver(CSI)))
    add(
        (
            "PersistentVolume",
            pv(
                "task-pv-volume",
                cls="manual",
                claim=("default", "task-pv-claim"),
                reclaim="Retain",
                source={"hostPath": {"path": "/mnt/data"}},
                size="10Gi",
                at=10,
            ),
        )
    )
    add(
        (
            "PersistentVolume",
            pv(
                "pvc-nfs-1",
                cls="nfs-client-storageclass",
                claim=("default", "nfs-claim"),
                source={"nfs": {"server": "10.96.0.20", "path": "/exports/default-nfs-claim-pvc-nfs-1"}},
                modes=("ReadWriteMany",),
            ),
        )
    )
    add(
        (
            "PersistentVolume",
            pv(
                "pvc-csi-web",
                cls="csi-hostpath-sc",
                claim=("default", "data-web-0"),
                source=csi_source("pvc-csi-web"),
            ),
        )
    )
    add(
        (
            "PersistentVolume",
            pv(
                "pvc-csi-shared",
                cls="csi-hostpath-sc",
                claim=("default", "shared-data"),
                source=csi_source("pvc-csi-shared"),
            ),
        )
    )
    add(
        (
            "PersistentVolume",
            pv("pv-keep", cls="manual", claim=("default", "keep-claim"), deleting=True, reclaim="Retain"),
        )
    )
    add(
        (
            "PersistentVolume",
            pv(
                "pv-released",
                cls="manual",
                claim=("default", "gone-claim"),
                phase="Released",
                reclaim="Retain",
            ),
        )
    )
    add(("PersistentVolume", pv("pv-spare", cls="manual", phase="Available", size="5Gi")))
    add(
        (
            "PersistentVolumeClaim",
            pvc("task-pv-claim", cls="manual", volume="task-pv-volume", beta=True, size="10Gi"),
        )
    )
    add(
        (
            "PersistentVolumeClaim",
            pvc(
                "nfs-claim",
                cls="nfs-client-storageclass",
                volume="pvc-nfs-1",
                beta=True,
                modes=("ReadWriteMany",),
            ),
        )
    )
    add(("PersistentVolumeClaim", pvc("data-web-0", cls="csi-hostpath-sc", volume="pvc-csi-web")))
    add(("PersistentVolumeClaim", pvc("shared-data", cls="csi-hostpath-sc", volume="pvc-csi-shared")))
    add(("PersistentVolumeClaim", pvc("keep-claim", cls="manual", volume="pv-keep")))
    wffc = pvc("wffc-claim", cls="csi-hostpath-sc", at=600)
    add(("PersistentVolumeClaim", wffc))
    add(
        (
            "Pod",
            pod(
                "task-pv-pod",
                node_name="worker-1",
                claims={"task-pv-storage": "task-pv-claim"},
                mounts={"task-pv-storage": "mounted"},
            ),
        )
    )
    busy = pod(
        "nfs-busybox",
        node_name="worker-2",
        claims={"nfs": "nfs-claim"},
        phase="Pending",
        waiting="ContainerCreating",
        mounts={"nfs": "failed"},
    )
    add(("Pod", busy))
    add(
        ("Pod", pod("web-0", node_name="worker-1", claims={"data": "data-web-0"}, mounts={"data": "mounted"}))
    )
    add(
        (
            "Pod",
            pod(
                "mover-a",
                node_name="worker-1",
                claims={"shared": "shared-data"},
                mounts={"shared": "mounted"},
            ),
        )
    )
    mover_b = pod(
        "mover-b",
        node_name="worker-3",
        claims={"shared": "shared-data"},
        phase="Pending",
        waiting="ContainerCreating",
        mounts={},
    )
    add(("Pod", mover_b))
    add(
        (
            "Pod",
            pod("keeper", node_name="worker-1", claims={"keep": "keep-claim"}, mounts={"keep": "mounted"}),
        )
    )
    add(("VolumeAttachment", va("csi-aaa111", pv_name="pvc-csi-web", node_name="worker-1")))
    add(("VolumeAttachment", va("csi-bbb222", pv_name="pvc-csi-shared", node_name="worker-1")))
    add(
        (
            "Event",
            event(
                "wffc-claim.1",
                wffc,
                reason="WaitForFirstConsumer",
                count=9,
                at=3500,
                message="waiting for first consumer to be created before binding",
                component="persistentvolume-controller",
            ),
        )
    )
    add(
        (
            "Event",
            event(
                "nfs-busybox.1",
                busy,
                reason="FailedMount",
                type_="Warning",
                count=4,
                at=3400,
                message='MountVolume.SetUp failed for volume "pvc-nfs-1" : mount failed: exit status 32\n'
                "Output: mount.nfs: Connection timed out",
            ),
        )
    )
    add(
        (
            "Event",
            event(
                "mover-b.1",
                mover_b,
                reason="FailedAttachVolume",
                type_="Warning",
                at=3300,
                message='Multi-Attach error for volume "pvc-csi-shared" Volume is already used by pod(s) '
                "mover-a",
                component="attachdetach-controller",
            ),
        )
    )
    return out
