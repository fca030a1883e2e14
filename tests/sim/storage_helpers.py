"""Helpers for the storage-loop tests: a cluster with chosen loops, objects, event lookups."""

from __future__ import annotations

from typing import Any

from kstor.sim.cluster import SimCluster

Obj = dict[str, Any]


def start_loops(cluster: SimCluster, *names: str) -> None:
    """Build every loop but run only `names` (so a test sees one controller's work in isolation)."""
    cluster.build()
    for name in names:
        cluster.controllers.start(name)


def pv(name: str, size: str, *, cls: str = "manual", modes: tuple[str, ...] = ("ReadWriteOnce",),
       policy: str = "Retain", path: str | None = None, **spec: Any) -> Obj:  # fmt: skip
    return {
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": list(modes),
            "storageClassName": cls,
            "persistentVolumeReclaimPolicy": policy,
            "hostPath": {"path": path or f"/mnt/{name}"},
            **spec,
        },
    }


def pvc(name: str, size: str, *, cls: str | None = "manual", modes: tuple[str, ...] = ("ReadWriteOnce",),
        **spec: Any) -> Obj:  # fmt: skip
    body: Obj = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}, **spec}
    if cls is not None:
        body["storageClassName"] = cls
    return {"metadata": {"name": name}, "spec": body}


def pod(name: str, claim: str, **spec: Any) -> Obj:
    return {
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "containers": [
                {"name": "app", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
            **spec,
        },
    }  # fmt: skip


def events_for(cluster: SimCluster, name: str, namespace: str = "default") -> list[Obj]:
    items = cluster.registry.list("events", namespace)["items"]
    return [e for e in items if e["involvedObject"]["name"] == name]


def reasons(cluster: SimCluster, name: str, namespace: str = "default") -> dict[str, str]:
    """reason -> message of the events about one object."""
    return {e["reason"]: e["message"] for e in events_for(cluster, name, namespace)}


def phase(cluster: SimCluster, plural: str, name: str, namespace: str | None = "default") -> str | None:
    ns = namespace if plural != "persistentvolumes" else None
    try:
        return cluster.registry.get(plural, name, ns).get("status", {}).get("phase")
    except Exception:
        return None


def exists(cluster: SimCluster, plural: str, name: str, namespace: str | None = None) -> bool:
    try:
        cluster.registry.get(plural, name, namespace)
    except Exception:
        return False
    return True
