"""disruption-controller: keeps every PodDisruptionBudget's status current, as
pkg/controller/disruption/disruption.go does.

expectedPods is the sum of the scales of the selected pods' controllers (Deployment, ReplicaSet,
StatefulSet) for maxUnavailable and percentage minAvailable, and the number of selected pods for an
integer minAvailable; currentHealthy counts Ready pods that are neither terminating nor recently
evicted (status.disruptedPods, which this loop also prunes). Eviction reads the result (lifecycle.py).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.pdbhelper import (
    DISRUPTION_ALLOWED,
    SYNC_FAILED,
    conditions_are_up_to_date,
    set_condition,
    update_disruption_allowed_condition,
)
from kstor.sim.apiserver.selectors import selector_matches
from kstor.sim.clock import parse_timestamp
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj, QueueLoop, key_of
from kstor.sim.controllers.util import is_conflict, is_not_found
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

PDBS = "poddisruptionbudgets"
IDX_NS = "disruption/namespace"
IDX_NAME = "disruption/name"
# A pod evicted but not marked for deletion within this long is assumed to stay (DeletionTimeout).
DELETION_TIMEOUT = 120.0
_WORKLOADS = {"ReplicaSet": "replicasets", "Deployment": "deployments", "StatefulSet": "statefulsets"}


class SyncError(Exception):
    """Why a budget's status could not be computed (becomes the SyncFailed condition's message)."""


def scaled_value(value: Any, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent with roundUp=true, as the controller calls it."""
    if isinstance(value, bool):
        raise SyncError(f"invalid value for IntOrString: invalid type: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        raise SyncError(f"invalid value for IntOrString: invalid type: string is not a percentage: {text}")
    try:
        percent = int(text[:-1])
    except ValueError:
        raise SyncError(
            f'invalid value "{text}": strconv.Atoi: parsing "{text[:-1]}": invalid syntax'
        ) from None
    return math.ceil(percent * total / 100)


def controller_ref(obj: Obj) -> Obj | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


class DisruptionController(QueueLoop):
    name = "disruption-controller"
    plurals = (PDBS, "pods", "replicasets", "deployments", "statefulsets")
    # No periodic resync: every input arrives as an informer event, and a periodic pass would
    # repeat the NoPods event of an empty budget many times a real second on a fast clock.

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, "controllermanager")

    def setup(self) -> None:
        self.inf("pods").add_index(IDX_NS, lambda o: [pu.ns_of(o)])
        self.inf(PDBS).add_index(IDX_NS, lambda o: [pu.ns_of(o)])
        for plural in _WORKLOADS.values():
            self.inf(plural).add_index(IDX_NAME, lambda o: [(pu.ns_of(o), pu.name_of(o))])

    async def run(self) -> None:
        # From now on evictions read the status this loop writes, as on a real cluster.
        self.registry.pdb_status_maintained = True
        await super().run()

    # --- events ----------------------------------------------------------------------------------
    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None:
            return
        if plural == PDBS:
            self.queue.add(key_of(obj))
        elif plural == "pods":
            for pod in (old, new):
                if pod is not None:
                    for pdb in self._pdbs_for(pod):
                        self.queue.add(key_of(pdb))
        elif (
            old is None
            or new is None
            or old.get("spec", {}).get("replicas") != new.get("spec", {}).get("replicas")
        ):
            # A scale change moves expectedPods of percentage and maxUnavailable budgets.
            for pdb in self.inf(PDBS).by_index(IDX_NS, pu.ns_of(obj)):
                self.queue.add(key_of(pdb))

    def enqueue_all(self) -> None:
        for key in list(self.inf(PDBS).store):
            self.queue.add(key)

    def _pdbs_for(self, pod: Obj) -> list[Obj]:
        labels = pod.get("metadata", {}).get("labels") or {}
        return [pdb for pdb in self.inf(PDBS).by_index(IDX_NS, pu.ns_of(pod)) if self._selects(pdb, labels)]

    @staticmethod
    def _selects(pdb: Obj, labels: dict[str, str]) -> bool:
        # LabelSelectorAsSelector: a nil selector selects nothing, an empty one everything.
        selector = pdb.get("spec", {}).get("selector")
        return selector is not None and selector_matches(selector, labels)

    # --- sync ------------------------------------------------------------------------------------
    async def sync(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple)
        pdb = self.inf(PDBS).store.get(key)
        if pdb is None:
            return None
        try:
            return self._try_sync(pdb)
        except SyncError as exc:
            return self._fail_safe(pdb, str(exc))
        except ApiError as exc:
            if is_conflict(exc):
                return 0.1  # the eviction handler wrote first; the watch brings the new version
            if is_not_found(exc):
                return None
            raise

    def _try_sync(self, pdb: Obj) -> float | None:
        ns = pu.ns_of(pdb)
        pods = [
            p
            for p in self.inf("pods").by_index(IDX_NS, ns)
            if self._selects(pdb, p.get("metadata", {}).get("labels") or {})
        ]
        if not pods:
            self.recorder.normal(pdb, "NoPods", "No matching pods found")
        try:
            expected, desired, unmanaged = self._expected_pod_count(pdb, pods)
        except SyncError as exc:
            self.recorder.warning(
                pdb,
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {exc}",
            )
            raise
        if unmanaged:
            self.recorder.warning(
                pdb,
                "UnmanagedPods",
                f"Pods selected by this PodDisruptionBudget (selector: {_selector_text(pdb)}) were found "
                "to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which "
                'may result in undefined behavior. To account for these pods please set ".spec.minAvailable" '
                "field of the PDB to an integer value.",
            )
        now = self.clock.now()
        disrupted, recheck = self._disrupted_pod_map(pdb, pods, now)
        healthy = 0
        for pod in pods:
            if pu.deleting(pod) or pu.name_of(pod) in disrupted:
                continue
            if pu.pod_ready(pod):
                healthy += 1
        self._update_status(pdb, healthy=healthy, desired=desired, expected=expected, disrupted=disrupted)
        return recheck

    def _expected_pod_count(self, pdb: Obj, pods: list[Obj]) -> tuple[int, int, list[str]]:
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            expected, unmanaged = self._expected_scale(pods)
            return expected, max(0, expected - scaled_value(spec["maxUnavailable"], expected)), unmanaged
        min_available = spec.get("minAvailable")
        if isinstance(min_available, int) and not isinstance(min_available, bool):
            return len(pods), min_available, []
        if min_available is not None:
            expected, unmanaged = self._expected_scale(pods)
            return expected, scaled_value(min_available, expected), unmanaged
        return 0, 0, []

    def _expected_scale(self, pods: list[Obj]) -> tuple[int, list[str]]:
        """Sum of the scales of the pods' controllers; pods without a controller are reported."""
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        for pod in pods:
            ref = controller_ref(pod)
            if ref is None:
                unmanaged.append(pu.name_of(pod))
                continue
            if ref.get("uid") in scales:
                continue
            found = self._controller_scale(ref, pu.ns_of(pod))
            if found is None:
                raise SyncError(f'found no controllers for pod "{pu.name_of(pod)}"')
            scales[found[0]] = found[1]
        return sum(scales.values()), unmanaged

    def _controller_scale(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        plural = _WORKLOADS.get(ref.get("kind", ""))
        if plural is None:
            return None
        owner = self._owner(plural, ref, namespace)
        if owner is None:
            return None
        if plural == "replicasets":
            parent = controller_ref(owner)
            if parent is not None and parent.get("kind") == "Deployment":
                deploy = self._owner("deployments", parent, namespace)
                if deploy is not None:
                    owner = deploy
        return pu.uid_of(owner), int(owner.get("spec", {}).get("replicas", 1))

    def _owner(self, plural: str, ref: Obj, namespace: str) -> Obj | None:
        for obj in self.inf(plural).by_index(IDX_NAME, (namespace, ref.get("name", ""))):
            if pu.uid_of(obj) == ref.get("uid"):
                return obj
        return None

    def _disrupted_pod_map(self, pdb: Obj, pods: list[Obj], now: Any) -> tuple[dict[str, str], float | None]:
        """Keep evicted pods not yet marked for deletion, for at most DELETION_TIMEOUT; the return's
        second value is when (sim seconds from now) to look again."""
        previous = (pdb.get("status") or {}).get("disruptedPods") or {}
        kept: dict[str, str] = {}
        recheck: float | None = None
        for pod in pods:
            name = pu.name_of(pod)
            if pu.deleting(pod) or name not in previous:
                continue
            try:
                expected_deletion = parse_timestamp(previous[name]) + timedelta(seconds=DELETION_TIMEOUT)
            except (TypeError, ValueError):
                continue
            if expected_deletion < now:
                self.recorder.warning(
                    pod,
                    "NotDeleted",
                    # sic: the real controller prints the namespace twice
                    f"Pod was expected by PDB {pu.ns_of(pdb)}/{pu.ns_of(pdb)} to be deleted but it wasn't",
                )
                continue
            kept[name] = previous[name]
            wait = (expected_deletion - now).total_seconds()
            recheck = wait if recheck is None else min(recheck, wait)
        return kept, recheck

    def _update_status(
        self, pdb: Obj, *, healthy: int, desired: int, expected: int, disrupted: dict[str, str]
    ) -> None:
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        status = pdb.get("status") or {}
        generation = pdb.get("metadata", {}).get("generation", 1)
        if (
            status.get("currentHealthy") == healthy
            and status.get("desiredHealthy") == desired
            and status.get("expectedPods") == expected
            and status.get("disruptionsAllowed") == allowed
            and (status.get("disruptedPods") or {}) == disrupted
            and status.get("observedGeneration") == generation
            and conditions_are_up_to_date(status)
        ):
            return
        new_status: Obj = {
            "observedGeneration": generation,
            "disruptedPods": disrupted,
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
            "conditions": status.get("conditions") or [],
        }
        update_disruption_allowed_condition(new_status, self.clock.timestamp())
        self._write(pdb, new_status)

    def _fail_safe(self, pdb: Obj, message: str) -> float | None:
        """Fail closed: at least stop evictions when the status cannot be computed."""
        status = dict(pdb.get("status") or {})
        status["disruptionsAllowed"] = 0
        status["conditions"] = set_condition(
            status.get("conditions") or [],
            {
                "type": DISRUPTION_ALLOWED,
                "status": "False",
                "reason": SYNC_FAILED,
                "message": message,
                "observedGeneration": status.get("observedGeneration"),
            },
            self.clock.timestamp(),
        )
        self._write(pdb, status)
        return 5.0  # the real controller retries with rate-limited backoff

    def _write(self, pdb: Obj, status: Obj) -> None:
        if not status.get("disruptedPods"):
            status.pop("disruptedPods", None)  # omitempty
        if not status.get("conditions"):
            status.pop("conditions", None)
        if status == (pdb.get("status") or {}):
            return
        meta = pdb["metadata"]
        body = {
            "apiVersion": pdb.get("apiVersion", "policy/v1"),
            "kind": "PodDisruptionBudget",
            # resourceVersion set: a concurrent eviction's decrement must win (409, then resync)
            "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "resourceVersion": meta.get("resourceVersion")},
            "status": status,
        }  # fmt: skip
        result = self.registry.update(PDBS, body, meta["namespace"], subresource="status")
        self.inf(PDBS).observe(result)


def _selector_text(pdb: Obj) -> str:
    selector = pdb.get("spec", {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        parts.append(
            f"{expr.get('key')} {expr.get('operator', '').lower()} ({','.join(expr.get('values') or [])})"
        )
    return ",".join(parts)


def build(cluster: SimCluster) -> list[Controller]:
    return [DisruptionController(cluster)]
