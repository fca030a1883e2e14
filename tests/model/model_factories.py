"""Factories for realistic API JSON (camelCase, as the API server returns it) — plain dicts only."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kstor.model import DictSource, Topology, TopologyBuilder
from kstor.model.types import (
    CSI_DRIVER,
    EVENT,
    NODE,
    POD,
    PV,
    PVC,
    STORAGE_CLASS,
    VOLUME_ATTACHMENT,
)

Obj = dict[str, Any]
T0 = datetime(2026, 11, 26, 18, 0, 0, tzinfo=UTC)


def ts(seconds: float = 0) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(kind: str, name: str, namespace: str = "") -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{namespace}/{name}"))


def _meta(kind: str, name: str, namespace: str | None = None, *, created: float = 0, **extra: Any) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": _uid(kind, name, namespace or ""),
        "resourceVersion": "1",
        "creationTimestamp": ts(created),
    }
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def sc(
    name: str, provisioner: str, *, mode: str = "Immediate", reclaim: str = "Delete", default: bool = False
) -> Obj:
    ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": _meta(STORAGE_CLASS, name, annotations=ann),
        "provisioner": provisioner,
        "reclaimPolicy": reclaim,
        "volumeBindingMode": mode,
    }


def csidriver(name: str, *, attach_required: bool = True) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIDriver",
        "metadata": _meta(CSI_DRIVER, name),
        "spec": {
            "attachRequired": attach_required,
            "podInfoOnMount": False,
            "volumeLifecycleModes": ["Persistent"],
        },
    }


def node(
    name: str,
    *,
    ready: str = "True",
    zone: str = "zone-a",
    cordoned: bool = False,
    attached: tuple[str, ...] = (),
    in_use: tuple[str, ...] = (),
    taints: tuple[Obj, ...] = (),
) -> Obj:
    spec: Obj = {}
    all_taints = list(taints)
    if cordoned:
        spec["unschedulable"] = True
        all_taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    if all_taints:
        spec["taints"] = all_taints
    reason = {"True": "KubeletReady", "False": "KubeletNotReady"}.get(ready, "NodeStatusUnknown")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(
            NODE,
            name,
            labels={"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone},
            annotations={"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        ),
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": ready,
                    "reason": reason,
                    "lastHeartbeatTime": ts(),
                    "lastTransitionTime": ts(),
                }
            ],
            "volumesAttached": [{"name": n, "devicePath": ""} for n in attached],
            "volumesInUse": list(in_use),
        },
    }


def pv(
    name: str,
    *,
    capacity: str = "1Gi",
    sc_name: str | None = "manual",
    phase: str = "Available",
    claim: tuple[str, str] | None = None,
    claim_uid: str | None = None,
    reclaim: str = "Retain",
    nfs: tuple[str, str] | None = None,
    csi: tuple[str, str] | None = None,
    host_path: str | None = None,
    access: tuple[str, ...] = ("ReadWriteOnce",),
    deleting: bool = False,
    provisioned_by: str | None = None,
    finalizers: tuple[str, ...] = ("kubernetes.io/pv-protection",),
) -> Obj:
    spec: Obj = {
        "capacity": {"storage": capacity},
        "accessModes": list(access),
        "persistentVolumeReclaimPolicy": reclaim,
        "volumeMode": "Filesystem",
    }
    if sc_name is not None:
        spec["storageClassName"] = sc_name
    if nfs:
        spec["nfs"] = {"server": nfs[0], "path": nfs[1]}
    elif csi:
        spec["csi"] = {"driver": csi[0], "volumeHandle": csi[1], "fsType": "ext4"}
    else:
        spec["hostPath"] = {"path": host_path or f"/mnt/data/{name}", "type": ""}
    if claim:
        spec["claimRef"] = {
            "kind": "PersistentVolumeClaim",
            "apiVersion": "v1",
            "namespace": claim[0],
            "name": claim[1],
            "uid": claim_uid or _uid(PVC, claim[1], claim[0]),
            "resourceVersion": "1",
        }
    ann = {"pv.kubernetes.io/provisioned-by": provisioned_by} if provisioned_by else None
    meta = _meta(
        PV,
        name,
        annotations=ann,
        finalizers=list(finalizers) or None,
        deletionTimestamp=ts(30) if deleting else None,
    )
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": meta,
        "spec": spec,
        "status": {"phase": phase},
    }


def pvc(
    name: str,
    namespace: str = "default",
    *,
    request: str = "1Gi",
    sc_name: str | None = "manual",
    beta_class: str | None = None,
    volume: str | None = None,
    phase: str = "Pending",
    created: float = 0,
    annotations: Obj | None = None,
    access: tuple[str, ...] = ("ReadWriteOnce",),
    deleting: bool = False,
) -> Obj:
    spec: Obj = {
        "accessModes": list(access),
        "resources": {"requests": {"storage": request}},
        "volumeMode": "Filesystem",
    }
    if sc_name is not None:
        spec["storageClassName"] = sc_name
    if volume:
        spec["volumeName"] = volume
    ann = dict(annotations or {})
    if beta_class is not None:
        ann["volume.beta.kubernetes.io/storage-class"] = beta_class
    if phase == "Bound":
        ann.setdefault("pv.kubernetes.io/bind-completed", "yes")
    status: Obj = {"phase": phase}
    if phase == "Bound":
        status.update(accessModes=list(access), capacity={"storage": request})
    meta = _meta(
        PVC,
        name,
        namespace,
        created=created,
        annotations=ann or None,
        finalizers=["kubernetes.io/pvc-protection"],
        deletionTimestamp=ts(40) if deleting else None,
    )
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta,
        "spec": spec,
        "status": status,
    }


def pod(
    name: str,
    namespace: str = "default",
    *,
    node_name: str | None = None,
    claims: tuple[str, ...] = (),
    phase: str | None = None,
    waiting: str | None = None,
    deleting: bool = False,
    mounts: Obj | None = None,
    nfs: tuple[str, str] | None = None,
    host_path: str | None = None,
    owner: tuple[str, str] | None = None,
) -> Obj:
    volumes: list[Obj] = [
        {"name": f"vol-{c}" if len(claims) > 1 else "data", "persistentVolumeClaim": {"claimName": c}}
        for c in claims
    ]
    if nfs:
        volumes.append({"name": "shared", "nfs": {"server": nfs[0], "path": nfs[1]}})
    if host_path:
        volumes.append({"name": "host", "hostPath": {"path": host_path, "type": "Directory"}})
    volumes.append(
        {"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}
    )
    spec: Obj = {
        "containers": [
            {
                "name": "app",
                "image": "busybox",
                "volumeMounts": [{"name": v["name"], "mountPath": f"/{v['name']}"} for v in volumes],
            }
        ],
        "volumes": volumes,
        "schedulerName": "default-scheduler",
    }
    if node_name:
        spec["nodeName"] = node_name
    if phase is None:
        phase = "Running" if node_name and not waiting else "Pending"
    status: Obj = {"phase": phase}
    if node_name:
        state: Obj = (
            {"running": {"startedAt": ts(5)}}
            if phase == "Running"
            else {"waiting": {"reason": waiting or "ContainerCreating"}}
        )
        status["containerStatuses"] = [
            {
                "name": "app",
                "ready": phase == "Running",
                "restartCount": 0,
                "image": "busybox",
                "imageID": "",
                "state": state,
            }
        ]
        ready = "True" if phase == "Running" else "False"
        status["conditions"] = [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": ready},
        ]
    else:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    ann = {"kstor.io/mounts": json.dumps(mounts)} if mounts is not None else None
    owners = (
        [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": _uid(owner[0], owner[1]),
                "controller": True,
            }
        ]
        if owner
        else None
    )
    meta = _meta(
        POD,
        name,
        namespace,
        annotations=ann,
        ownerReferences=owners,
        deletionTimestamp=ts(50) if deleting else None,
        deletionGracePeriodSeconds=30 if deleting else None,
    )
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def va_name(handle: str, driver: str, node_name: str) -> str:
    return "csi-" + hashlib.sha256(f"{handle}{driver}{node_name}".encode()).hexdigest()


def va(
    pv_name: str,
    node_name: str,
    *,
    driver: str = "hostpath.csi.k8s.io",
    attached: bool = True,
    error: str | None = None,
    deleting: bool = False,
    handle: str | None = None,
) -> Obj:
    status: Obj = {"attached": attached}
    if error:
        status["attachError"] = {"message": error, "time": ts(10)}
    finalizer = "external-attacher/" + "".join(c if c.isalnum() else "-" for c in driver)
    meta = _meta(
        VOLUME_ATTACHMENT,
        va_name(handle or pv_name, driver, node_name),
        finalizers=[finalizer],
        deletionTimestamp=ts(60) if deleting else None,
    )
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "VolumeAttachment",
        "metadata": meta,
        "spec": {"attacher": driver, "nodeName": node_name, "source": {"persistentVolumeName": pv_name}},
        "status": status,
    }


_event_seq = [0]


def event(
    about: Obj,
    reason: str,
    message: str,
    *,
    type_: str = "Normal",
    count: int = 1,
    at: float = 0,
    component: str = "persistentvolume-controller",
) -> Obj:
    _event_seq[0] += 1
    meta = about["metadata"]
    ref = {
        "kind": about["kind"],
        "apiVersion": about["apiVersion"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    namespace = meta.get("namespace")
    if namespace:
        ref["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{_event_seq[0]:016x}",
            "namespace": namespace or "default",
            "resourceVersion": str(100 + _event_seq[0]),
            "creationTimestamp": ts(at),
        },
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": {"component": component},
        "firstTimestamp": ts(at - 15 * (count - 1)),
        "lastTimestamp": ts(at),
        "count": count,
    }


_KINDS = {
    "StorageClass": STORAGE_CLASS,
    "CSIDriver": CSI_DRIVER,
    "Node": NODE,
    "PersistentVolume": PV,
    "PersistentVolumeClaim": PVC,
    "Pod": POD,
    "VolumeAttachment": VOLUME_ATTACHMENT,
    "Event": EVENT,
}


def source(*objs: Obj) -> DictSource:
    return DictSource((_KINDS[o["kind"]], o) for o in objs)


def topology(*objs: Obj) -> Topology:
    return TopologyBuilder(source(*objs)).build()
