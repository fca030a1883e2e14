"""Findings: what deserves a person's attention, each with severity, the objects and the evidence.

Per-object findings that do not depend on time are computed by the builder when the object changes
(`*_findings` below); `all_findings` adds the time-dependent one (PVCs Pending too long).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kstor.model.fields import parse_time
from kstor.model.types import (
    NODE,
    VOLUME_ATTACHMENT,
    AttachmentRow,
    AttachPhase,
    BindingPhase,
    ClaimRow,
    Evidence,
    Finding,
    FindingKind,
    MountPhase,
    NodeReady,
    NodeRow,
    ObjRef,
    PodRow,
    Severity,
    VolumeRow,
)

if TYPE_CHECKING:
    from kstor.model.snapshot import Topology

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def volume_findings(row: VolumeRow) -> tuple[Finding, ...]:
    binding = row.binding
    if binding.phase is BindingPhase.TERMINATING:
        refs = (row.ref, *((row.claim,) if row.claim else ()))
        held = ", ".join(binding.held_by) or "nothing (should disappear soon)"
        return (
            Finding(
                FindingKind.PV_TERMINATING,
                Severity.WARNING,
                refs,
                f"pv {row.name} is Terminating; held by {held}",
                binding.evidence,
            ),
        )
    if binding.phase is BindingPhase.RELEASED and row.reclaim_policy == "Retain":
        claim = f"{row.claim.namespace}/{row.claim.name}" if row.claim else "?"
        return (
            Finding(
                FindingKind.RELEASED_RETAINED,
                Severity.INFO,
                (row.ref,),
                f"pv {row.name} is Released (claim {claim} is gone) and Retained: it will not bind again "
                "until an admin clears spec.claimRef or deletes it",
                binding.evidence,
            ),
        )
    return ()


def claim_findings(row: ClaimRow) -> tuple[Finding, ...]:
    binding = row.binding
    if binding.phase is BindingPhase.LOST:
        return (
            Finding(
                FindingKind.CLAIM_LOST,
                Severity.ERROR,
                (row.ref,),
                f"pvc {row.ref.namespace}/{row.ref.name} is Lost: {binding.message}",
                binding.evidence,
            ),
        )
    if binding.phase is BindingPhase.TERMINATING and any(h.startswith("pod/") for h in binding.held_by):
        pods = ", ".join(h for h in binding.held_by if h.startswith("pod/"))
        return (
            Finding(
                FindingKind.PVC_TERMINATING,
                Severity.WARNING,
                (row.ref,),
                f"pvc {row.ref.namespace}/{row.ref.name} is Terminating; kubernetes.io/pvc-protection "
                f"keeps it while {pods} use it",
                binding.evidence,
            ),
        )
    return ()


_ATTACH_FINDINGS = (AttachPhase.MULTI_ATTACH, AttachPhase.ATTACH_ERROR)


def pod_findings(row: PodRow) -> tuple[Finding, ...]:
    found: list[Finding] = []
    for use in row.volumes:
        if use.attach.phase not in _ATTACH_FINDINGS and use.mount.phase is not MountPhase.MOUNT_FAILED:
            continue  # the common case: nothing to report, nothing to format
        refs = (row.ref, *((use.claim.ref,) if use.claim else ()), *((use.pv.ref,) if use.pv else ()))
        what = f"pod {row.ref.namespace}/{row.ref.name} volume {use.volume}"
        if use.attach.phase is AttachPhase.MULTI_ATTACH:
            found.append(
                Finding(
                    FindingKind.MULTI_ATTACH,
                    Severity.ERROR,
                    refs,
                    f"{what}: Multi-Attach — still attached to {', '.join(use.attach.other_nodes)}",
                    use.attach.evidence,
                )
            )
        elif use.attach.phase is AttachPhase.ATTACH_ERROR:
            found.append(
                Finding(
                    FindingKind.ATTACH_ERROR,
                    Severity.ERROR,
                    refs,
                    f"{what}: attach failed: {use.attach.message}",
                    use.attach.evidence,
                )
            )
        if use.mount.phase is MountPhase.MOUNT_FAILED:
            found.append(
                Finding(
                    FindingKind.FAILED_MOUNT,
                    Severity.ERROR,
                    refs,
                    f"{what}: mount failed: {use.mount.message}",
                    use.mount.evidence,
                )
            )
    return tuple(found)


def node_findings(row: NodeRow, attached: list[AttachmentRow]) -> tuple[Finding, ...]:
    if not row.exists or (row.ready is NodeReady.READY and not row.cordoned):
        return ()
    # node status and VolumeAttachments describe the same attachments; either may lag the other
    count = max(len(row.volumes_attached), sum(1 for va in attached if va.attached))
    if not count:
        return ()
    state = row.ready.value + (", cordoned" if row.cordoned else "")
    evidence = tuple(e for e in (row.ready_evidence,) if e is not None)
    if row.cordoned:
        evidence += (Evidence("field", "spec.unschedulable", "true"),)
    return (
        Finding(
            FindingKind.NODE_UNHEALTHY_WITH_VOLUMES,
            Severity.WARNING if row.cordoned and row.ready is NodeReady.READY else Severity.ERROR,
            (ObjRef(NODE, "", row.name),),
            f"node {row.name} is {state} with {count} volume(s) attached",
            evidence,
        ),
    )


def attachment_findings(
    row: AttachmentRow, *, pv_exists: bool, node_exists: bool, users_on_node: int
) -> tuple[Finding, ...]:
    """An attachment nobody needs: its PV or node is gone, or no running pod on its node uses the PV."""
    if row.deleting:
        return ()
    if not pv_exists:
        why = f"pv {row.pv} no longer exists"
    elif not node_exists:
        why = f"node {row.node} no longer exists"
    elif users_on_node == 0:
        why = f"no pod on {row.node} uses pv {row.pv}"
    else:
        return ()
    refs = (ObjRef(VOLUME_ATTACHMENT, "", row.name),)
    return (
        Finding(
            FindingKind.ORPHANED_ATTACHMENT,
            Severity.WARNING,
            refs,
            f"volumeattachment {row.name} looks orphaned: {why}",
            (
                Evidence("field", "spec.source.persistentVolumeName", row.pv),
                Evidence("field", "spec.nodeName", row.node),
            ),
        ),
    )


def malformed_finding(ref: ObjRef, message: str) -> Finding:
    return Finding(FindingKind.MALFORMED_OBJECT, Severity.WARNING, (ref,), message)


def pending_findings(claims: list[ClaimRow], *, now: datetime, pending_after: float) -> list[Finding]:
    found = []
    for row in claims:
        if row.binding.phase is not BindingPhase.PENDING:
            continue
        created = parse_time(row.created)
        if created is None:
            continue
        age = (now - created).total_seconds()
        if age < pending_after:
            continue
        reason = row.binding.reason.value if row.binding.reason else "Pending"
        found.append(
            Finding(
                FindingKind.PVC_PENDING,
                Severity.WARNING,
                (row.ref,),
                f"pvc {row.ref.namespace}/{row.ref.name} Pending for {_age(age)} "
                f"({reason}): {row.binding.message}",
                row.binding.evidence,
            )
        )
    return found


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60}m"


def finding_order(f: Finding) -> tuple[int, str, tuple[tuple[str, str, str], ...]]:
    """Errors first, then by kind and the objects named; plain tuples (the dataclasses compare slowly)."""
    return (
        _SEVERITY_ORDER[f.severity],
        f.kind.value,
        tuple((o.kind, o.namespace, o.name) for o in f.objects),
    )


def all_findings(topology: Topology, *, now: datetime, pending_after: float = 60.0) -> tuple[Finding, ...]:
    """Every finding, errors first, then by the first object named."""
    found = [f for group in topology.static_findings.values() for f in group]
    found += pending_findings(list(topology.pending_claims.values()), now=now, pending_after=pending_after)
    found.sort(key=finding_order)
    return tuple(found)
