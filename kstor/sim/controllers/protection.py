"""The storage-object-in-use protection controllers (pkg/controller/volume/pvcprotection, pvprotection).

- `kubernetes.io/pvc-protection` leaves a deleting claim only when no pod *scheduled to a node*
  uses it (pod phase is not looked at: a Succeeded pod object still holds the claim).
- `kubernetes.io/pv-protection` leaves a deleting volume only when it is not `Bound`.
Both add their finalizer to live objects that lack it, as the real controllers do.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import RESYNC, Obj, QueueLoop
from kstor.sim.controllers.pv_controller import IDX_POD_CLAIMS, pod_claim_keys
from kstor.sim.controllers.util import is_not_found, mutate

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

PVC_FINALIZER = "kubernetes.io/pvc-protection"
PV_FINALIZER = "kubernetes.io/pv-protection"


def _set_finalizer(finalizer: str, *, present: bool) -> Callable[[Obj], bool]:
    def change(obj: Obj) -> bool:
        finalizers = obj["metadata"].get("finalizers") or []
        if (finalizer in finalizers) == present:
            return False
        if present:
            if pu.deleting(obj):
                return False
            obj["metadata"]["finalizers"] = [*finalizers, finalizer]
        else:
            obj["metadata"]["finalizers"] = [f for f in finalizers if f != finalizer]
        return True

    return change


class _ProtectionLoop(QueueLoop):
    plural = ""
    finalizer = ""

    def enqueue_all(self) -> None:
        for key, obj in self.inf(self.plural).store.items():
            if self._needs_work(obj):
                self.queue.add(key)

    def _needs_work(self, obj: Obj) -> bool:
        return pu.deleting(obj) or self.finalizer not in (obj["metadata"].get("finalizers") or [])

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if plural == self.plural and new is not None and event_type != "DELETED" and self._needs_work(new):
            self.queue.add((pu.ns_of(new), pu.name_of(new)))

    def in_use(self, obj: Obj) -> bool:
        raise NotImplementedError

    async def sync(self, key: Hashable) -> float | None:
        if key == RESYNC:
            return None
        assert isinstance(key, tuple)
        ns, name = key
        obj = self.inf(self.plural).get(name, ns)
        if obj is None:
            return None
        namespace = ns or None
        try:
            if not pu.deleting(obj):
                change = _set_finalizer(self.finalizer, present=True)
                mutate(self.registry, self.plural, name, namespace, change)
            elif self.finalizer in (obj["metadata"].get("finalizers") or []) and not self.in_use(obj):
                change = _set_finalizer(self.finalizer, present=False)
                mutate(self.registry, self.plural, name, namespace, change)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        return None


class PVCProtectionController(_ProtectionLoop):
    name = "pvc-protection-controller"
    plurals = ("persistentvolumeclaims", "pods")
    plural = "persistentvolumeclaims"
    finalizer = PVC_FINALIZER
    resync_seconds = None

    def setup(self) -> None:
        super().setup()
        self.inf("pods").add_index(IDX_POD_CLAIMS, pod_claim_keys)

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if plural == "pods":
            # a pod that goes away (or is unscheduled) may release a deleting claim
            for obj in (old, new):
                for ns, claim in pod_claim_keys(obj or {}):
                    pvc = self.inf(self.plural).get(claim, ns)
                    if pvc is not None and pu.deleting(pvc):
                        self.queue.add((ns, claim))
            return
        super().on_event(plural, event_type, old, new)

    def in_use(self, obj: Obj) -> bool:
        pods = self.inf("pods").by_index(IDX_POD_CLAIMS, (pu.ns_of(obj), pu.name_of(obj)))
        return any(pu.node_of(pod) for pod in pods)


class PVProtectionController(_ProtectionLoop):
    name = "pv-protection-controller"
    plurals = ("persistentvolumes",)
    plural = "persistentvolumes"
    finalizer = PV_FINALIZER
    resync_seconds = None

    def in_use(self, obj: Obj) -> bool:
        return obj.get("status", {}).get("phase") == "Bound"


def build(cluster: SimCluster) -> list[Controller]:
    return [PVCProtectionController(cluster), PVProtectionController(cluster)]
