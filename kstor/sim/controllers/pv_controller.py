"""The PersistentVolume controller ("matchmaker"): binds claims to volumes, tracks phases, reclaims.

Follows pkg/controller/volume/persistentvolume/pv_controller.go: syncClaim/syncVolume driven by
watch events plus a 15 s resync, the same bind order (PV claimRef → PV Bound → PVC volumeName +
annotations → PVC Bound), the same events and messages. Unlike the real controller, the periodic
resync only revisits objects that are not settled (pending claims, unbound volumes): settled ones
are revisited by their own watch events, which keeps a 10,000-claim cluster cheap at high speed.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import RESYNC, Obj, QueueLoop
from kstor.sim.controllers.util import (
    ANN_BETA_STORAGE_PROVISIONER,
    ANN_BIND_COMPLETED,
    ANN_BOUND_BY_CONTROLLER,
    ANN_DEFAULT_CLASS,
    ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    claim_reference,
    claim_uses_selector,
    is_bound_to_claim,
    mutate,
    storage_of,
    volume_mode,
)
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

COMPONENT = "persistentvolume-controller"
NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
WAIT_CONSUMER = "waiting for first consumer to be created before binding"
LOST_REFERENCE = "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
LOST_VOLUME = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
MISBOUND = "Two claims are bound to the same volume, this one is bound incorrectly"
UNKNOWN_POLICY = "Volume has unrecognized PersistentVolumeReclaimPolicy"
IDX_CLAIMREF = "storage/claimref"
IDX_POD_CLAIMS = "storage/pod-claims"

EXTERNAL_PROVISIONING = (
    "Waiting for a volume to be created either by the external provisioner '{}' or manually by the "
    "system administrator. If volume creation is delayed, please verify that the provisioner is running "
    "and correctly registered."
)


def claimref_keys(pv: Obj) -> Iterable[Hashable]:
    ref = pv.get("spec", {}).get("claimRef")
    if ref and ref.get("name"):
        return [(ref.get("namespace") or "", ref["name"])]
    return []


def pod_claim_keys(pod: Obj) -> Iterable[Hashable]:
    ns = pu.ns_of(pod)
    return [(ns, claim) for claim in pu.pod_claims(pod)]


class AvailableIndex:
    """Unclaimed volumes by (class, access-mode set), each list sorted by capacity then name."""

    def __init__(self) -> None:
        self._lists: dict[tuple[str, frozenset[str]], list[tuple[Decimal, str]]] = {}
        self._where: dict[str, tuple[tuple[str, frozenset[str]], tuple[Decimal, str]]] = {}

    def clear(self) -> None:
        self._lists.clear()
        self._where.clear()

    def discard(self, name: str) -> None:
        found = self._where.pop(name, None)
        if found is None:
            return
        key, item = found
        items = self._lists[key]
        pos = bisect.bisect_left(items, item)
        if pos < len(items) and items[pos] == item:
            items.pop(pos)

    def update(self, name: str, pv: Obj | None) -> None:
        self.discard(name)
        if pv is None or pv.get("spec", {}).get("claimRef") or pu.deleting(pv):
            return
        spec = pv.get("spec", {})
        key = (pu.pv_class(pv), frozenset(spec.get("accessModes") or []))
        item = (storage_of(spec.get("capacity")), name)
        bisect.insort(self._lists.setdefault(key, []), item)
        self._where[name] = (key, item)

    def mode_sets(self, cls: str) -> list[frozenset[str]]:
        return [modes for (c, modes), items in self._lists.items() if c == cls and items]

    def fitting(self, cls: str, modes: frozenset[str], size: Decimal) -> Iterator[str]:
        """Names of volumes at least `size`, smallest first (lazily: the first match usually wins)."""
        items = self._lists.get((cls, modes), [])
        for pos in range(bisect.bisect_left(items, (size, "")), len(items)):
            yield items[pos][1]


class PVController(QueueLoop):
    name = "pv-controller"
    plurals = ("storageclasses", "persistentvolumes", "persistentvolumeclaims", "pods")
    resync_seconds = 15.0

    def resync_interval(self) -> float | None:
        # 15 s as the real controller, but at least ~0.25 s of real time (+0.1 s per 1,000 claims
        # waiting): at speed 1000 a 15 ms period would re-sync, and re-emit events for, every
        # pending claim faster than one core can.
        return max(15.0, self.clock.speed * (0.25 + len(self.unsettled) / 10_000))

    def setup(self) -> None:
        self.recorder = EventRecorder(self.registry, COMPONENT)
        self.inf("persistentvolumes").add_index(IDX_CLAIMREF, claimref_keys)
        self.inf("pods").add_index(IDX_POD_CLAIMS, pod_claim_keys)
        self.available = AvailableIndex()
        self.unsettled: set[Hashable] = set()
        self._primed = False

    # --- queueing ------------------------------------------------------------------------------------
    def enqueue_all(self) -> None:
        if not self._primed:
            self._primed = True
            self.available.clear()
            for (_, name), pv in self.inf("persistentvolumes").store.items():
                self.available.update(name, pv)
                self.queue.add(("pv", name))
            for ns, name in self.inf("persistentvolumeclaims").store:
                self.queue.add(("pvc", ns, name))
            return
        for key in list(self.unsettled):
            self.queue.add(key)

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if not self._primed or new is None:
            return
        if plural == "persistentvolumes":
            name = pu.name_of(new)
            self.available.update(name, None if event_type == "DELETED" else new)
            self.queue.add(("pv", name))
            for obj in (old, new):
                for ns, claim in claimref_keys(obj or {}):
                    self.queue.add(("pvc", ns, claim))
        elif plural == "persistentvolumeclaims":
            ns, name = pu.ns_of(new), pu.name_of(new)
            self.queue.add(("pvc", ns, name))
            if event_type == "DELETED":
                self.unsettled.discard(("pvc", ns, name))
                vol = new.get("spec", {}).get("volumeName")
                if vol:
                    self.queue.add(("pv", vol))
                for pv in self.inf("persistentvolumes").by_index(IDX_CLAIMREF, (ns, name)):
                    self.queue.add(("pv", pu.name_of(pv)))
        elif plural == "storageclasses":
            for key in list(self.unsettled):
                self.queue.add(key)

    async def sync(self, key: Hashable) -> float | None:
        if key == RESYNC:
            return None
        assert isinstance(key, tuple)
        settled = self._sync_volume(key[1]) if key[0] == "pv" else self._sync_claim(key[1], key[2])
        if settled:
            self.unsettled.discard(key)
        else:
            self.unsettled.add(key)
        return None

    # --- lookups -------------------------------------------------------------------------------------
    def _class(self, name: str) -> Obj | None:
        return self.inf("storageclasses").get(name) if name else None

    def _pv(self, name: str) -> Obj | None:
        return self.inf("persistentvolumes").get(name)

    def _claim(self, namespace: str, name: str) -> Obj | None:
        return self.inf("persistentvolumeclaims").get(name, namespace)

    def _default_class(self) -> str | None:
        best: tuple[str, str] | None = None
        for sc in self.inf("storageclasses").store.values():
            if (sc["metadata"].get("annotations") or {}).get(ANN_DEFAULT_CLASS) == "true":
                key = (sc["metadata"].get("creationTimestamp", ""), pu.name_of(sc))
                best = key if best is None or key > best else best
        return best[1] if best else None

    # --- claims --------------------------------------------------------------------------------------
    def _sync_claim(self, namespace: str, name: str) -> bool:
        claim = self._claim(namespace, name)
        if claim is None:
            return True
        if ANN_BIND_COMPLETED not in (claim["metadata"].get("annotations") or {}):
            return self._sync_unbound_claim(claim)
        return self._sync_bound_claim(claim)

    def _sync_unbound_claim(self, claim: Obj) -> bool:
        spec = claim.get("spec", {})
        volume_name = spec.get("volumeName") or ""
        if volume_name:
            self._sync_claim_with_volume_name(claim, volume_name)
            return False
        if self._assign_default_class(claim):
            return False
        cls_name = pu.claim_class(claim)
        sc = self._class(cls_name)
        delay = sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        for _ in range(8):  # a cached candidate may have been taken meanwhile: try the next one
            pv = self._find_best_match(claim, delay=delay)
            if pv is None:
                break
            if self._bind(pv, claim):
                return False
            self.available.discard(pu.name_of(pv))
        else:
            return False
        ann = claim["metadata"].get("annotations") or {}
        if delay and ANN_SELECTED_NODE not in ann:
            self._emit_waiting_for_consumer(claim)
        elif cls_name:
            self._provision(claim, cls_name, sc)
        else:
            self.recorder.normal(claim, "FailedBinding", NO_CLASS)
        self._set_claim_phase(claim, "Pending")
        return False

    def _sync_claim_with_volume_name(self, claim: Obj, volume_name: str) -> None:
        pv = self._pv(volume_name)
        if pv is None:
            self._set_claim_phase(claim, "Pending")
            return
        if not pv.get("spec", {}).get("claimRef"):
            reason = mismatch_reason(pv, claim)
            if reason:
                self.recorder.warning(
                    claim, "VolumeMismatch", f'Cannot bind to requested volume "{volume_name}": {reason}'
                )
                self._set_claim_phase(claim, "Pending")
                return
            self._bind(pv, claim)
        elif is_bound_to_claim(pv, claim):
            self._bind(pv, claim)
        else:
            self.recorder.warning(
                claim, "FailedBinding", f'volume "{volume_name}" already bound to a different claim.'
            )
            self._set_claim_phase(claim, "Pending")

    def _assign_default_class(self, claim: Obj) -> bool:
        # Retroactive default StorageClass assignment: only claims with no class key at all.
        spec = claim.get("spec", {})
        ann = claim["metadata"].get("annotations") or {}
        if "storageClassName" in spec or "volume.beta.kubernetes.io/storage-class" in ann:
            return False
        default = self._default_class()
        if not default:
            return False

        def set_class(obj: Obj) -> bool:
            if "storageClassName" in obj["spec"]:
                return False
            obj["spec"]["storageClassName"] = default
            return True

        self._mutate("persistentvolumeclaims", pu.name_of(claim), pu.ns_of(claim), set_class)
        return True

    def _sync_bound_claim(self, claim: Obj) -> bool:
        volume_name = claim.get("spec", {}).get("volumeName") or ""
        if not volume_name:
            self._lose_claim(claim, "ClaimLost", LOST_REFERENCE)
            return True
        pv = self._pv(volume_name) or self._fresh("persistentvolumes", volume_name, None)
        if pv is None:
            self._lose_claim(claim, "ClaimLost", LOST_VOLUME)
            return True
        ref = pv.get("spec", {}).get("claimRef")
        if ref and ref.get("uid") and ref.get("uid") != pu.uid_of(claim):
            self._lose_claim(claim, "ClaimMisbound", MISBOUND)
            return True
        if not fully_bound(pv, claim):
            self._bind(pv, claim)
            return False
        return True

    def _lose_claim(self, claim: Obj, reason: str, message: str) -> None:
        if claim.get("status", {}).get("phase") == "Lost":
            return
        self._set_claim_phase(claim, "Lost")
        self.recorder.warning(claim, reason, message)

    def _find_best_match(self, claim: Obj, *, delay: bool) -> Obj | None:
        spec = claim.get("spec", {})
        wanted = frozenset(spec.get("accessModes") or [])
        size = storage_of((spec.get("resources") or {}).get("requests"))
        cls = pu.claim_class(claim)
        key = (pu.ns_of(claim), pu.name_of(claim))
        prebound = [
            pv
            for pv in self.inf("persistentvolumes").by_index(IDX_CLAIMREF, key)
            if is_bound_to_claim(pv, claim) and fits(pv, claim, size)
        ]
        sets = {frozenset(pv.get("spec", {}).get("accessModes") or []) for pv in prebound}
        if not delay:
            sets.update(self.available.mode_sets(cls))
        # access-mode sets searched fewest modes first, as persistentVolumeOrderedIndex does
        for modes in sorted((s for s in sets if wanted <= s), key=lambda s: (len(s), sorted(s))):
            for pv in prebound:
                if frozenset(pv.get("spec", {}).get("accessModes") or []) == modes:
                    return pv
            if delay:
                continue
            for name in self.available.fitting(cls, modes, size):
                pv = self._pv(name)
                if pv is not None and pv.get("status", {}).get("phase") != "Available":
                    # our own phase write may not have reached the watch cache yet
                    pv = self._fresh("persistentvolumes", name, None)
                if pv is not None and self._matches(pv, claim, cls, size):
                    return pv
        return None

    @staticmethod
    def _matches(pv: Obj, claim: Obj, cls: str, size: Decimal) -> bool:
        if pv.get("spec", {}).get("claimRef") or pv.get("status", {}).get("phase") != "Available":
            return False
        if not fits(pv, claim, size) or pu.pv_class(pv) != cls:
            return False
        return claim_uses_selector(claim, pv)

    def _emit_waiting_for_consumer(self, claim: Obj) -> None:
        pods = self.inf("pods").by_index(IDX_POD_CLAIMS, (pu.ns_of(claim), pu.name_of(claim)))
        waiting = sorted(pu.name_of(p) for p in pods if not pu.node_of(p))
        if not waiting:
            self.recorder.normal(claim, "WaitForFirstConsumer", WAIT_CONSUMER)
        elif len(waiting) == 1:
            self.recorder.normal(
                claim, "WaitForPodScheduled", f"waiting for pod {waiting[0]} to be scheduled"
            )
        else:
            self.recorder.normal(
                claim, "WaitForPodScheduled", f"waiting for pods {','.join(waiting)} to be scheduled"
            )

    def _provision(self, claim: Obj, cls_name: str, sc: Obj | None) -> None:
        if sc is None:
            self.recorder.warning(
                claim, "ProvisioningFailed", f'storageclass.storage.k8s.io "{cls_name}" not found'
            )
            return
        provisioner = sc.get("provisioner", "")
        if provisioner.startswith("kubernetes.io/"):
            # No in-tree provisioners are simulated (kubernetes.io/no-provisioner among them).
            self.recorder.warning(
                claim, "ProvisioningFailed", f"no volume plugin matched name: {provisioner}"
            )
            return
        ann = claim["metadata"].get("annotations") or {}
        if (
            ann.get(ANN_STORAGE_PROVISIONER) != provisioner
            or ann.get(ANN_BETA_STORAGE_PROVISIONER) != provisioner
        ):

            def set_provisioner(obj: Obj) -> None:
                annotations = obj["metadata"].setdefault("annotations", {})
                annotations[ANN_BETA_STORAGE_PROVISIONER] = provisioner
                annotations[ANN_STORAGE_PROVISIONER] = provisioner

            claim = (
                self._mutate("persistentvolumeclaims", pu.name_of(claim), pu.ns_of(claim), set_provisioner)
                or claim
            )
        self.recorder.normal(claim, "ExternalProvisioning", EXTERNAL_PROVISIONING.format(provisioner))

    # --- binding -------------------------------------------------------------------------------------
    def _bind(self, pv: Obj, claim: Obj) -> bool:
        """The four writes of PersistentVolumeController.bind; False if the volume was taken meanwhile."""
        volume = self._bind_volume_to_claim(pu.name_of(pv), claim)
        if volume is None:
            return False
        volume = self._set_volume_phase(volume, "Bound")
        fresh = self._bind_claim_to_volume(claim, pu.name_of(volume))
        self._set_claim_phase(fresh, "Bound", volume=volume)
        return True

    def _bind_volume_to_claim(self, name: str, claim: Obj) -> Obj | None:
        pv = self.registry.get("persistentvolumes", name)
        ref = pv.get("spec", {}).get("claimRef")
        if ref and not is_bound_to_claim(pv, claim):
            return None
        if ref and ref.get("uid") == pu.uid_of(claim):
            return pv
        if not ref:
            pv["metadata"].setdefault("annotations", {})[ANN_BOUND_BY_CONTROLLER] = "yes"
        pv["spec"]["claimRef"] = claim_reference(claim)
        updated = self.registry.update_entry("persistentvolumes", pv).obj  # read-only
        self.available.discard(name)
        return updated

    def _bind_claim_to_volume(self, claim: Obj, volume_name: str) -> Obj:
        def bind(obj: Obj) -> bool:
            ann = obj["metadata"].setdefault("annotations", {})
            dirty = False
            if obj["spec"].get("volumeName") != volume_name:
                obj["spec"]["volumeName"] = volume_name
                ann.setdefault(ANN_BOUND_BY_CONTROLLER, "yes")
                dirty = True
            if ANN_BIND_COMPLETED not in ann:
                ann[ANN_BIND_COMPLETED] = "yes"
                dirty = True
            return dirty

        name, ns = pu.name_of(claim), pu.ns_of(claim)
        return self._mutate("persistentvolumeclaims", name, ns, bind) or self.registry.get(
            "persistentvolumeclaims", name, ns
        )

    def _set_claim_phase(self, claim: Obj, phase: str, *, volume: Obj | None = None) -> Obj:
        status = claim.get("status", {})
        want_modes = want_capacity = None
        if volume is not None:
            want_modes = volume.get("spec", {}).get("accessModes")
            want_capacity = volume.get("spec", {}).get("capacity")
        if status.get("phase") == phase and (
            volume is None
            or (status.get("accessModes") == want_modes and status.get("capacity") == want_capacity)
        ):
            return claim

        def set_phase(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["phase"] = phase
            if volume is not None:
                st["accessModes"] = want_modes
                st["capacity"] = want_capacity
            elif phase == "Pending":
                st.pop("accessModes", None)
                st.pop("capacity", None)

        name, ns = pu.name_of(claim), pu.ns_of(claim)
        return self._mutate("persistentvolumeclaims", name, ns, set_phase, subresource="status") or claim

    def _set_volume_phase(self, pv: Obj, phase: str, message: str = "") -> Obj:
        status = pv.get("status", {})
        if status.get("phase") == phase and (status.get("message") or "") == message:
            return pv
        now = self.clock.timestamp()

        def set_phase(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            if st.get("phase") != phase:
                st["lastPhaseTransitionTime"] = now
            st["phase"] = phase
            if message:
                st["message"] = message
            else:
                st.pop("message", None)

        return self._mutate("persistentvolumes", pu.name_of(pv), None, set_phase, subresource="status") or pv

    # --- volumes -------------------------------------------------------------------------------------
    def _sync_volume(self, name: str) -> bool:
        pv = self._pv(name)
        if pv is None:
            return True
        spec = pv.get("spec", {})
        ref = spec.get("claimRef")
        if not ref or not ref.get("uid"):
            self._set_volume_phase(pv, "Available")
            return not ref
        phase = pv.get("status", {}).get("phase")
        claim = self._claim(ref.get("namespace") or "", ref.get("name", ""))
        if claim is None and phase not in ("Released", "Failed"):
            claim = self._fresh("persistentvolumeclaims", ref.get("name", ""), ref.get("namespace") or "")
        if claim is not None and pu.uid_of(claim) != ref.get("uid"):
            claim = None
        if claim is None:
            if phase not in ("Released", "Failed"):
                pv = self._set_volume_phase(pv, "Released")
            self._reclaim(pv)
            return True
        bound_to = claim.get("spec", {}).get("volumeName") or ""
        if not bound_to:
            if volume_mode(pv) != volume_mode(claim):
                self.recorder.warning(
                    pv,
                    "VolumeMismatch",
                    "Cannot bind PersistentVolume to requested "
                    f'PersistentVolumeClaim "{pu.name_of(claim)}" due to incompatible volumeMode.',
                )
                self.recorder.warning(
                    claim,
                    "VolumeMismatch",
                    f'Cannot bind PersistentVolume "{name}" to '
                    "requested PersistentVolumeClaim due to incompatible volumeMode.",
                )
                return True
            self.queue.add(("pvc", pu.ns_of(claim), pu.name_of(claim)))
            return True
        if bound_to == name:
            self._set_volume_phase(pv, "Bound")
            return True
        ann = pv["metadata"].get("annotations") or {}
        if ANN_PROVISIONED_BY in ann and spec.get("persistentVolumeReclaimPolicy") == "Delete":
            if phase not in ("Released", "Failed"):
                pv = self._set_volume_phase(pv, "Released")
            self._reclaim(pv)
            return True
        self._unbind_volume(pv)
        return True

    def _unbind_volume(self, pv: Obj) -> None:
        def unbind(obj: Obj) -> None:
            ann = obj["metadata"].get("annotations") or {}
            if ANN_BOUND_BY_CONTROLLER in ann:
                obj["spec"].pop("claimRef", None)
                ann.pop(ANN_BOUND_BY_CONTROLLER)
            else:
                obj["spec"]["claimRef"].pop("uid", None)

        updated = self._mutate("persistentvolumes", pu.name_of(pv), None, unbind)
        if updated is not None:
            self._set_volume_phase(updated, "Available")

    def _reclaim(self, pv: Obj) -> None:
        policy = pv.get("spec", {}).get("persistentVolumeReclaimPolicy", "Retain")
        if policy == "Retain":
            return
        if policy == "Recycle":
            self._recycle(pv)
        elif policy == "Delete":
            self._delete_volume(pv)
        else:
            self._fail_volume(pv, "VolumeUnknownReclaimPolicy", UNKNOWN_POLICY)

    def _recycle(self, pv: Obj) -> None:
        if pv.get("status", {}).get("phase") != "Released":
            return
        self._unbind_volume(pv)
        self.recorder.normal(pv, "VolumeRecycled", "Volume recycled")

    def _delete_volume(self, pv: Obj) -> None:
        provisioner = (pv["metadata"].get("annotations") or {}).get(ANN_PROVISIONED_BY, "")
        if provisioner and not provisioner.startswith("kubernetes.io/"):
            return  # an external provisioner deletes it
        host_path = (pv.get("spec", {}).get("hostPath") or {}).get("path")
        if host_path is None:
            message = f'error getting deleter volume plugin for volume "{pu.name_of(pv)}": '
            self._fail_volume(pv, "VolumeFailedDelete", message + "no deletable volume plugin matched")
        elif not (host_path.startswith("/tmp/") and len(host_path) > len("/tmp/")):
            message = f"host_path deleter only supports /tmp/.+ but received provided {host_path}"
            self._fail_volume(pv, "VolumeFailedDelete", message)
        elif not pu.deleting(pv):
            self._call(lambda: self.registry.delete("persistentvolumes", pu.name_of(pv)))

    def _fail_volume(self, pv: Obj, reason: str, message: str) -> None:
        if pv.get("status", {}).get("phase") == "Failed":
            return
        self._set_volume_phase(pv, "Failed", message)
        self.recorder.warning(pv, reason, message)

    # --- plumbing ------------------------------------------------------------------------------------
    def _mutate(
        self, plural: str, name: str, namespace: str | None, fn: Any, *, subresource: str | None = None
    ) -> Obj | None:
        return mutate(self.registry, plural, name, namespace, fn, subresource=subresource)

    def _fresh(self, plural: str, name: str, namespace: str | None) -> Obj | None:
        try:
            return self.registry.get(plural, name, namespace)
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                return None
            raise

    def _call(self, fn: Any) -> None:
        try:
            fn()
        except Exception as exc:
            if getattr(exc, "code", None) != 404:
                raise


def fits(pv: Obj, claim: Obj, size: Decimal) -> bool:
    """Capacity, volumeMode and deletion checks of FindMatchingVolume."""
    if pu.deleting(pv) or volume_mode(pv) != volume_mode(claim):
        return False
    return storage_of(pv.get("spec", {}).get("capacity")) >= size


def mismatch_reason(pv: Obj, claim: Obj) -> str:
    """checkVolumeSatisfyClaim's reasons, in its order."""
    spec = claim.get("spec", {})
    size = storage_of((spec.get("resources") or {}).get("requests"))
    if storage_of(pv.get("spec", {}).get("capacity")) < size:
        return "requested PV is too small"
    if pu.pv_class(pv) != pu.claim_class(claim):
        return "storageClassName does not match"
    if volume_mode(pv) != volume_mode(claim):
        return "incompatible volumeMode"
    if not set(spec.get("accessModes") or []) <= set(pv.get("spec", {}).get("accessModes") or []):
        return "incompatible accessMode"
    return ""


def fully_bound(pv: Obj, claim: Obj) -> bool:
    ref = pv.get("spec", {}).get("claimRef") or {}
    status = claim.get("status", {})
    return (
        ref.get("uid") == pu.uid_of(claim)
        and ref.get("name") == pu.name_of(claim)
        and pv.get("status", {}).get("phase") == "Bound"
        and claim.get("spec", {}).get("volumeName") == pu.name_of(pv)
        and status.get("phase") == "Bound"
        and status.get("capacity") == pv.get("spec", {}).get("capacity")
    )


def build(cluster: SimCluster) -> list[Controller]:
    return [PVController(cluster)]
