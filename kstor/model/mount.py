"""Mount state of one volume use, and the pod's STATUS as `kubectl get pods` would print it.

On the embedded cluster the kubelet records each mount in the pod annotation `kstor.io/mounts`
(see docs/sim-internals.md): when present it is the evidence. Real clusters have no such record,
so the state is inferred: a running pod has every volume mounted (the kubelet mounts all volumes
before starting containers); a scheduled pod that is not running yet is Mounting, or MountFailed
when a `FailedMount` event names the volume; a deleting pod is Unmounting.
"""

from __future__ import annotations

import json
import re

from kstor.model.fields import (
    MOUNTS_ANNOTATION,
    Obj,
    annotations,
    deleting,
    event_evidence,
    field_evidence,
    spec,
    status,
    uid_of,
)
from kstor.model.types import Evidence, MountPhase, MountState

_ANNOTATION_PHASES = {
    "mounted": MountPhase.MOUNTED,
    "mounting": MountPhase.MOUNTING,
    "failed": MountPhase.MOUNT_FAILED,
    "unmounting": MountPhase.UNMOUNTING,
}
_UNMOUNTED_LIST = re.compile(r"unmounted volumes=\[([^\]]*)\]")
_PLUGIN_DIRS = {"nfs": "kubernetes.io~nfs", "local": "kubernetes.io~local-volume", "csi": "kubernetes.io~csi"}


def mounts_annotation(pod: Obj) -> dict[str, dict[str, str]] | None:
    """The sim kubelet's mount record, or None when absent or unreadable."""
    return mounts_record(annotations(pod).get(MOUNTS_ANNOTATION))


def mounts_record(raw: str | None) -> dict[str, dict[str, str]] | None:
    """The parsed value of the `kstor.io/mounts` annotation (None when absent or unreadable)."""
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def mount_path(pod: Obj, *, plugin: str, spec_name: str, host_path: str = "") -> str:
    """Where the kubelet mounts a volume: `/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`,
    with `<name>` the PV name for PV-backed volumes and `csi/<name>/mount` for CSI."""
    if plugin == "hostPath":
        return host_path
    plugin_dir = _PLUGIN_DIRS.get(plugin, "kubernetes.io~" + plugin.lower())
    base = f"/var/lib/kubelet/pods/{uid_of(pod)}/volumes/{plugin_dir}"
    return f"{base}/{spec_name}/mount" if plugin == "csi" else f"{base}/{spec_name}"


def is_running(pod: Obj) -> bool:
    if status(pod).get("phase") == "Running":
        return True
    return any("running" in (cs.get("state") or {}) for cs in status(pod).get("containerStatuses") or ())


def mount_state(
    pod: Obj,
    *,
    volume: str,
    spec_name: str,
    path: str,
    record: dict[str, dict[str, str]] | None,
    pod_events: list[Obj],
    in_use_evidence: Evidence | None = None,
) -> MountState:
    """`volume`: the pod's volume name; `spec_name`: the PV name (or `volume` for inline sources)."""
    if record is not None and isinstance(record.get(volume), dict):
        return _from_record(record[volume], volume, path)
    node = spec(pod).get("nodeName")
    phase = status(pod).get("phase") or "Pending"
    if not node:
        return MountState(
            MountPhase.NOT_MOUNTED,
            "pod is not scheduled to a node yet",
            (field_evidence("spec.nodeName", '""'),),
        )
    if phase in ("Succeeded", "Failed"):
        return MountState(
            MountPhase.NOT_MOUNTED,
            f"pod {phase.lower()}; volumes unmounted",
            (field_evidence("status.phase", phase),),
        )
    if deleting(pod):
        return MountState(
            MountPhase.UNMOUNTING,
            "pod is terminating; kubelet unmounts its volumes",
            (field_evidence("metadata.deletionTimestamp", pod["metadata"]["deletionTimestamp"]),),
            path=path,
        )
    if record is not None:
        return MountState(
            MountPhase.MOUNTING,
            "kubelet has not started mounting this volume",
            (Evidence("annotation", MOUNTS_ANNOTATION, "(volume not listed)"),),
            path=path,
        )
    if is_running(pod):
        evidence = (field_evidence("status.phase", phase),)
        if in_use_evidence is not None:
            evidence += (in_use_evidence,)
        return MountState(MountPhase.MOUNTED, f"mounted at {path}", evidence, path=path)
    failure = _last_failed_mount(pod_events, volume, spec_name)
    if failure is not None:
        return MountState(
            MountPhase.MOUNT_FAILED, failure.get("message") or "", (event_evidence(failure),), path=path
        )
    waiting = _waiting_reason(pod) or "Pending"
    return MountState(
        MountPhase.MOUNTING,
        f"pod is {waiting}; kubelet is mounting volumes",
        (field_evidence("status.containerStatuses[].state.waiting.reason", waiting),),
        path=path,
    )


def _from_record(entry: dict[str, str], volume: str, fallback_path: str) -> MountState:
    phase = _ANNOTATION_PHASES.get(str(entry.get("state")), MountPhase.NOT_MOUNTED)
    path = entry.get("path") or fallback_path
    message = entry.get("message") or {
        MountPhase.MOUNTED: f"mounted at {path}",
        MountPhase.MOUNTING: "kubelet is mounting the volume",
        MountPhase.UNMOUNTING: "kubelet is unmounting the volume",
        MountPhase.MOUNT_FAILED: "mount failed",
    }.get(phase, "not mounted")
    evidence = Evidence("annotation", f"{MOUNTS_ANNOTATION}[{volume}]", str(entry.get("state")))
    return MountState(phase, message, (evidence,), path=path)


def _last_failed_mount(events: list[Obj], volume: str, spec_name: str) -> Obj | None:
    for event in reversed(events):
        if event.get("reason") != "FailedMount":
            continue
        message = event.get("message") or ""
        if f'"{volume}"' in message or f'"{spec_name}"' in message:
            return event
        listed = _UNMOUNTED_LIST.search(message)
        if listed and volume in (v.strip() for v in listed.group(1).split()):
            return event
    return None


def _waiting_reason(pod: Obj) -> str:
    for cs in (status(pod).get("initContainerStatuses") or []) + (status(pod).get("containerStatuses") or []):
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return str(waiting["reason"])
    return ""


def pod_status(pod: Obj) -> str:
    """Roughly kubectl's STATUS column: Terminating, a container waiting reason, or the phase."""
    if deleting(pod):
        return "Terminating"
    phase = status(pod).get("phase") or "Pending"
    if phase == "Pending" and spec(pod).get("nodeName"):
        return _waiting_reason(pod) or "ContainerCreating"
    if phase == "Running":
        waiting = _waiting_reason(pod)
        return waiting or "Running"
    return phase
