"""Test doubles for chaos: the ClusterApi over the embedded cluster's real Registry (no HTTP, no
control loops), a SimControl with loop flags, and a cluster clock that jumps instead of sleeping.
"""

from __future__ import annotations

from typing import Any

from chaos.actions import ActionEnv
from chaos.api import NotFound, Obj
from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.registry import Registry
from kstor.sim.clock import Clock


class RegistryApi:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.writes: list[tuple[str, str, str]] = []

    async def get(self, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return self.registry.get(plural, name, namespace)
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    async def list(
        self, plural: str, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[Obj]:
        return list(self.registry.list(plural, namespace, label_selector=label_selector)["items"])

    async def delete(
        self, plural: str, name: str, namespace: str | None = None, *, grace_period_seconds: int | None = None
    ) -> None:
        self.writes.append(("delete", plural, name))
        try:
            self.registry.delete(plural, name, namespace, grace_period_seconds=grace_period_seconds)
        except ApiError as exc:
            if exc.code == 404:
                raise NotFound(name) from None
            raise

    async def patch(
        self, plural: str, name: str, body: Obj, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> Obj:
        self.writes.append(("patch", plural, name))
        return self.registry.patch(plural, name, body, namespace, patch_type=patch_type)

    async def evict(
        self, name: str, namespace: str, *, grace_period_seconds: int | None = None
    ) -> str | None:
        self.writes.append(("evict", "pods", name))
        body: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
        if grace_period_seconds is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": grace_period_seconds}
        try:
            self.registry.evict(name, namespace, body)
        except ApiError as exc:
            if exc.code == 404:
                raise NotFound(name) from None
            if exc.code == 429:
                return exc.message
            raise
        return None

    async def scale(self, plural: str, name: str, namespace: str, replicas: int) -> None:
        self.writes.append(("scale", plural, name))
        self.registry.update_scale(plural, name, namespace, {"spec": {"replicas": replicas}})

    async def create(self, plural: str, obj: Obj, namespace: str | None = None) -> Obj:
        self.writes.append(("create", plural, obj["metadata"]["name"]))
        return self.registry.create(plural, obj, namespace)


class FakeSim:
    def __init__(self, loops: list[str]) -> None:
        self.running = dict.fromkeys(loops, True)

    async def loops(self) -> dict[str, bool]:
        return dict(self.running)

    async def stop_loop(self, name: str) -> None:
        self.running[name] = False

    async def start_loop(self, name: str) -> None:
        self.running[name] = True

    async def clock(self) -> tuple[float, float]:
        return 0.0, 1.0


class JumpClock:
    """Cluster time that moves only when someone sleeps: waits cost nothing and are deterministic."""

    def __init__(self) -> None:
        self.t = 0.0
        self.on_sleep: list[Any] = []

    async def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        for hook in self.on_sleep:
            hook(self.t)


def make_env(
    registry: Registry | None = None, *, loops: list[str] | None = None
) -> tuple[ActionEnv, RegistryApi]:
    registry = registry or Registry(Clock(manual=True))
    api = RegistryApi(registry)
    sim = FakeSim(loops) if loops is not None else None
    return ActionEnv(api=api, clock=JumpClock(), sim=sim), api


# --- objects -----------------------------------------------------------------------------------------
def node(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": spec,
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def pod(
    name: str,
    *,
    node_name: str | None = None,
    claims: tuple[str, ...] = (),
    owner: str | None = "ReplicaSet",
    labels: dict[str, str] | None = None,
    empty_dir: bool = False,
    namespace: str = "default",
    phase: str = "Running",
) -> Obj:
    volumes: list[Obj] = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    if empty_dir:
        volumes.append({"name": "scratch", "emptyDir": {}})
    meta: Obj = {"name": name, "namespace": namespace, "labels": labels or {"app": name.rsplit("-", 1)[0]}}
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner,
                "name": f"{name}-owner",
                "uid": f"uid-{name}",
                "controller": True,
            }
        ]
    spec: Obj = {"containers": [{"name": "c", "image": "busybox"}], "volumes": volumes}
    if node_name:
        spec["nodeName"] = node_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True"}]},
    }


def pv(name: str, *, claim: tuple[str, str] | None = None, nfs_server: str | None = None) -> Obj:
    spec: Obj = {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "manual",
    }
    if nfs_server:
        spec["nfs"] = {"server": nfs_server, "path": f"/exports/{name}"}
    else:
        spec["hostPath"] = {"path": f"/data/{name}"}
    if claim:
        spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": claim[0], "name": claim[1]}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": spec,
        "status": {"phase": "Bound" if claim else "Available"},
    }


def pvc(name: str, *, volume: str | None = None, namespace: str = "default") -> Obj:
    spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "manual",
    }
    if volume:
        spec["volumeName"] = volume
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
        "status": {"phase": "Bound" if volume else "Pending"},
    }


def va(name: str, *, pv_name: str, node_name: str) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "VolumeAttachment",
        "metadata": {"name": name},
        "spec": {
            "attacher": "hostpath.csi.k8s.io",
            "nodeName": node_name,
            "source": {"persistentVolumeName": pv_name},
        },
        "status": {"attached": True},
    }


def deployment(
    name: str, namespace: str, *, labels: dict[str, str], replicas: int = 1, env: dict[str, str] | None = None
) -> Obj:
    container: Obj = {"name": name, "image": "example"}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def load(registry: Registry, *objects: Obj) -> None:
    plurals = {
        "Node": "nodes",
        "Pod": "pods",
        "PersistentVolume": "persistentvolumes",
        "PersistentVolumeClaim": "persistentvolumeclaims",
        "VolumeAttachment": "volumeattachments",
        "Deployment": "deployments",
        "Namespace": "namespaces",
        "PodDisruptionBudget": "poddisruptionbudgets",
    }
    for obj in objects:
        plural = plurals[obj["kind"]]
        created = registry.create(plural, obj, obj["metadata"].get("namespace"))
        if "status" in obj and plural not in ("namespaces",):
            created["status"] = obj["status"]
            registry.update(plural, created, obj["metadata"].get("namespace"), subresource="status")
