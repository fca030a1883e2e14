"""Attach state of one volume use, from VolumeAttachments and the pod's FailedAttachVolume events."""

from __future__ import annotations

from kstor.model.fields import Obj, deleting, event_evidence, field_evidence, meta, name_of, spec, status
from kstor.model.types import AttachPhase, AttachState, Evidence

MULTI_ATTACH_PREFIX = "Multi-Attach error"
_USED_BY = "Volume is already used by pod(s) "


def attach_state(
    *,
    volume: str,
    required: bool,
    required_evidence: Evidence,
    node: str,
    pod_deleting: bool,
    attachments: list[Obj],
    pod_events: list[Obj],
) -> AttachState:
    """`volume`: the PV name (or inline volume name) events use; `attachments`: the VolumeAttachments
    of that PV on any node; `pod_events`: the pod's events, oldest first."""
    if not required:
        return AttachState(AttachPhase.NOT_REQUIRED, "no attach step for this volume", (required_evidence,))
    if not node:
        return AttachState(
            AttachPhase.NOT_ATTACHED, "pod is not scheduled to a node yet", (required_evidence,)
        )
    here = next((va for va in attachments if spec(va).get("nodeName") == node), None)
    elsewhere = tuple(
        sorted(
            spec(va).get("nodeName") or ""
            for va in attachments
            if va is not here and status(va).get("attached")
        )
    )
    if here is not None:
        found = _from_attachment(here, node)
        if found is not None:
            return found
    quoted = f'"{volume}"'
    failures = [
        e
        for e in pod_events
        if e.get("reason") == "FailedAttachVolume" and quoted in (e.get("message") or "")
    ]
    if failures:
        last = failures[-1]
        message = last.get("message") or ""
        if message.startswith(MULTI_ATTACH_PREFIX) and elsewhere:
            pods = (
                tuple(p.strip() for p in message.split(_USED_BY, 1)[1].split(","))
                if _USED_BY in message
                else ()
            )
            return AttachState(
                AttachPhase.MULTI_ATTACH,
                message,
                (event_evidence(last),),
                attachment=name_of(here) if here else None,
                other_nodes=elsewhere,
                other_pods=pods,
            )
        if not message.startswith(MULTI_ATTACH_PREFIX):
            return AttachState(
                AttachPhase.ATTACH_ERROR,
                message,
                (event_evidence(last),),
                attachment=name_of(here) if here else None,
            )
    if here is not None:
        return AttachState(
            AttachPhase.ATTACHING,
            f"waiting for the attacher ({spec(here).get('attacher', '')})",
            (field_evidence(f"volumeattachment/{name_of(here)}.status.attached", "false"),),
            attachment=name_of(here),
        )
    if pod_deleting:
        return AttachState(AttachPhase.NOT_ATTACHED, f"detached from {node}", (required_evidence,))
    return AttachState(AttachPhase.ATTACHING, f"no VolumeAttachment for {node} yet", (required_evidence,))


def _from_attachment(va: Obj, node: str) -> AttachState | None:
    name = name_of(va)
    prefix = f"volumeattachment/{name}"
    if deleting(va):
        detach_error = (status(va).get("detachError") or {}).get("message")
        message = f"detaching from {node}" + (f": {detach_error}" if detach_error else "")
        return AttachState(
            AttachPhase.DETACHING,
            message,
            (field_evidence(f"{prefix}.metadata.deletionTimestamp", meta(va)["deletionTimestamp"]),),
            attachment=name,
        )
    if status(va).get("attached"):
        return AttachState(
            AttachPhase.ATTACHED,
            f"attached to {node}",
            (field_evidence(f"{prefix}.status.attached", "true"),),
            attachment=name,
        )
    error = (status(va).get("attachError") or {}).get("message")
    if error:
        return AttachState(
            AttachPhase.ATTACH_ERROR,
            error,
            (field_evidence(f"{prefix}.status.attachError.message", error),),
            attachment=name,
        )
    return None
