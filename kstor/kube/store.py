"""The Store: every watched object as the JSON dict the server sent, plus a few indexes.

Informers write into it; readers (kstor.model, drills) read it and get the changes in batches,
coalesced over a short window so a burst of watch events costs one model update, not thousands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from kstor.model.types import CLUSTER_SCOPED, Change, ChangeType

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace or "", name)
Obj = dict[str, Any]

ADDED, MODIFIED, DELETED = ChangeType.ADDED, ChangeType.MODIFIED, ChangeType.DELETED
__all__ = ["ADDED", "DELETED", "MODIFIED", "Change", "ChangeType", "Store", "key_of"]


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def _spec(obj: Obj) -> dict:
    return obj.get("spec") or {}


def _pod_node(pod: Obj) -> list:
    node = _spec(pod).get("nodeName")
    return [node] if node else []


def _pod_claims(pod: Obj) -> list:
    ns, name = key_of(pod)
    out = []
    for vol in _spec(pod).get("volumes") or []:
        if (pvc := vol.get("persistentVolumeClaim")) and pvc.get("claimName"):
            out.append((ns, pvc["claimName"]))
        elif vol.get("ephemeral"):
            out.append((ns, f"{name}-{vol.get('name')}"))  # generic ephemeral volume's claim name
    return out


def _pv_claim(pv: Obj) -> list:
    ref = _spec(pv).get("claimRef") or {}
    return [(ref.get("namespace") or "", ref["name"])] if ref.get("name") else []


def _va_pv(va: Obj) -> list:
    pv = (_spec(va).get("source") or {}).get("persistentVolumeName")
    return [pv] if pv else []


def _va_node(va: Obj) -> list:
    node = _spec(va).get("nodeName")
    return [node] if node else []


def _event_involved(ev: Obj) -> list:
    inv = ev.get("involvedObject") or {}
    if not inv:
        return []
    kind = inv.get("kind") or ""
    # Events about nodes and PVs carry namespace "default" or ""; the model asks with "".
    ns = "" if kind in CLUSTER_SCOPED else inv.get("namespace") or ""
    return [(kind, ns, inv.get("name") or "")]


# kind -> index name -> function giving the index values of one object
INDEXES: dict[str, dict[str, Callable[[Obj], list]]] = {
    "Pod": {"node": _pod_node, "claim": _pod_claims},
    "PersistentVolume": {"claim": _pv_claim},
    "VolumeAttachment": {"pv": _va_pv, "node": _va_node},
    "Event": {"involved": _event_involved},
}


class Store:
    """Objects by kind -> (namespace, name); batched change notifications.

    Implements kstor.model's `ObjectSource` protocol; batches are lists of `kstor.model.Change`.
    """

    def __init__(self, *, batch_window: float = 0.05, batch_max: int = 5000) -> None:
        self.batch_window = batch_window
        self.batch_max = batch_max
        self._objects: dict[str, dict[Key, Obj]] = {}
        # (kind, index) -> value -> the key of the one object filed under it, or {key: None} for
        # several (most values name one object: a claim's pod, a claim's PV; a dict each costs 200 B)
        self._index: dict[tuple[str, str], dict[Any, Key | dict[Key, None]]] = {}
        self._pending: dict[tuple[str, Key], Change] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._callbacks: list[Callable[[list[Change]], None]] = []
        self.version = 0  # bumped on every delivered batch

    # ---- reading (the input protocol of kstor.model) ----
    def kinds(self) -> list[str]:
        return list(self._objects)

    def objects(self, kind: str) -> Iterable[Obj]:
        return self._objects.get(kind, {}).values()

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._objects.get(kind, {}).get((namespace or "", name))

    def count(self, kind: str) -> int:
        return len(self._objects.get(kind, {}))

    def by_index(self, kind: str, index: str, value: Any) -> list[Obj]:
        bucket = self._index.get((kind, index), {}).get(value)
        if bucket is None:
            return []
        objs = self._objects.get(kind, {})
        if type(bucket) is dict:
            return [objs[k] for k in bucket if k in objs]
        obj = objs.get(bucket)  # type: ignore[arg-type]
        return [] if obj is None else [obj]

    def pods_on_node(self, node: str) -> list[Obj]:
        return self.by_index("Pod", "node", node)

    def pods_using_claim(self, namespace: str, claim: str) -> list[Obj]:
        return self.by_index("Pod", "claim", (namespace, claim))

    def volumes_for_claim(self, namespace: str, claim: str) -> list[Obj]:
        return self.by_index("PersistentVolume", "claim", (namespace, claim))

    def attachments_for_volume(self, pv: str) -> list[Obj]:
        return self.by_index("VolumeAttachment", "pv", pv)

    def attachments_on_node(self, node: str) -> list[Obj]:
        return self.by_index("VolumeAttachment", "node", node)

    def events_for(self, kind: str, namespace: str | None, name: str) -> list[Obj]:
        return self.by_index("Event", "involved", (kind, namespace or "", name))

    # ---- writing (informers only) ----
    def apply(self, kind: str, type_: str | ChangeType, obj: Obj) -> None:
        """Record one watch event (ADDED/MODIFIED/DELETED)."""
        self._apply(kind, type_ == DELETED, obj, key_of(obj))

    def _apply(self, kind: str, delete: bool, obj: Obj, key: Key) -> None:
        objs = self._objects.get(kind)
        if objs is None:
            objs = self._objects[kind] = {}
        if delete:
            old = objs.pop(key, None)
            if old is None:
                return
            if kind in INDEXES:
                self._reindex(kind, key, old, None)
            type_ = DELETED
        else:
            old = objs.get(key)
            objs[key] = obj
            if kind in INDEXES:
                self._reindex(kind, key, old, obj)
            type_ = ADDED if old is None else MODIFIED
        self._queue(Change(kind, type_, obj), (kind, key))

    def replace(self, kind: str, items: Iterable[Obj], *, namespace: str | None = None) -> int:
        """Make `kind` (within `namespace` if given) equal to a fresh list; queue only the differences
        (the deletions and changes a broken watch hid). Returns how many changes that made."""
        objs = self._objects.setdefault(kind, {})
        if not objs:  # the first list: nothing to diff against, every item is new
            for obj in items:
                self._apply(kind, False, obj, key_of(obj))
            return len(objs)
        fresh = {key_of(o): o for o in items}
        changed = 0
        for key in [k for k in objs if (namespace is None or k[0] == namespace) and k not in fresh]:
            self._apply(kind, True, objs[key], key)
            changed += 1
        for key, obj in fresh.items():
            old = objs.get(key)
            if old is None or _rv(old) != _rv(obj) or _uid(old) != _uid(obj):
                self._apply(kind, False, obj, key)
                changed += 1
        return changed

    def clear_kind(self, kind: str, *, namespace: str | None = None) -> None:
        self.replace(kind, [], namespace=namespace)

    def _reindex(self, kind: str, key: Key, old: Obj | None, new: Obj | None) -> None:
        """Move `key` from the index values of its old version to those of its new one (the old
        version's values are recomputed rather than remembered: stored objects never change)."""
        for name, fn in INDEXES[kind].items():
            before = fn(old) if old is not None else ()
            after = fn(new) if new is not None else ()
            if before == after:
                continue
            table = self._index.setdefault((kind, name), {})
            for value in before:
                _unfile(table, value, key)
            for value in after:
                _file(table, value, key)

    # ---- batching and subscriptions ----
    def _queue(self, change: Change, slot: tuple[str, Key]) -> None:
        prev = self._pending.get(slot)
        if prev is None:
            self._pending[slot] = change
        else:
            merged = _coalesce(prev, change)
            if merged is None:
                del self._pending[slot]
            else:
                self._pending[slot] = merged
        if len(self._pending) >= self.batch_max:
            self.flush()
        elif self._timer is None and self._pending:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop (pure unit use): the caller flushes
            self._timer = loop.call_later(self.batch_window, self.flush)

    def flush(self) -> None:
        """Deliver pending changes now (informers call it after a relist so readers see it at once)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch = list(self._pending.values())
        self._pending = {}
        self.version += 1
        for cb in list(self._callbacks):
            try:
                cb(batch)
            except Exception:
                log.exception("store subscriber %r failed", cb)

    def subscribe(self, callback: Callable[[list[Change]], None]) -> Callable[[], None]:
        """Call `callback(batch)` for every batch; returns the function that unsubscribes."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    async def changes(self) -> AsyncIterator[list[Change]]:
        """Batches as an async iterator (unsubscribes when the iteration stops)."""
        queue: asyncio.Queue[list[Change]] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    def snapshot(self) -> dict[str, dict[Key, Obj]]:
        """A shallow copy of everything (for comparisons in tests and drills)."""
        return {kind: dict(objs) for kind, objs in self._objects.items()}

    def __iter__(self) -> Iterator[tuple[str, Obj]]:
        for kind, objs in self._objects.items():
            for obj in objs.values():
                yield kind, obj


def _file(table: dict[Any, Key | dict[Key, None]], value: Any, key: Key) -> None:
    bucket = table.get(value)
    if bucket is None:
        table[value] = key
    elif type(bucket) is dict:
        bucket[key] = None
    elif bucket != key:
        table[value] = {bucket: None, key: None}  # type: ignore[dict-item]


def _unfile(table: dict[Any, Key | dict[Key, None]], value: Any, key: Key) -> None:
    bucket = table.get(value)
    if bucket is None:
        return
    if type(bucket) is dict:
        bucket.pop(key, None)
        if not bucket:
            del table[value]
    elif bucket == key:
        del table[value]


def _rv(obj: Obj) -> str | None:
    return (obj.get("metadata") or {}).get("resourceVersion")


def _uid(obj: Obj) -> str | None:
    return (obj.get("metadata") or {}).get("uid")


def _coalesce(prev: Change, new: Change) -> Change | None:
    """Two changes to one object within a batch become one (or none: created and deleted)."""
    if new.type == DELETED:
        return None if prev.type == ADDED else new
    if prev.type == ADDED:
        return Change(new.kind, ADDED, new.obj)
    if prev.type == DELETED:
        return Change(new.kind, MODIFIED, new.obj)
    return new
