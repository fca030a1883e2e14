"""garbage-collector: delete objects whose every owner is gone (missing, or same name with another uid).

The registry already cascades deletes it performs (propagationPolicy); this loop catches the rest,
e.g. objects created with a dangling ownerReference or left behind by an orphaning delete of an
owner that was later re-created. Like the real collector it confirms absence with a live read
before deleting, since its caches can lag behind a just-created owner.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj, QueueLoop

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

OWNER_PLURALS = {
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets",
    "Node": "nodes",
    "Pod": "pods",
    "PersistentVolumeClaim": "persistentvolumeclaims",
}
DEPENDENT_PLURALS = ("replicasets", "pods", "persistentvolumeclaims", "leases")


class GarbageCollector(QueueLoop):
    name = "garbage-collector"
    plurals = (
        "deployments",
        "replicasets",
        "statefulsets",
        "nodes",
        "pods",
        "persistentvolumeclaims",
        "leases",
    )
    resync_seconds = 60.0
    resync_real_floor = 2.0

    def setup(self) -> None:
        for plural in DEPENDENT_PLURALS:
            self.inf(plural).add_index(
                "owner-uids", lambda o: [r.get("uid") for r in o["metadata"].get("ownerReferences") or []]
            )

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None:
            return
        if event_type == "DELETED":
            uid = pu.uid_of(obj)
            for dep_plural in DEPENDENT_PLURALS:
                for dep in self.inf(dep_plural).by_index("owner-uids", uid):
                    self.queue.add((dep_plural, pu.ns_of(dep), pu.name_of(dep)))
        elif plural in DEPENDENT_PLURALS and obj["metadata"].get("ownerReferences"):
            # The graph builder only looks again at a dependent when it appears or its owners change
            # (referencesDiffs); a status or annotation update cannot orphan it.
            if old is None or old["metadata"].get("ownerReferences") != obj["metadata"]["ownerReferences"]:
                self.queue.add((plural, pu.ns_of(obj), pu.name_of(obj)))

    def resync_interval(self) -> float | None:
        # A safety net only (the real collector has none): at least 2 s real, plus 1 s per 1,000 objects
        # with owners, so it stays a small share of one core on a 10,000-pod cluster.
        owned = sum(len(self.inf(plural).store) for plural in DEPENDENT_PLURALS)
        return max(self.resync_seconds or 0.0, self.clock.speed * (self.resync_real_floor + owned / 1000))

    def enqueue_all(self) -> None:
        for plural in DEPENDENT_PLURALS:
            for (ns, name), obj in self.inf(plural).store.items():
                if obj["metadata"].get("ownerReferences"):
                    self.queue.add((plural, ns, name))

    async def sync(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple) and len(key) == 3
        plural, ns, name = key
        obj = self.inf(plural).get(name, ns)
        if obj is None or pu.deleting(obj):
            return None
        refs = obj["metadata"].get("ownerReferences") or []
        if not refs or any(self._owner_exists(ref, ns) for ref in refs):
            return None
        try:
            self.registry.delete(plural, name, ns or None, propagation_policy="Background")
        except ApiError:
            return None
        return None

    def _owner_exists(self, ref: Obj, namespace: str) -> bool:
        plural = OWNER_PLURALS.get(ref.get("kind", ""))
        if plural is None:
            return True  # a kind this cluster does not serve: leave the dependent alone
        cached = self.inf(plural).get(ref.get("name", ""), None if plural == "nodes" else namespace)
        if cached is not None and pu.uid_of(cached) == ref.get("uid"):
            return True
        try:
            live = self.registry.get(plural, ref.get("name", ""), None if plural == "nodes" else namespace)
        except ApiError:
            return False
        return pu.uid_of(live) == ref.get("uid")


def build(cluster: SimCluster) -> list[Controller]:
    return [GarbageCollector(cluster)]
