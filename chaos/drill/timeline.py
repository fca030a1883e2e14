"""The controller activity a drill records: what changed on each storage object, in words (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

Obj = dict[str, Any]
WATCHED = ("PersistentVolume", "PersistentVolumeClaim", "VolumeAttachment", "Pod", "Node", "Event")
SHORT = {
    "PersistentVolume": "pv",
    "PersistentVolumeClaim": "pvc",
    "VolumeAttachment": "va",
    "Pod": "pod",
    "Node": "node",
    "Event": "event",
}


@dataclass(frozen=True)
class TimelineEntry:
    t: float  # cluster seconds since the drill's first injection (negative before it)
    kind: str
    object: str
    change: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ref(kind: str, obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    name = f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
    return f"{SHORT.get(kind, kind.lower())}/{name}"


def _uid(obj: Obj) -> str | None:
    return (obj.get("metadata") or {}).get("uid")


def _phase(obj: Obj) -> str | None:
    return (obj.get("status") or {}).get("phase")


def _deleting(obj: Obj | None) -> bool:
    return bool(obj and (obj.get("metadata") or {}).get("deletionTimestamp"))


def _ready(node: Obj) -> str:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return "Ready" if cond.get("status") == "True" else "NotReady"
    return "Unknown"


def _common(old: Obj | None, new: Obj | None) -> list[str]:
    if new is None:
        return ["deleted"]
    out = []
    if old is None:
        out.append(f"created (phase {_phase(new)})" if _phase(new) else "created")
    elif _phase(old) != _phase(new) and _phase(new):
        out.append(f"phase {_phase(old) or '-'} -> {_phase(new)}")
    if _deleting(new) and not _deleting(old):
        out.append("terminating (deletionTimestamp set)")
    return out


def _pod(old: Obj | None, new: Obj | None) -> list[str]:
    out = _common(old, new)
    if new is None:
        return out
    node_old = ((old or {}).get("spec") or {}).get("nodeName")
    node_new = (new.get("spec") or {}).get("nodeName")
    if node_new and node_new != node_old:
        out.append(f"scheduled to {node_new}")
    return out


def _va(old: Obj | None, new: Obj | None) -> list[str]:
    if new is None:
        return ["deleted (detached)"]
    spec = new.get("spec") or {}
    out = []
    if old is None:
        pv = (spec.get("source") or {}).get("persistentVolumeName")
        out.append(f"created: {pv} on {spec.get('nodeName')}")
    status_old, status_new = (old or {}).get("status") or {}, new.get("status") or {}
    if bool(status_new.get("attached")) != bool(status_old.get("attached")):
        out.append("attached" if status_new.get("attached") else "attached: false")
    err = (status_new.get("attachError") or {}).get("message")
    if err and err != (status_old.get("attachError") or {}).get("message"):
        out.append(f"attach error: {err}")
    if _deleting(new) and not _deleting(old):
        out.append("detaching (deletionTimestamp set)")
    return out


def _node(old: Obj | None, new: Obj | None) -> list[str]:
    if new is None or old is None:
        return ["deleted"] if new is None else ["created"]
    out = []
    if _ready(old) != _ready(new):
        out.append(f"{_ready(old)} -> {_ready(new)}")
    was, now = (
        bool((old.get("spec") or {}).get("unschedulable")),
        bool((new.get("spec") or {}).get("unschedulable")),
    )
    if was != now:
        out.append("cordoned" if now else "uncordoned")
    taints_old = {(t.get("key"), t.get("effect")) for t in (old.get("spec") or {}).get("taints") or []}
    for key, effect in sorted(
        {(t.get("key"), t.get("effect")) for t in (new.get("spec") or {}).get("taints") or []}
    ):
        if (key, effect) not in taints_old:
            out.append(f"tainted {key}:{effect}")
    return out


def _event(old: Obj | None, new: Obj | None) -> tuple[str, list[str]]:
    if new is None:
        return "", []
    count_old = int((old or {}).get("count") or 0)
    if old is not None and int(new.get("count") or 1) <= count_old:
        return "", []
    involved = new.get("involvedObject") or {}
    who = ref(str(involved.get("kind")), {"metadata": involved})
    count = int(new.get("count") or 1)
    times = f" (x{count})" if count > 1 else ""
    return who, [f"{new.get('type', 'Normal')} {new.get('reason')}: {new.get('message')}{times}"]


def describe(kind: str, old: Obj | None, new: Obj | None) -> tuple[str, list[str]]:
    """(object ref, what changed) for one object moving from `old` to `new` (None = absent)."""
    if kind == "Event":
        return _event(old, new)
    if old is not None and new is not None and _uid(old) != _uid(new):
        # deleted and re-created under the same name within one batch (a StatefulSet pod, a VA)
        who, gone = describe(kind, old, None)
        return who, gone + describe(kind, None, new)[1]
    obj = new if new is not None else old
    assert obj is not None
    if kind == "Pod":
        return ref(kind, obj), _pod(old, new)
    if kind == "VolumeAttachment":
        return ref(kind, obj), _va(old, new)
    if kind == "Node":
        return ref(kind, obj), _node(old, new)
    return ref(kind, obj), _common(old, new)
