"""What the model reads: a tiny protocol over raw API objects, and a plain-dict implementation.

kstor.kube's Store implements `ObjectSource`; tests and benchmarks use `DictSource`. The model
never mutates what it is given. Kinds are the Kubernetes `kind` strings (see types.KINDS);
`namespace` is "" (or None) for cluster-scoped kinds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from kstor.model.types import (
    CLUSTER_SCOPED,
    EVENT,
    KINDS,
    POD,
    PV,
    VOLUME_ATTACHMENT,
    Change,
    ChangeType,
)

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds


class ObjectSource(Protocol):
    """Read access to the current objects plus the few indexes the model needs.

    Index contracts (all return raw dicts; order does not matter). Pod-side relations (pods by node,
    pods by claim) the builder keeps itself, so a store need not offer them to the model.
    - `volumes_for_claim(ns, claim)`: PVs whose `spec.claimRef` has that namespace and name (any uid).
    - `attachments_for_volume(pv)`: VolumeAttachments with `spec.source.persistentVolumeName == pv`.
    - `attachments_on_node(node)`: VolumeAttachments with `spec.nodeName == node`.
    - `events_for(kind, ns, name)`: Events whose `involvedObject` has that kind, namespace
      ("" for cluster-scoped) and name; the model filters by uid itself.
    """

    def objects(self, kind: str) -> Iterable[Obj]: ...
    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None: ...
    def volumes_for_claim(self, namespace: str, claim: str) -> Iterable[Obj]: ...
    def attachments_for_volume(self, pv: str) -> Iterable[Obj]: ...
    def attachments_on_node(self, node: str) -> Iterable[Obj]: ...
    def events_for(self, kind: str, namespace: str | None, name: str) -> Iterable[Obj]: ...


def object_key(kind: str, obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    if not isinstance(meta, dict):  # unreadable: filed under no name rather than crashing
        return "", ""
    namespace = "" if kind in CLUSTER_SCOPED else (meta.get("namespace") or "")
    return namespace, meta.get("name") or ""


def claim_names(pod: Obj) -> list[str]:
    """Names of the PVCs a pod's volumes reference (in the pod's namespace), generic ephemeral included."""
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        claim = volume.get("persistentVolumeClaim")
        if claim and claim.get("claimName"):
            names.append(claim["claimName"])
        elif "ephemeral" in volume:  # generic ephemeral volume: the PVC is named <pod>-<volume>
            names.append(f"{(pod.get('metadata') or {}).get('name', '')}-{volume.get('name', '')}")
    return names


def _index_keys(kind: str, obj: Obj) -> list[tuple[str, Any]]:
    """The (index name, index value) pairs one object is filed under (none when unreadable)."""
    try:
        return _index_keys_of(kind, obj)
    except (AttributeError, TypeError):
        return []


def _index_keys_of(kind: str, obj: Obj) -> list[tuple[str, Any]]:
    spec = obj.get("spec") or {}
    if kind == POD:
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        keys: list[tuple[str, Any]] = [("claim", (ns, c)) for c in claim_names(obj)]
        if spec.get("nodeName"):
            keys.append(("node", spec["nodeName"]))
        return keys
    if kind == PV:
        ref = spec.get("claimRef")
        return [("claim", (ref.get("namespace") or "", ref.get("name") or ""))] if ref else []
    if kind == VOLUME_ATTACHMENT:
        pv = (spec.get("source") or {}).get("persistentVolumeName")
        keys = [("pv", pv)] if pv else []
        if spec.get("nodeName"):
            keys.append(("node", spec["nodeName"]))
        return keys
    if kind == EVENT:
        inv = obj.get("involvedObject") or {}
        inv_kind = inv.get("kind") or ""
        ns = "" if inv_kind in CLUSTER_SCOPED else (inv.get("namespace") or "")
        return [("involved", (inv_kind, ns, inv.get("name") or ""))]
    return []


class DictSource:
    """An in-memory ObjectSource over plain dicts, with the indexes kept up to date on apply()."""

    def __init__(self, objects: Iterable[tuple[str, Obj]] = ()) -> None:
        self._by_kind: dict[str, dict[Key, Obj]] = {kind: {} for kind in KINDS}
        # (kind, index name) -> index value -> {object key: obj}
        self._index: dict[tuple[str, str], defaultdict[Any, dict[Key, Obj]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for kind, obj in objects:
            self.put(kind, obj)

    # --- mutation ------------------------------------------------------------------------
    def put(self, kind: str, obj: Obj) -> None:
        key = object_key(kind, obj)
        old = self._by_kind.setdefault(kind, {}).get(key)
        if old is not None:
            self._unindex(kind, key, old)
        self._by_kind[kind][key] = obj
        for name, value in _index_keys(kind, obj):
            self._index[(kind, name)][value][key] = obj

    def remove(self, kind: str, obj: Obj) -> None:
        key = object_key(kind, obj)
        old = self._by_kind.get(kind, {}).pop(key, None)
        if old is not None:
            self._unindex(kind, key, old)

    def apply(self, changes: Iterable[Change]) -> None:
        for change in changes:
            if change.type is ChangeType.DELETED:
                self.remove(change.kind, change.obj)
            else:
                self.put(change.kind, change.obj)

    def _unindex(self, kind: str, key: Key, obj: Obj) -> None:
        for name, value in _index_keys(kind, obj):
            bucket = self._index[(kind, name)].get(value)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self._index[(kind, name)][value]

    # --- ObjectSource --------------------------------------------------------------------
    def objects(self, kind: str) -> Iterable[Obj]:
        return self._by_kind.get(kind, {}).values()

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._by_kind.get(kind, {}).get((namespace or "", name))

    def _lookup(self, kind: str, index: str, value: Any) -> Iterable[Obj]:
        bucket = self._index.get((kind, index), {}).get(value)
        return list(bucket.values()) if bucket else ()

    def pods_on_node(self, node: str) -> Iterable[Obj]:
        return self._lookup(POD, "node", node)

    def pods_using_claim(self, namespace: str, claim: str) -> Iterable[Obj]:
        return self._lookup(POD, "claim", (namespace, claim))

    def volumes_for_claim(self, namespace: str, claim: str) -> Iterable[Obj]:
        return self._lookup(PV, "claim", (namespace, claim))

    def attachments_for_volume(self, pv: str) -> Iterable[Obj]:
        return self._lookup(VOLUME_ATTACHMENT, "pv", pv)

    def attachments_on_node(self, node: str) -> Iterable[Obj]:
        return self._lookup(VOLUME_ATTACHMENT, "node", node)

    def events_for(self, kind: str, namespace: str | None, name: str) -> Iterable[Obj]:
        return self._lookup(EVENT, "involved", (kind, namespace or "", name))

    def __len__(self) -> int:
        return sum(len(objs) for objs in self._by_kind.values())
