"""Small readers over raw API dicts (camelCase JSON as the API server returns it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kstor.model.types import Evidence

Obj = dict[str, Any]

BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ZONE_LABEL = "topology.kubernetes.io/zone"
MOUNTS_ANNOTATION = "kstor.io/mounts"
_EPOCH = datetime.min.replace(tzinfo=UTC)

# Pod volume sources that hold no persistent storage: not shown as volume uses.
NON_STORAGE_SOURCES = frozenset(
    {
        "configMap",
        "secret",
        "projected",
        "downwardAPI",
        "emptyDir",
        "image",
        "serviceAccountToken",
        "clusterTrustBundle",
    }
)
# In-tree sources that never go through attach/detach (the attach/detach controller skips them).
UNATTACHABLE = frozenset(
    {
        "nfs",
        "hostPath",
        "local",
        "cephfs",
        "glusterfs",
        "flexVolume",
        "quobyte",
        "portworxVolume",
        "flocker",
        "gitRepo",
        "emptyDir",
    }
)
# Everything a PersistentVolumeSource / VolumeSource can be besides the keys we never treat as plugins.
_NOT_A_SOURCE = frozenset(
    {
        "name",
        "capacity",
        "accessModes",
        "claimRef",
        "persistentVolumeReclaimPolicy",
        "storageClassName",
        "mountOptions",
        "volumeMode",
        "nodeAffinity",
        "volumeAttributesClassName",
    }
)


def meta(obj: Obj) -> Obj:
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def name_of(obj: Obj) -> str:
    return meta(obj).get("name") or ""


def namespace_of(obj: Obj) -> str:
    return meta(obj).get("namespace") or ""


def uid_of(obj: Obj) -> str:
    return meta(obj).get("uid") or ""


def annotations(obj: Obj) -> dict[str, str]:
    return meta(obj).get("annotations") or {}


def deleting(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def storage_of(resources: Obj | None) -> str:
    return str((resources or {}).get("storage") or "")


def effective_class(obj: Obj) -> str | None:
    """The class of a PV or PVC: the beta annotation wins over spec.storageClassName (as in the PV
    controller). None means no class was given at all; "" means explicitly none."""
    ann = annotations(obj)
    if BETA_CLASS_ANNOTATION in ann:
        return ann[BETA_CLASS_ANNOTATION]
    return spec(obj).get("storageClassName")


def volume_source_key(volume_spec: Obj) -> str:
    """The plugin key of a PV spec or a pod volume (nfs, csi, hostPath, persistentVolumeClaim...)."""
    for key in volume_spec:
        if key not in _NOT_A_SOURCE:
            return key
    return ""


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def event_time(event: Obj) -> str:
    return event.get("lastTimestamp") or event.get("eventTime") or meta(event).get("creationTimestamp") or ""


def _event_order(event: Obj) -> tuple[datetime, int]:
    when = parse_time(event_time(event)) or _EPOCH
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    rv = meta(event).get("resourceVersion") or "0"
    return when, int(rv) if rv.isdigit() else 0


def events_about(events: Iterable[Obj], uid: str) -> list[Obj]:
    """Events for one object, oldest first; events naming another uid (an older object of the same
    name) are dropped."""
    mine = [e for e in events if not uid or (e.get("involvedObject") or {}).get("uid") in (None, "", uid)]
    mine.sort(key=_event_order)
    return mine


def latest(events: list[Obj], *reasons: str) -> Obj | None:
    for event in reversed(events):
        if event.get("reason") in reasons:
            return event
    return None


def newer(a: Obj | None, b: Obj | None) -> bool:
    """True when event a exists and is at least as new as event b (or b is absent)."""
    if a is None:
        return False
    return b is None or _event_order(a) >= _event_order(b)


def event_evidence(event: Obj) -> Evidence:
    return Evidence(
        "event",
        event.get("reason") or "",
        event.get("message") or "",
        event_time(event) or None,
        int(event.get("count") or 1),
    )


def field_evidence(path: str, value: Any) -> Evidence:
    text = value if type(value) is str else str(value)
    key = (path, text)
    found = _FIELD_EVIDENCE.get(key)
    if found is None:
        if len(_FIELD_EVIDENCE) >= _FIELD_EVIDENCE_MAX:
            _FIELD_EVIDENCE.clear()
        found = _FIELD_EVIDENCE[key] = Evidence("field", path, text)
    return found


# Evidence is immutable and the same few (path, value) pairs recur on every row rebuild: sharing one
# object saves building it and makes comparing an unchanged row with its rebuild an identity check.
_FIELD_EVIDENCE: dict[tuple[str, str], Evidence] = {}
_FIELD_EVIDENCE_MAX = 16384
