"""Binding state of PVCs and PVs, with the evidence that supports it.

Why a claim is Pending, in order of precedence (first rule that applies wins):
1. ProvisioningFailed: a `ProvisioningFailed` event newer than any `Provisioning` and
   `WaitForFirstConsumer` event (a failed provision removes selected-node, so this must come first).
2. WaitForFirstConsumer: the class binds late and no `volume.kubernetes.io/selected-node` is set yet
   (evidence: the `WaitForFirstConsumer`/`WaitForPodScheduled` event, else the class field).
3. NoMatchingVolume: spec.volumeName names a missing or unsuitable PV, or the latest event is
   `FailedBinding`/`VolumeMismatch`, or there is no class to provision from (no class, `""`, a
   class name with no StorageClass object such as `manual`, or a `kubernetes.io/no-provisioner`
   class), which only static PVs can satisfy.
4. Provisioning vs ProvisionerMissing, once the storage-provisioner annotation or an
   `ExternalProvisioning` event says an external provisioner is expected:
   ProvisionerMissing when the PV controller has repeated `ExternalProvisioning` at least
   `EXTERNAL_PROVISIONING_REPEATS` times (count >= 3, i.e. two resyncs, about 30 s) and the provisioner
   has never answered with a `Provisioning` event. A live provisioner answers within one resync, so the
   count stays below that. Otherwise Provisioning.
"""

from __future__ import annotations

from kstor.model.fields import (
    BETA_STORAGE_PROVISIONER,
    SELECTED_NODE,
    STORAGE_PROVISIONER,
    Obj,
    annotations,
    deleting,
    event_evidence,
    field_evidence,
    latest,
    meta,
    name_of,
    newer,
    spec,
    status,
)
from kstor.model.types import (
    BindingPhase,
    BindingState,
    ClassInfo,
    Evidence,
    PendingReason,
)

EXTERNAL_PROVISIONING_REPEATS = 3
NO_PROVISIONER = "kubernetes.io/no-provisioner"  # local volumes: statically provisioned only
WFFC = "WaitForFirstConsumer"


def claim_binding(
    pvc: Obj,
    *,
    class_name: str | None,
    storage_class: ClassInfo | None,
    pv: Obj | None,
    events: list[Obj],
    holders: tuple[str, ...] = (),
) -> BindingState:
    """`pv` is the PV named by spec.volumeName (None if unset or missing); `holders` are the pods
    (with a node) that keep pvc-protection in place."""
    phase = status(pvc).get("phase") or "Pending"
    volume_name = spec(pvc).get("volumeName") or ""
    if deleting(pvc):
        held = tuple(meta(pvc).get("finalizers") or ()) + holders
        return BindingState(
            BindingPhase.TERMINATING,
            _held_message("pvc", held),
            (field_evidence("metadata.deletionTimestamp", meta(pvc)["deletionTimestamp"]),),
            held_by=held,
        )
    if phase == "Bound":
        message = f"bound to pv {volume_name}" + ("" if pv is not None else " (that PV does not exist)")
        return BindingState(
            BindingPhase.BOUND,
            message,
            (field_evidence("status.phase", phase), field_evidence("spec.volumeName", volume_name)),
        )
    if phase == "Lost":
        lost = latest(events, "ClaimLost", "ClaimMisbound")
        evidence = (field_evidence("status.phase", phase),) + ((event_evidence(lost),) if lost else ())
        return BindingState(BindingPhase.LOST, lost["message"] if lost else "the bound PV is gone", evidence)
    reason, message, evidence = _pending_reason(
        pvc, class_name=class_name, storage_class=storage_class, pv=pv, volume_name=volume_name, events=events
    )
    return BindingState(BindingPhase.PENDING, message, evidence, reason=reason)


