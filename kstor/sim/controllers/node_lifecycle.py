"""node-lifecycle-controller: NotReady detection, unreachable taints, taint-based eviction.

pkg/controller/nodelifecycle: a node whose Lease (and status) has not been renewed within
node-monitor-grace-period gets every condition set Unknown (`Kubelet stopped posting node
status.`), its pods marked not Ready, and the `node.kubernetes.io/unreachable` NoSchedule and
NoExecute taints; the taint-eviction controller deletes pods once their toleration runs out
(300 s by default). Pods on a dead node stay Terminating: no kubelet is there to finish them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj, QueueLoop, shared_informers
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

LEASE_NAMESPACE = "kube-node-lease"
BASE_HEARTBEAT = 10.0
BASE_GRACE = 40.0
MAX_CLUSTER_RENEWALS_PER_REAL_SECOND = 100.0
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure")


def heartbeat_interval(cluster: SimCluster) -> float:
    """Sim seconds between Lease renewals: 10 s, stretched on big, fast clusters.

    1,000 nodes at speed 1000 renewing every 10 sim seconds would be 100,000 writes per real second;
    the interval grows so the whole cluster stays under ~100 renewals per real second.
    """
    nodes = max(1, len(shared_informers(cluster).informer("nodes").store))
    return max(BASE_HEARTBEAT, cluster.clock.speed * nodes / MAX_CLUSTER_RENEWALS_PER_REAL_SECOND)


def grace_period(cluster: SimCluster) -> float:
    grace = max(BASE_GRACE, 4 * heartbeat_interval(cluster))
    return pu.sim_timeout(cluster.clock, grace, real_floor=2.0)


class NodeLifecycleController(QueueLoop):
    name = "node-lifecycle-controller"
    plurals = ("nodes", "leases", "pods")

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, "node-controller")
        self.eviction_recorder = EventRecorder(cluster.registry, "taint-eviction-controller")
        self.probe: dict[str, float] = {}  # node -> sim elapsed of the last sign of life
        self.seen_renew: dict[str, str] = {}
        self.seen_heartbeat: dict[str, str] = {}
        self.taint_added: dict[str, float] = {}

    def resync_interval(self) -> float | None:
        return max(5.0, heartbeat_interval(self.cluster) / 2)

    def setup(self) -> None:
        self.inf("pods").add_index("node", lambda p: [pu.node_of(p)] if pu.node_of(p) else [])

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None:
            return
        now = self.clock.elapsed()
        if plural == "leases":
            if pu.ns_of(obj) != LEASE_NAMESPACE or event_type == "DELETED":
                return
            renew = obj.get("spec", {}).get("renewTime") or ""
            node = pu.name_of(obj)
            if self.seen_renew.get(node) != renew:
                self.seen_renew[node] = renew
                self.probe[node] = now
                self.queue.add(node)
        elif plural == "nodes":
            node = pu.name_of(obj)
            if event_type == "DELETED":
                for table in (self.probe, self.seen_renew, self.seen_heartbeat, self.taint_added):
                    table.pop(node, None)
                return
            ready = pu.condition(obj, "Ready") or {}
            beat = ready.get("lastHeartbeatTime") or ""
            if node not in self.probe or self.seen_heartbeat.get(node) != beat:
                self.seen_heartbeat[node] = beat
                self.probe[node] = now
            self.queue.add(node)
        elif plural == "pods" and event_type != "DELETED" and pu.node_of(obj):
            node = self.inf("nodes").get(pu.node_of(obj))
            if node is not None and self._no_execute(node):
                self.queue.add(pu.node_of(obj))

    def enqueue_all(self) -> None:
        for node in list(self.inf("nodes").store.values()):
            self.queue.add(pu.name_of(node))

    @staticmethod
    def _no_execute(node: Obj) -> list[Obj]:
        return [t for t in node.get("spec", {}).get("taints") or [] if t.get("effect") == "NoExecute"]

    async def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, str):
            return None
        node = self.inf("nodes").get(key)
        if node is None:
            return None
        now = self.clock.elapsed()
        self.probe.setdefault(key, now)
        grace = grace_period(self.cluster)
        silent = now - self.probe[key]
        ready = pu.condition(node, "Ready") or {}
        if silent > grace and ready.get("status") != "Unknown":
            node = self._mark_unknown(node)
        node = self._reconcile_taints(node)
        delays = [self._evict(node)]
        if silent <= grace:
            delays.append(grace - silent + 0.5)
        due = [d for d in delays if d is not None]
        return min(due) if due else None

    def _mark_unknown(self, node: Obj) -> Obj:
        now = self.clock.timestamp()
        conditions = []
        for cond in node.get("status", {}).get("conditions") or []:
            if cond.get("type") == "Ready" or cond.get("type") in PRESSURE_CONDITIONS:
                cond = {
                    **cond,
                    "status": "Unknown",
                    "reason": "NodeStatusUnknown",
                    "message": UNKNOWN_MESSAGE,
                    "lastTransitionTime": now,
                }
            conditions.append(cond)
        try:
            node = self.registry.patch(
                "nodes", pu.name_of(node), {"status": {"conditions": conditions}}, subresource="status"
            )
        except ApiError:
            return node
        self.inf("nodes").observe(node)
        self.recorder.normal(node, "NodeNotReady", f"Node {pu.name_of(node)} status is now: NodeNotReady")
        for pod in self.inf("pods").by_index("node", pu.name_of(node)):
            self._mark_pod_not_ready(pod, now)
        return node

    def _mark_pod_not_ready(self, pod: Obj, now: str) -> None:
        conditions = []
        changed = False
        for cond in pod.get("status", {}).get("conditions") or []:
            if cond.get("type") == "Ready" and cond.get("status") != "False":
                cond = {**cond, "status": "False", "lastTransitionTime": now}
                changed = True
            conditions.append(cond)
        if not changed:
            return
        try:
            self.registry.patch(
                "pods",
                pu.name_of(pod),
                {"status": {"conditions": conditions}},
                pu.ns_of(pod),
                subresource="status",
            )
        except ApiError:
            return
        self.recorder.warning(pod, "NodeNotReady", "Node is not ready")

    def _reconcile_taints(self, node: Obj) -> Obj:
        status = (pu.condition(node, "Ready") or {}).get("status", "Unknown")
        managed = {pu.TAINT_UNREACHABLE, pu.TAINT_NOT_READY, pu.TAINT_UNSCHEDULABLE}
        taints = node.get("spec", {}).get("taints") or []
        kept = [t for t in taints if t.get("key") not in managed]
        wanted_key = {"Unknown": pu.TAINT_UNREACHABLE, "False": pu.TAINT_NOT_READY}.get(status)
        wanted = list(kept)
        existing = {(t.get("key"), t.get("effect")): t for t in taints}
        if node.get("spec", {}).get("unschedulable"):
            # doNoScheduleTaintingPass: a cordoned node carries the unschedulable NoSchedule taint
            cordon = existing.get((pu.TAINT_UNSCHEDULABLE, "NoSchedule"))
            wanted.append(cordon or {"key": pu.TAINT_UNSCHEDULABLE, "effect": "NoSchedule"})
        if wanted_key:
            for effect in ("NoSchedule", "NoExecute"):
                taint = existing.get((wanted_key, effect)) or {"key": wanted_key, "effect": effect}
                if effect == "NoExecute" and "timeAdded" not in taint:
                    taint = {**taint, "timeAdded": self.clock.timestamp()}
                wanted.append(taint)
        if wanted == taints:
            return node
        if self._no_execute({"spec": {"taints": wanted}}) != self._no_execute(node):
            # the eviction clock restarts only when the NoExecute taints change, not on a cordon
            if wanted_key:
                self.taint_added[pu.name_of(node)] = self.clock.elapsed()
            else:
                self.taint_added.pop(pu.name_of(node), None)
        try:
            node = self.registry.patch("nodes", pu.name_of(node), {"spec": {"taints": wanted or None}})
        except ApiError:
            return node
        self.inf("nodes").observe(node)
        return node

    def _evict(self, node: Obj) -> float | None:
        taints = self._no_execute(node)
        if not taints:
            return None
        added = self.taint_added.setdefault(pu.name_of(node), self.clock.elapsed())
        waited = self.clock.elapsed() - added
        next_due: float | None = None
        # PodGC: on a NotReady node marked out-of-service, Terminating pods are force-deleted.
        out_of_service = not pu.node_ready(node) and any(
            t.get("key") == pu.TAINT_OUT_OF_SERVICE for t in taints
        )
        for pod in self.inf("pods").by_index("node", pu.name_of(node)):
            if pu.deleting(pod):
                if out_of_service:
                    self._force_delete(pod)
                continue
            seconds = self._toleration_seconds(pod, taints)
            if seconds is None:
                continue  # tolerated forever
            if waited >= seconds:
                self._delete(pod)
            else:
                left = seconds - waited
                next_due = left if next_due is None else min(next_due, left)
        return next_due

    @staticmethod
    def _toleration_seconds(pod: Obj, taints: list[Obj]) -> float | None:
        """getMinTolerationTime: 0 if a taint is not tolerated, None (forever) if no used toleration
        is bounded, else the smallest tolerationSeconds among the tolerations used."""
        tolerations = pu.pod_tolerations(pod)
        used: list[Obj] = []
        for taint in taints:
            matching = [t for t in tolerations if pu.tolerates([t], taint)]
            if not matching:
                return 0.0
            used.extend(matching)
        bounded = [float(t["tolerationSeconds"]) for t in used if t.get("tolerationSeconds") is not None]
        return max(0.0, min(bounded)) if bounded else None

    def _force_delete(self, pod: Obj) -> None:
        try:
            result = self.registry.delete("pods", pu.name_of(pod), pu.ns_of(pod), grace_period_seconds=0)
        except ApiError:
            return
        self.inf("pods").observe(result, deleted=not pu.deleting(result))

    def _delete(self, pod: Obj) -> None:
        try:
            result = self.registry.delete("pods", pu.name_of(pod), pu.ns_of(pod))
        except ApiError:
            return
        self.inf("pods").observe(result, deleted=not pu.deleting(result))
        self.eviction_recorder.normal(
            pod, "TaintManagerEviction", f"Marking for deletion Pod {pu.ns_of(pod)}/{pu.name_of(pod)}"
        )


def build(cluster: SimCluster) -> list[Controller]:
    return [NodeLifecycleController(cluster)]
