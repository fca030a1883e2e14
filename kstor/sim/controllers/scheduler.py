"""default-scheduler: filter nodes as kube-scheduler's plugins do, bind volumes (PreBind), bind pods.

Plugins, in the real filter order: NodeUnschedulable, TaintToleration, NodeAffinity, VolumeRestrictions
(ReadWriteOncePod, a PreFilter), VolumeBinding (PreFilter: missing / immediate unbound claims; Filter:
PV node affinity, WaitForFirstConsumer static match or provisioning). Like the real framework a node
stops at its first failing plugin. Messages follow pkg/scheduler/framework (FitError.Error()).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import RESYNC, Key, Obj, QueueLoop, key_of
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
FLUSH = ("__flush__",)
BIND_TIMEOUT = 600.0  # VolumeBinding's bindTimeout
BIND_REAL_FLOOR = 30.0
BIND_REAL_PER_CYCLE = 0.02
UNSCHEDULABLE_RETRY = 30.0
# kube-scheduler stops filtering after minFeasibleNodesToFind (100) feasible nodes; Python filters are far
# slower, so stop after 20 (with a rotating start, spreading looks the same).
MIN_FEASIBLE = 20

R_UNSCHEDULABLE = "node(s) were unschedulable"
R_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
R_PV_AFFINITY = "node(s) didn't match PersistentVolume's node affinity"
R_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
R_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
R_RWOP = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
IDX_FREE_BY_CLASS = "scheduler-free-by-class"
IDX_CLAIMREF = "scheduler-claimref"


def _free_by_class(pv: Obj) -> list[str]:
    return [] if pv.get("spec", {}).get("claimRef") else [pu.pv_class(pv)]


def _claimref_key(pv: Obj) -> list[tuple[str, str]]:
    ref = pv.get("spec", {}).get("claimRef")
    return [(ref.get("namespace") or "", ref.get("name") or "")] if ref else []


class Unschedulable(Exception):
    """A scheduling cycle failed; str() is the FitError text."""


def fit_error(num_nodes: int, *, prefilter: str = "", reasons: dict[str, int] | None = None) -> str:
    if num_nodes == 0:
        return "no nodes available to schedule pods"
    msg = f"0/{num_nodes} nodes are available:"
    if prefilter:
        msg += f" {prefilter}."
    else:
        hist = sorted(f"{count} {reason}" for reason, count in (reasons or {}).items())
        if hist:
            msg += f" {', '.join(hist)}."
    return msg + f" preemption: 0/{num_nodes} nodes are available: {num_nodes} {NOT_HELPFUL}."


class VolumePlan:
    """What PreBind must do for one pod on one node."""

    def __init__(self) -> None:
        self.static: list[tuple[Obj, Obj]] = []  # (claim, pv) to pre-bind
        self.provision: list[Obj] = []  # claims to annotate with selected-node
        self.claims: list[Obj] = []  # every claim the pod uses


class Scheduler(QueueLoop):
    name = "scheduler"
    plurals = ("nodes", "persistentvolumeclaims", "persistentvolumes", "storageclasses", "pods")

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, SCHEDULER_NAME)
        self.assumed: dict[Key, str] = {}  # pods being bound -> node
        self.assumed_per_node: collections.Counter[str] = collections.Counter()
        self.assumed_pvs: dict[str, Key] = {}  # PV name -> claim key, during PreBind
        self.unschedulable: set[Key] = set()
        self.failures: dict[Key, int] = {}
        self.retry_at: dict[Key, float] = {}
        self.reported: dict[Key, tuple[str, float]] = {}  # last FailedScheduling (message, when)
        self._flush_at: float | None = None
        self._claim_waiters: dict[Key, set[asyncio.Event]] = {}
        self._binds: set[asyncio.Task[None]] = set()
        self._rotate = 0

    # --- informer plumbing -------------------------------------------------------------------------
    def setup(self) -> None:
        self.inf("pods").add_index("node", lambda p: [pu.node_of(p)] if pu.node_of(p) else [])
        self.inf("pods").add_index("claim", lambda p: [f"{pu.ns_of(p)}/{c}" for c in pu.pod_claims(p)])
        # FindMatchingVolume skips every PV whose claimRef names another claim: index only the PVs a
        # claim could take (no claimRef, by class) and those pre-bound to a claim, so a cluster with
        # thousands of bound PVs of one class does not cost a scan of all of them per node filtered.
        self.inf("persistentvolumes").add_index(IDX_FREE_BY_CLASS, _free_by_class)
        self.inf("persistentvolumes").add_index(IDX_CLAIMREF, _claimref_key)

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if plural == "pods" and new is not None:
            if event_type != "DELETED" and self._wants(new):
                if key_of(new) not in self.unschedulable:
                    self.queue.add(key_of(new))
                return
            if event_type == "DELETED":
                for table in (self.failures, self.retry_at, self.reported):
                    table.pop(key_of(new), None)
            if event_type == "DELETED" or (old is not None and pu.node_of(old) != pu.node_of(new)):
                self._flush_soon()
            return
        if plural in ("persistentvolumeclaims", "persistentvolumes") and self._claim_waiters:
            self._wake_claim_waiters(plural, old, new)
        if plural == "persistentvolumeclaims" and new is not None:
            # VolumeBinding's queueing hint (isSchedulableAfterPersistentVolumeClaimChange): a claim
            # event requeues only the waiting pods that use that claim, not every unschedulable pod.
            for pod in self.inf("pods").by_index("claim", f"{pu.ns_of(new)}/{pu.name_of(new)}"):
                self._requeue(key_of(pod))
            return
        self._flush_soon()

    def _requeue(self, key: Key) -> None:
        """Move one unschedulable pod back to the queue once its back-off has passed."""
        if key in self.unschedulable:
            self.unschedulable.discard(key)
            self.queue.add_after(key, self.retry_at.get(key, 0.0) - self.clock.elapsed())

    def _wake_claim_waiters(self, plural: str, old: Obj | None, new: Obj | None) -> None:
        for obj in (old, new):
            if obj is None:
                continue
            if plural == "persistentvolumeclaims":
                key = key_of(obj)
            else:
                ref = obj.get("spec", {}).get("claimRef") or {}
                key = (ref.get("namespace") or "", ref.get("name") or "")
            for event in self._claim_waiters.get(key, ()):
                event.set()

    def _backoff(self, key: Key) -> None:
        attempts = self.failures[key] = self.failures.get(key, 0) + 1
        step = min(10.0, 2.0 ** (attempts - 1))
        delay = pu.sim_timeout(self.clock, step, real_floor=min(1.0, 0.05 * step))
        self.retry_at[key] = self.clock.elapsed() + delay
        self.unschedulable.add(key)
        self._flush_soon(UNSCHEDULABLE_RETRY)

    def _flush_soon(self, delay: float = 1.0) -> None:
        """Move unschedulable pods back to the queue after `delay` (cluster changed, or periodic retry)."""
        if not self.unschedulable:
            return
        delay = pu.sim_timeout(self.clock, delay, real_floor=min(delay, 0.1))
        due = self.clock.elapsed() + delay
        if self._flush_at is None or due < self._flush_at:
            self._flush_at = due
            self.queue.add_after(FLUSH, delay)

    def _wants(self, pod: Obj) -> bool:
        spec = pod.get("spec", {})
        if spec.get("nodeName") or pu.deleting(pod):
            return False
        if (spec.get("schedulerName") or SCHEDULER_NAME) != SCHEDULER_NAME:
            return False
        return pod.get("status", {}).get("phase", "Pending") == "Pending"

    def enqueue_all(self) -> None:
        for key, pod in self.inf("pods").store.items():
            if self._wants(pod) and key not in self.assumed:
                self.queue.add(key)

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            for task in list(self._binds):
                task.cancel()
            self.assumed.clear()
            self.assumed_per_node.clear()
            self.assumed_pvs.clear()

    # --- the scheduling cycle ----------------------------------------------------------------------
    async def sync(self, key: Hashable) -> float | None:
        if key == FLUSH:
            if self._flush_at is not None and self._flush_at > self.clock.elapsed() + 1e-6:
                return None  # an earlier, superseded flush timer
            self._flush_at = None
            pending, self.unschedulable = self.unschedulable, set()
            now = self.clock.elapsed()
            for k in pending:
                # podInitialBackoff 1 s doubling to podMaxBackoff 10 s, per pod
                self.queue.add_after(k, self.retry_at.get(k, now) - now)
            return None
        if key == RESYNC:
            return None
        assert isinstance(key, tuple)
        pod = self.inf("pods").store.get(key)
        if pod is None or not self._wants(pod) or key in self.assumed:
            self.unschedulable.discard(key)
            return None
        try:
            node, plan = self.schedule_one(pod)
        except Unschedulable as exc:
            self._record_failure(pod, str(exc))
            self._backoff(key)
            return None
        self.unschedulable.discard(key)
        self.failures.pop(key, None)
        self.retry_at.pop(key, None)
        self.assumed[key] = node
        self.assumed_per_node[node] += 1
        for _claim, pv in plan.static:
            self.assumed_pvs[pu.name_of(pv)] = key_of(_claim)
        task = asyncio.get_running_loop().create_task(self._bind(pod, node, plan))
        self._binds.add(task)
        task.add_done_callback(self._binds.discard)
        return None

    def schedule_one(self, pod: Obj) -> tuple[str, VolumePlan]:
        nodes = list(self.inf("nodes").store.values())
        claims = self._prefilter(pod, len(nodes))
        reasons: dict[str, int] = {}
        feasible: list[tuple[str, VolumePlan]] = []
        count = len(nodes)
        want = min(count, MIN_FEASIBLE)
        start = self._rotate % count if count else 0
        for i in range(count):
            node = nodes[(start + i) % count]
            plan = VolumePlan()
            failed = self._filter(pod, node, claims, plan)
            if failed:
                for reason in failed:
                    reasons[reason] = reasons.get(reason, 0) + 1
                continue
            feasible.append((pu.name_of(node), plan))
            if len(feasible) >= want:
                break
        self._rotate += 1
        if not feasible:
            raise Unschedulable(fit_error(count, reasons=reasons))
        return min(feasible, key=lambda item: (self._load(item[0]), item[0]))

    def _load(self, node: str) -> int:
        return self.inf("pods").count("node", node) + self.assumed_per_node.get(node, 0)

    def _prefilter(self, pod: Obj, num_nodes: int) -> list[Obj]:
        ns = pu.ns_of(pod)
        claims: list[Obj] = []
        unbound_immediate = False
        for claim_name in pu.pod_claims(pod):
            claim = self.inf("persistentvolumeclaims").get(claim_name, ns)
            if claim is None:
                raise Unschedulable(
                    fit_error(num_nodes, prefilter=f'persistentvolumeclaim "{claim_name}" not found')
                )
            if pu.deleting(claim):
                raise Unschedulable(
                    fit_error(num_nodes, prefilter=f'persistentvolumeclaim "{claim_name}" is being deleted')
                )
            volume = claim.get("spec", {}).get("volumeName")
            if volume:
                if self.inf("persistentvolumes").get(volume) is None:
                    raise Unschedulable(
                        fit_error(
                            num_nodes,
                            prefilter=f'persistentvolumeclaim "{claim_name}" bound to non-existent '
                            f'persistentvolume "{volume}"',
                        )
                    )
            elif not self._delayed_binding(claim):
                unbound_immediate = True
            if "ReadWriteOncePod" in (claim.get("spec", {}).get("accessModes") or []) and self._rwop_in_use(
                pod, f"{ns}/{claim_name}"
            ):
                raise Unschedulable(fit_error(num_nodes, prefilter=R_RWOP))
            claims.append(claim)
        if unbound_immediate:
            raise Unschedulable(fit_error(num_nodes, prefilter=R_UNBOUND_IMMEDIATE))
        return claims

    def _rwop_in_use(self, pod: Obj, claim_key: str) -> bool:
        for other in self.inf("pods").by_index("claim", claim_key):
            if pu.uid_of(other) == pu.uid_of(pod) or pu.pod_terminated(other):
                continue
            if pu.node_of(other) or key_of(other) in self.assumed:
                return True
        return False

    def _delayed_binding(self, claim: Obj) -> bool:
        sc = self.inf("storageclasses").get(pu.claim_class(claim)) if pu.claim_class(claim) else None
        return bool(sc and sc.get("volumeBindingMode") == "WaitForFirstConsumer")

    # --- filters -----------------------------------------------------------------------------------
    def _filter(self, pod: Obj, node: Obj, claims: list[Obj], plan: VolumePlan) -> list[str]:
        spec = node.get("spec", {})
        tolerations = pod.get("spec", {}).get("tolerations") or []
        if spec.get("unschedulable") and not pu.tolerates(
            tolerations, {"key": pu.TAINT_UNSCHEDULABLE, "effect": "NoSchedule"}
        ):
            return [R_UNSCHEDULABLE]
        for taint in spec.get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not pu.tolerates(tolerations, taint):
                return [f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"]
        if not self._node_affinity_ok(pod, node):
            return [R_AFFINITY]
        return self._volume_filter(claims, node, plan)

    def _node_affinity_ok(self, pod: Obj, node: Obj) -> bool:
        spec = pod.get("spec", {})
        labels = node.get("metadata", {}).get("labels") or {}
        for key, value in (spec.get("nodeSelector") or {}).items():
            if labels.get(key) != value:
                return False
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or {}
        terms = required.get("nodeSelectorTerms")
        return pu.match_node_selector_terms(terms, node) if terms else True

    def _volume_filter(self, claims: list[Obj], node: Obj, plan: VolumePlan) -> list[str]:
        reasons: list[str] = []
        taken: set[str] = set()
        plan.claims = claims
        for claim in claims:
            volume = claim.get("spec", {}).get("volumeName")
            if volume:
                pv = self.inf("persistentvolumes").get(volume)
                if pv is not None and not self._pv_fits_node(pv, node) and R_PV_AFFINITY not in reasons:
                    reasons.append(R_PV_AFFINITY)
                continue
            selected = (claim.get("metadata", {}).get("annotations") or {}).get(pu.ANN_SELECTED_NODE)
            if selected and selected != pu.name_of(node):
                if R_BIND_CONFLICT not in reasons:
                    reasons.append(R_BIND_CONFLICT)
                continue
            pv = self._find_static(claim, node, taken)
            if pv is not None:
                taken.add(pu.name_of(pv))
                plan.static.append((claim, pv))
            elif self._can_provision(claim, node):
                plan.provision.append(claim)
            elif R_BIND_CONFLICT not in reasons:
                reasons.append(R_BIND_CONFLICT)
        return reasons

    @staticmethod
    def _pv_fits_node(pv: Obj, node: Obj) -> bool:
        required = ((pv.get("spec", {}).get("nodeAffinity") or {}).get("required") or {}).get(
            "nodeSelectorTerms"
        )
        return pu.match_node_selector_terms(required, node) if required else True

    def _find_static(self, claim: Obj, node: Obj, taken: set[str]) -> Obj | None:
        spec = claim.get("spec", {})
        want = pu.parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
        modes = set(spec.get("accessModes") or [])
        mode = spec.get("volumeMode") or "Filesystem"
        claim_key = (pu.ns_of(claim), pu.name_of(claim))
        best: tuple[float, str, Obj] | None = None
        pvs = self.inf("persistentvolumes")
        klass = pu.claim_class(claim)
        candidates = [pv for pv in pvs.by_index(IDX_CLAIMREF, claim_key) if pu.pv_class(pv) == klass]
        candidates += pvs.by_index(IDX_FREE_BY_CLASS, klass)
        for pv in candidates:
            name = pu.name_of(pv)
            if name in taken or pu.deleting(pv):
                continue
            ref = pv.get("spec", {}).get("claimRef")
            prebound = (
                bool(ref)
                and (ref.get("namespace"), ref.get("name")) == claim_key
                and ref.get("uid")
                in (
                    None,
                    "",
                    pu.uid_of(claim),
                )
            )
            if ref and not prebound:
                continue
            if not prebound and self.assumed_pvs.get(name) not in (None, claim_key):
                continue
            pv_spec = pv.get("spec", {})
            size = pu.parse_quantity((pv_spec.get("capacity") or {}).get("storage"))
            if size < want or (pv_spec.get("volumeMode") or "Filesystem") != mode:
                continue
            if not modes <= set(pv_spec.get("accessModes") or []):
                continue
            if not pu.match_label_selector(spec.get("selector"), pv.get("metadata", {}).get("labels") or {}):
                continue
            if not self._pv_fits_node(pv, node):
                continue
            if prebound:
                return pv
            if best is None or (size, name) < best[:2]:
                best = (size, name, pv)
        return best[2] if best else None

    def _can_provision(self, claim: Obj, node: Obj) -> bool:
        sc = self.inf("storageclasses").get(pu.claim_class(claim))
        if sc is None or sc.get("provisioner") in (None, "", "kubernetes.io/no-provisioner"):
            return False
        topologies = sc.get("allowedTopologies") or []
        if not topologies:
            return True
        labels = node.get("metadata", {}).get("labels") or {}
        for term in topologies:
            exprs = term.get("matchLabelExpressions") or []
            if all(labels.get(e.get("key")) in (e.get("values") or []) for e in exprs):
                return True
        return False

    # --- binding cycle -----------------------------------------------------------------------------
    async def _bind(self, pod: Obj, node: str, plan: VolumePlan) -> None:
        key = key_of(pod)
        try:
            await self._prebind(pod, node, plan)
            self._bind_pod(pod, node)
        except asyncio.CancelledError:
            raise
        except (Unschedulable, ApiError) as exc:
            message = str(exc) if isinstance(exc, Unschedulable) else exc.message
            current = self.inf("pods").get(key[1], key[0]) or pod
            if self._wants(current):
                self._record_failure(current, message)
                self._backoff(key)
        finally:
            if self.assumed.pop(key, None) is not None:
                self.assumed_per_node[node] -= 1
            for claim, pv in plan.static:
                if self.assumed_pvs.get(pu.name_of(pv)) == key_of(claim):
                    self.assumed_pvs.pop(pu.name_of(pv), None)

    async def _prebind(self, pod: Obj, node: str, plan: VolumePlan) -> None:
        if not plan.static and not plan.provision:
            return
        for claim, pv in plan.static:
            ref = {
                "kind": "PersistentVolumeClaim",
                "namespace": pu.ns_of(claim),
                "name": pu.name_of(claim),
                "uid": pu.uid_of(claim),
                "apiVersion": "v1",
                "resourceVersion": claim.get("metadata", {}).get("resourceVersion", ""),
            }
            self.registry.patch(
                "persistentvolumes",
                pu.name_of(pv),
                {"metadata": {"annotations": {pu.ANN_BOUND_BY_CONTROLLER: "yes"}}, "spec": {"claimRef": ref}},
            )
        for claim in plan.provision:
            patched = self.registry.patch_entry(
                "persistentvolumeclaims",
                pu.name_of(claim),
                {"metadata": {"annotations": {pu.ANN_SELECTED_NODE: node}}},
                pu.ns_of(claim),
            ).obj
            # _wait_bound reads the cache: record our own write so it is not mistaken for a reset
            self.inf("persistentvolumeclaims").observe(patched)
        await self._wait_bound(plan)

    async def _wait_bound(self, plan: VolumePlan) -> None:
        # bindTimeout is 600 sim s; the real-time floor grows with the binding cycles in flight, because
        # thousands of claims provisioned at once are a backlog the provisioner works through in real
        # time (a real one has 600 real seconds for it).
        started = self.clock.elapsed()
        floor = BIND_REAL_FLOOR
        provisioning = {pu.name_of(c) for c in plan.provision}
        while True:
            pending = []
            for claim in plan.static + [(c, None) for c in plan.provision]:
                current = self.inf("persistentvolumeclaims").get(pu.name_of(claim[0]), pu.ns_of(claim[0]))
                if current is None:
                    raise Unschedulable(
                        f'running PreBind plugin "VolumeBinding": binding volumes: '
                        f'persistentvolumeclaim "{pu.name_of(claim[0])}" not found'
                    )
                ann = current.get("metadata", {}).get("annotations") or {}
                if current.get("spec", {}).get("volumeName") and ann.get(pu.ANN_BIND_COMPLETED):
                    continue
                if pu.name_of(current) in provisioning and not ann.get(pu.ANN_SELECTED_NODE):
                    raise Unschedulable(
                        'running PreBind plugin "VolumeBinding": binding volumes: '
                        f'selectedNode annotation reset for PVC "{pu.name_of(current)}"'
                    )
                pending.append(current)
            if not pending:
                return
            # the largest backlog seen while waiting: it shrinking does not make this claim's wait longer
            floor = max(floor, BIND_REAL_FLOOR + BIND_REAL_PER_CYCLE * len(self._binds))
            timeout = pu.sim_timeout(self.clock, BIND_TIMEOUT, real_floor=floor)
            remaining = started + timeout - self.clock.elapsed()
            if remaining <= 0:
                raise Unschedulable(
                    'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded'
                )
            changed = asyncio.Event()
            keys = [key_of(c) for c in pending]
            for key in keys:
                self._claim_waiters.setdefault(key, set()).add(changed)
            # Claim events wake this waiter; the timer is only a safety net (and the deadline).
            poll = min(remaining, pu.sim_timeout(self.clock, 60.0, real_floor=2.0))
            try:
                await self._wait_event(changed, poll)
            finally:
                for key in keys:
                    waiters = self._claim_waiters.get(key)
                    if waiters is not None:
                        waiters.discard(changed)
                        if not waiters:
                            del self._claim_waiters[key]

    async def _wait_event(self, event: asyncio.Event, sim_seconds: float) -> None:
        """Wait until `event` is set or `sim_seconds` have passed."""
        if not self.clock.manual:
            timer = asyncio.get_running_loop().call_later(sim_seconds / self.clock.speed, event.set)
            try:
                await event.wait()
            finally:
                timer.cancel()
            return
        waiter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(sim_seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()

    def _bind_pod(self, pod: Obj, node: str) -> None:
        ns, name = pu.ns_of(pod), pu.name_of(pod)
        # pods/binding: sets spec.nodeName and PodScheduled=True in one write, as the real REST does.
        self.registry.bind(name, ns, node)
        self.recorder.normal(pod, "Scheduled", f"Successfully assigned {ns}/{name} to {node}")

    def _record_failure(self, pod: Obj, message: str) -> None:
        # Every attempt would bump the Event's count; on a big cluster that is thousands of writes a
        # second, so repeats of the same message are folded to one per minute (sim).
        key, now_s = key_of(pod), self.clock.elapsed()
        last = self.reported.get(key)
        if (
            last is None
            or last[0] != message
            or now_s - last[1] >= pu.sim_timeout(self.clock, 60.0, real_floor=1.0)
        ):
            self.reported[key] = (message, now_s)
            self.recorder.warning(pod, "FailedScheduling", message)
        old = pu.condition(pod, "PodScheduled")
        if old and old.get("status") == "False" and old.get("message") == message:
            return
        now = self.clock.timestamp()
        conditions = [
            c for c in pod.get("status", {}).get("conditions") or [] if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": now,
                "reason": "Unschedulable",
                "message": message,
            }
        )
        with contextlib.suppress(ApiError):
            self.registry.patch(
                "pods",
                pu.name_of(pod),
                {"status": {"conditions": conditions}},
                pu.ns_of(pod),
                subresource="status",
            )


def build(cluster: SimCluster) -> list[Controller]:
    return [Scheduler(cluster)]