def _pending_reason(
    pvc: Obj,
    *,
    class_name: str | None,
    storage_class: ClassInfo | None,
    pv: Obj | None,
    volume_name: str,
    events: list[Obj],
) -> tuple[PendingReason, str, tuple[Evidence, ...]]:
    ann = annotations(pvc)
    failed = latest(events, "ProvisioningFailed")
    started = latest(events, "Provisioning")
    wait = latest(events, "WaitForFirstConsumer", "WaitForPodScheduled")
    if failed is not None and newer(failed, started) and newer(failed, wait):
        return PendingReason.PROVISIONING_FAILED, failed["message"], (event_evidence(failed),)
    if storage_class is not None and storage_class.binding_mode == WFFC and not ann.get(SELECTED_NODE):
        if wait is not None:
            return PendingReason.WAIT_FOR_FIRST_CONSUMER, wait["message"], (event_evidence(wait),)
        return (
            PendingReason.WAIT_FOR_FIRST_CONSUMER,
            "waiting for first consumer to be created before binding",
            (field_evidence(f"storageclass/{storage_class.name}.volumeBindingMode", WFFC),),
        )
    mismatch = latest(events, "FailedBinding", "VolumeMismatch")
    if volume_name:
        if pv is None:
            return (
                PendingReason.NO_MATCHING_VOLUME,
                f'requested pv "{volume_name}" does not exist',
                (field_evidence("spec.volumeName", volume_name),),
            )
        if mismatch is not None:
            return PendingReason.NO_MATCHING_VOLUME, mismatch["message"], (event_evidence(mismatch),)
        return (
            PendingReason.PROVISIONING,
            f'binding to requested pv "{volume_name}"',
            (field_evidence("spec.volumeName", volume_name),),
        )
    provisioner = ann.get(STORAGE_PROVISIONER) or ann.get(BETA_STORAGE_PROVISIONER)
    external = latest(events, "ExternalProvisioning")
    if mismatch is not None and newer(mismatch, external):
        return PendingReason.NO_MATCHING_VOLUME, mismatch["message"], (event_evidence(mismatch),)
    if storage_class is not None and storage_class.provisioner == NO_PROVISIONER:
        return (
            PendingReason.NO_MATCHING_VOLUME,
            f'class "{storage_class.name}" has no provisioner ({NO_PROVISIONER}): '
            "only a matching static PV can bind",
            (field_evidence(f"storageclass/{storage_class.name}.provisioner", NO_PROVISIONER),),
        )
    if provisioner or external is not None:
        return _provisioning(provisioner, external, started)
    if not class_name:
        return (
            PendingReason.NO_MATCHING_VOLUME,
            "no persistent volume matches and no storage class is set",
            (field_evidence("spec.storageClassName", class_name or '""'),),
        )
    if storage_class is None:
        return (
            PendingReason.NO_MATCHING_VOLUME,
            f'no PV with class "{class_name}" matches and no StorageClass "{class_name}" '
            "exists to provision one",
            (field_evidence("spec.storageClassName", class_name),),
        )
    return (
        PendingReason.PROVISIONING,
        f'waiting for the PV controller (class "{class_name}")',
        (field_evidence("status.phase", "Pending"),),
    )


def _provisioning(
    provisioner: str | None, external: Obj | None, started: Obj | None
) -> tuple[PendingReason, str, tuple[Evidence, ...]]:
    who = provisioner or "the external provisioner"
    if started is not None:
        return PendingReason.PROVISIONING, started["message"], (event_evidence(started),)
    evidence: tuple[Evidence, ...] = ()
    if provisioner:
        evidence += (Evidence("annotation", STORAGE_PROVISIONER, provisioner),)
    if external is not None:
        evidence += (event_evidence(external),)
        if int(external.get("count") or 1) >= EXTERNAL_PROVISIONING_REPEATS:
            return (
                PendingReason.PROVISIONER_MISSING,
                f"{who} has not answered: ExternalProvisioning repeated {external.get('count')} times "
                "with no Provisioning event (is the provisioner running?)",
                evidence,
            )
    return PendingReason.PROVISIONING, f"waiting for {who} to create a volume", evidence


def volume_binding(pv: Obj, *, claim_exists: bool, holders: tuple[str, ...] = ()) -> BindingState:
    """`holders`: the bound claim and the pods using it, which keep a deleted, Bound PV in place."""
    phase = status(pv).get("phase") or "Pending"
    ref = spec(pv).get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    if deleting(pv):
        held = tuple(meta(pv).get("finalizers") or ()) + (holders if phase == "Bound" else ())
        return BindingState(
            BindingPhase.TERMINATING,
            _held_message("pv", held),
            (
                field_evidence("metadata.deletionTimestamp", meta(pv)["deletionTimestamp"]),
                field_evidence("status.phase", phase),
            ),
            held_by=held,
        )
    evidence = (field_evidence("status.phase", phase),)
    if phase == "Bound":
        suffix = "" if claim_exists else " (that claim no longer exists)"
        return BindingState(BindingPhase.BOUND, f"bound to pvc {claim}{suffix}", evidence)
    if phase == "Released":
        policy = spec(pv).get("persistentVolumeReclaimPolicy") or "Retain"
        return BindingState(
            BindingPhase.RELEASED,
            f"claim {claim} is gone; reclaim policy {policy}",
            (*evidence, field_evidence("spec.persistentVolumeReclaimPolicy", policy)),
        )
    if phase == "Failed":
        why = status(pv).get("message") or status(pv).get("reason") or "reclaim failed"
        return BindingState(BindingPhase.FAILED, why, evidence)
    if phase == "Available":
        pv_class = spec(pv).get("storageClassName") or "(none)"
        return BindingState(BindingPhase.AVAILABLE, f"available for claims of class {pv_class}", evidence)
    return BindingState(BindingPhase.PENDING, f"pv {name_of(pv)} is not yet available", evidence)


def _held_message(kind: str, held: tuple[str, ...]) -> str:
    if not held:
        return f"{kind} is being deleted"
    return f"{kind} is being deleted; held by " + ", ".join(held)
