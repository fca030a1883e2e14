"""TopologyBuilder: keeps the current snapshot and updates it from change batches.

The cost of `apply()` follows what the changes touch. A change marks objects dirty; dirtiness
spreads only along real dependencies, in one fixed order (rows only depend on rows built before
them):

    classes, drivers -> PV rows -> claim rows -> VA rows -> pod rows -> node rows -> per-object
    findings / steady problems / "on no node" membership

A pod row embeds its claim and PV rows, so a claim or PV row that *changed* (compared by value)
re-dirties the pods using it; an unchanged row stops the spread. Unchanged rows are kept as the
same objects. `build()` is the same pipeline with everything dirty, which is what the property
test compares `apply()` against.

The source is read, never written: callers apply a batch to their store first, then hand the same
batch to `apply()` (DELETED changes carry the last known object).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kstor.model import findings as fnd
from kstor.model import rows
from kstor.model.cowmap import CowMap
from kstor.model.fields import spec, status
from kstor.model.snapshot import MAP_NAMES, ClaimKey, PodKey, Topology
from kstor.model.source import ObjectSource, object_key
from kstor.model.steady import claim_problems, pod_problems
from kstor.model.types import (
    CSI_DRIVER,
    EVENT,
    NODE,
    POD,
    PV,
    PVC,
    STORAGE_CLASS,
    VOLUME_ATTACHMENT,
    BindingPhase,
    Change,
    ClaimRow,
    NodeRow,
    ObjRef,
    PodRow,
    VolumeRow,
)


@dataclass
class _Dirty:
    classes: set[str] = field(default_factory=set)
    drivers: set[str] = field(default_factory=set)
    raw_pods: set[PodKey] = field(default_factory=set)  # pod objects that changed (relations too)
    pods: set[PodKey] = field(default_factory=set)  # pod rows to rebuild
    claims: set[ClaimKey] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)
    raw_nodes: set[str] = field(default_factory=set)
    attachments: set[str] = field(default_factory=set)
    subjects: set[ObjRef] = field(default_factory=set)
    # node -> (pod key, old row, new row) for pod rows that changed in place on the same node
    swapped: dict[str, list[tuple[PodKey, PodRow, PodRow]]] = field(default_factory=dict)
    inserted: dict[str, list[tuple[PodKey, PodRow]]] = field(default_factory=dict)  # new pods' rows


class TopologyBuilder:
    """Holds the current Topology of one ObjectSource. Not thread-safe; one writer."""

    def __init__(self, source: ObjectSource) -> None:
        self._source = source
        self._generation = 0
        self._reset()

    def _reset(self) -> None:
        self._full = False  # build(): every object is dirty, so dependency spreading is skipped
        # Working rows live in plain dicts (fast to read); snapshots are sharded copy-on-write maps
        # updated with just the keys a batch touched, so they share every shard it left alone.
        self._maps: dict[str, dict[Any, Any]] = {name: {} for name in MAP_NAMES}
        self._snaps: dict[str, CowMap[Any, Any]] = {name: CowMap() for name in MAP_NAMES}
        self._touched: dict[str, set[Any]] = {name: set() for name in MAP_NAMES}
        self._copied: set[str] = set()
        self._malformed: dict[ObjRef, str] = {}
        self._pod_node: dict[PodKey, str] = {}
        self._pod_claims: dict[PodKey, tuple[str, ...]] = {}
        self._claim_users: dict[ClaimKey, set[PodKey]] = defaultdict(set)
        self._node_pods: dict[str, set[PodKey]] = defaultdict(set)  # "" holds the unscheduled pods
        # the pods of each node in (namespace, name) order, as NodeRow.pods lists them; nodes whose
        # list got appended to since its last sort are in _unsorted (sorted when next read)
        self._node_order: dict[str, list[PodKey]] = {}
        self._unsorted: set[str] = set()
        self._class_claims: dict[str, set[ClaimKey]] = defaultdict(set)
        self._driver_volumes: dict[str, set[str]] = defaultdict(set)
        self._volume_claims: dict[str, set[ClaimKey]] = defaultdict(set)  # pv name -> claims naming it
        self._snapshot = self._freeze()

    @property
    def snapshot(self) -> Topology:
        return self._snapshot

    # --- entry points ----------------------------------------------------------------------
    def build(self) -> Topology:
        """Rebuild everything from the source."""
        self._reset()
        src = self._source
        dirty = _Dirty(
            classes={object_key(STORAGE_CLASS, o)[1] for o in src.objects(STORAGE_CLASS)},
            drivers={object_key(CSI_DRIVER, o)[1] for o in src.objects(CSI_DRIVER)},
            raw_pods={object_key(POD, o) for o in src.objects(POD)},
            claims={object_key(PVC, o) for o in src.objects(PVC)},
            volumes={object_key(PV, o)[1] for o in src.objects(PV)},
            raw_nodes={object_key(NODE, o)[1] for o in src.objects(NODE)},
            attachments={object_key(VOLUME_ATTACHMENT, o)[1] for o in src.objects(VOLUME_ATTACHMENT)},
        )
        self._full = True
        try:
            return self._run(dirty)
        finally:
            self._full = False

    def apply(self, changes: Iterable[Change]) -> Topology:
        """Update from a batch the source has already applied; returns the new snapshot."""
        dirty = _Dirty()
        for change in changes:
            self._mark(change, dirty)
        return self._run(dirty)

    def _mark(self, change: Change, dirty: _Dirty) -> None:
        kind, (ns, name) = change.kind, object_key(change.kind, change.obj)
        if kind == POD:
            dirty.raw_pods.add((ns, name))
        elif kind == PVC:
            dirty.claims.add((ns, name))
        elif kind == PV:
            dirty.volumes.add(name)
        elif kind == NODE:
            dirty.raw_nodes.add(name)
        elif kind == VOLUME_ATTACHMENT:
            dirty.attachments.add(name)
        elif kind == STORAGE_CLASS:
            dirty.classes.add(name)
        elif kind == CSI_DRIVER:
            dirty.drivers.add(name)
        elif kind == EVENT:
            involved = change.obj.get("involvedObject") or {}
            if involved.get("kind") == POD:
                dirty.pods.add((involved.get("namespace") or "", involved.get("name") or ""))
            elif involved.get("kind") == PVC:
                dirty.claims.add((involved.get("namespace") or "", involved.get("name") or ""))

    # --- the pipeline ----------------------------------------------------------------------
    def _run(self, dirty: _Dirty) -> Topology:
        self._copied: set[str] = set()
        self._update_classes_and_drivers(dirty)
        self._update_pod_relations(dirty)
        self._update_node_objects(dirty)
        self._spread_claims_volumes(dirty)
        self._update_volumes(dirty)
        self._update_claims(dirty)
        self._update_attachments(dirty)
        self._update_pods(dirty)
        self._update_nodes(dirty)
        if self._full:
            dirty.subjects = self._all_refs()
        self._update_subjects(dirty)
        if self._copied:
            self._generation += 1
            self._snapshot = self._freeze()
        return self._snapshot

    def _guarded(
        self, ref: ObjRef, dirty: _Dirty, build: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> _T | None:
        """Build one row; an object whose shape the model cannot read becomes a finding, not a crash
        (it is left out, as if absent)."""
        try:
            row = build(*args, **kwargs)
        except _BAD_INPUT as exc:
            message = f"{ref} cannot be read ({type(exc).__name__}: {exc}); left out of the topology"
            if self._malformed.get(ref) != message:
                self._malformed[ref] = message
                dirty.subjects.add(ref)
            return None
        if self._malformed and self._malformed.pop(ref, None) is not None:
            dirty.subjects.add(ref)
        return row

    def _w(self, name: str, key: Any) -> dict[Any, Any]:
        """The working map `name`, noting that `key` changes in the next snapshot."""
        self._copied.add(name)
        self._touched[name].add(key)
        return self._maps[name]

    def _set(self, name: str, key: Any, value: Any) -> bool:
        """Store a row (or drop it when value is None); True when it changed."""
        old = self._maps[name].get(key)
        if value is None:
            if old is None:
                return False
            del self._w(name, key)[key]
            return True
        if old == value:
            return False
        self._w(name, key)[key] = value
        return True

    def _update_classes_and_drivers(self, dirty: _Dirty) -> None:
        for name in dirty.classes:
            obj = self._source.get(STORAGE_CLASS, None, name)
            info = (
                self._guarded(ObjRef(STORAGE_CLASS, "", name), dirty, rows.class_info, obj) if obj else None
            )
            if self._set("classes", name, info):
                dirty.claims |= self._class_claims.get(name, set())
        for name in dirty.drivers:
            obj = self._source.get(CSI_DRIVER, None, name)
            info = self._guarded(ObjRef(CSI_DRIVER, "", name), dirty, rows.driver_info, obj) if obj else None
            if self._set("drivers", name, info):
                # the pods' attach evidence names the CSIDriver object even when the PV row stays equal
                for volume in self._driver_volumes.get(name, ()):
                    dirty.volumes.add(volume)
                    for claim_key in self._volume_claims.get(volume, ()):
                        dirty.pods |= self._claim_users.get(claim_key, set())

    def _update_pod_relations(self, dirty: _Dirty) -> None:
        """Who uses which claim and which pods sit on which node, from the raw pods that changed."""
        for key in dirty.raw_pods:
            dirty.pods.add(key)
            existed = key in self._pod_node
            old_node, old_claims = self._pod_node.get(key, ""), self._pod_claims.get(key, ())
            pod = self._source.get(POD, key[0], key[1])
            node, claims = _pod_relations(pod) if pod else ("", ())
            moved = pod is None or not existed or node != old_node or claims != old_claims
            if moved:
                self._move_pod(key, old=(old_node, old_claims) if existed else None,
                               new=(node, claims) if pod is not None else None)
            touched = {(key[0], c) for c in (*old_claims, *claims)}
            # claim and PV rows see pods only as "who uses me, with a node" (protection holders,
            # the "on no node" section): a status-only pod change leaves them alone
            if set(old_claims) != set(claims) or bool(old_node) != bool(node):
                for claim_key in touched:
                    users = self._claim_users.get(claim_key)
                    self._set("claim_users", claim_key, frozenset(users) if users else None)
                dirty.claims |= touched
            nodes = {n for n in (old_node, node) if n}
            # otherwise the node rows follow the pod row, if that changes (_update_pods); a new pod
            # is inserted into its node's row there too
            if moved and (existed or pod is None):
                dirty.nodes |= nodes
            # whether a VolumeAttachment is orphaned depends on the pods using its PV on its node
            for claim_key in touched if nodes and not self._full else ():
                volume = self._claim_volume(claim_key)
                if volume:
                    dirty.subjects.update(
                        ObjRef(VOLUME_ATTACHMENT, "", rows.name_of(va))
                        for va in self._source.attachments_for_volume(volume)
                        if spec(va).get("nodeName") in nodes
                    )

    def _move_pod(
        self, key: PodKey, *, old: tuple[str, tuple[str, ...]] | None, new: tuple[str, tuple[str, ...]] | None
    ) -> None:
        """Re-file one pod under its node and claims (None: the pod was or is absent)."""
        if old is not None:
            del self._pod_node[key], self._pod_claims[key]
            _discard(self._node_pods, old[0], key)
            self._unorder(old[0], key)
            for claim in old[1]:
                _discard(self._claim_users, (key[0], claim), key)
        if new is not None:
            self._pod_node[key], self._pod_claims[key] = new
            self._node_pods[new[0]].add(key)
            if new[0]:
                order = self._node_order.setdefault(new[0], [])
                if self._full or new[0] in self._unsorted:
                    order.append(key)  # a full build sorts each node's list once, when it is read
                    self._unsorted.add(new[0])
                else:
                    insort(order, key)
            for claim in new[1]:
                self._claim_users[(key[0], claim)].add(key)

    def _unorder(self, node: str, key: PodKey) -> None:
        order = self._node_order.get(node)
        if order is None:
            return
        if node in self._unsorted:
            order.sort()
            self._unsorted.discard(node)
        i = bisect_left(order, key)
        if i < len(order) and order[i] == key:
            del order[i]
        if not order:
            del self._node_order[node]

    def _update_node_objects(self, dirty: _Dirty) -> None:
        """A node's volumesInUse is evidence on its pods' mounts: re-dirty them only when it changed."""
        for name in dirty.raw_nodes:
            dirty.nodes.add(name)
            obj = self._source.get(NODE, None, name)
            row = self._maps["nodes"].get(name)
            in_use = _in_use(obj) if obj else ()
            if row is None or row.exists != (obj is not None) or row.volumes_in_use != in_use:
                dirty.pods |= self._node_pods.get(name, set())
            if row is None or row.exists != (obj is not None):  # orphaned attachments: node gone/back
                dirty.subjects.update(
                    ObjRef(VOLUME_ATTACHMENT, "", rows.name_of(va))
                    for va in self._source.attachments_on_node(name)
                )

    def _spread_claims_volumes(self, dirty: _Dirty) -> None:
        """Claims and PVs name each other (claimRef, volumeName): a change on one side re-checks the other."""
        if self._full:  # everything is dirty already
            return
        claims, volumes = set(dirty.claims), set(dirty.volumes)
        for ns, name in claims:
            row = self._maps["claims"].get((ns, name))
            if row is not None and row.volume_name:
                dirty.volumes.add(row.volume_name)
            obj = self._source.get(PVC, ns, name)
            if obj and spec(obj).get("volumeName"):
                dirty.volumes.add(spec(obj)["volumeName"])
            dirty.volumes.update(rows.name_of(pv) for pv in self._source.volumes_for_claim(ns, name))
        for name in volumes:
            dirty.claims |= self._volume_claims.get(name, set())
            row = self._maps["volumes"].get(name)
            if row is not None and row.claim is not None:
                dirty.claims.add((row.claim.namespace, row.claim.name))
            ref = spec(self._source.get(PV, None, name) or {}).get("claimRef")
            if ref:
                dirty.claims.add((ref.get("namespace") or "", ref.get("name") or ""))

    def _holders(self, claim_key: ClaimKey) -> tuple[str, ...]:
        users = self._claim_users.get(claim_key, ())
        return tuple(f"pod/{ns}/{name}" for ns, name in sorted(users) if self._pod_node.get((ns, name)))

    def _update_volumes(self, dirty: _Dirty) -> None:
        for name in dirty.volumes:
            old = self._maps["volumes"].get(name)
            pv = self._source.get(PV, None, name)
            new = None
            if pv is not None:
                new = self._guarded(ObjRef(PV, "", name), dirty, self._volume_row, pv)
            if not self._set("volumes", name, new):
                continue
            if old is not None:
                _discard(self._driver_volumes, old.driver, name)
            if new is not None:
                self._driver_volumes[new.driver].add(name)
            if self._full:
                continue
            dirty.subjects.add(ObjRef(PV, "", name))
            dirty.subjects.update(
                ObjRef(VOLUME_ATTACHMENT, "", rows.name_of(va))
                for va in self._source.attachments_for_volume(name)
            )
            for claim_key in self._volume_claims.get(name, ()):
                dirty.pods |= self._claim_users.get(claim_key, set())

    def _volume_row(self, pv: dict[str, Any]) -> VolumeRow:
        ref = spec(pv).get("claimRef") or {}
        claim_key = (ref.get("namespace") or "", ref.get("name") or "")
        claim = self._source.get(PVC, *claim_key) if ref else None
        if claim is not None and ref.get("uid") and ref["uid"] != rows.uid_of(claim):
            claim = None
        holders = self._holders(claim_key) if claim is not None else ()
        return rows.volume_row(pv, drivers=self._maps["drivers"], claim=claim, holders=holders)

    def _update_claims(self, dirty: _Dirty) -> None:
        for key in dirty.claims:
            old: ClaimRow | None = self._maps["claims"].get(key)
            pvc = self._source.get(PVC, *key)
            new = None
            if pvc:
                new = self._guarded(
                    ObjRef(PVC, *key),
                    dirty,
                    rows.claim_row,
                    pvc,
                    classes=self._maps["classes"],
                    source=self._source,
                    holders=self._holders(key),
                )
            dirty.subjects.add(ObjRef(PVC, *key))  # membership of "on no node" follows the users too
            named = {r.volume_name for r in (old, new) if r is not None and r.volume_name}
            if not self._full:
                named.update(rows.name_of(v) for v in self._source.volumes_for_claim(*key))
            for volume in named if not self._full else ():
                dirty.subjects.add(ObjRef(PV, "", volume))
                dirty.subjects.update(
                    ObjRef(VOLUME_ATTACHMENT, "", rows.name_of(va))
                    for va in self._source.attachments_for_volume(volume)
                )
            if not self._set("claims", key, new):
                continue
            if old is not None:
                _discard(self._class_claims, old.storage_class or "", key)
                _discard(self._volume_claims, old.volume_name, key)
            if new is not None:
                self._class_claims[new.storage_class or ""].add(key)
                self._volume_claims[new.volume_name].add(key)
            dirty.pods |= self._claim_users.get(key, set())

    def _update_pods(self, dirty: _Dirty) -> None:
        maps, source = self._maps, self._source
        pods, claims, volumes, drivers = maps["pods"], maps["claims"], maps["volumes"], maps["drivers"]
        for key in dirty.pods:
            old: PodRow | None = pods.get(key)
            pod = source.get(POD, *key)
            ref = ObjRef(POD, *key)
            new = None
            if pod is not None:
                node_name = self._pod_node.get(key, "")
                node = source.get(NODE, None, node_name) if node_name else None
                new = self._guarded(
                    ref,
                    dirty,
                    rows.pod_row,
                    pod,
                    claims=claims,
                    volumes=volumes,
                    drivers=drivers,
                    source=source,
                    node=node,
                )
            if self._set("pods", key, new):
                dirty.subjects.add(ref)
                if old is not None and new is not None and old.node == new.node and old.node:
                    dirty.swapped.setdefault(old.node, []).append((key, old, new))
                elif old is None and new is not None and new.node:
                    dirty.inserted.setdefault(new.node, []).append((key, new))
                else:
                    dirty.nodes.update(r.node for r in (old, new) if r is not None and r.node)

    def _update_nodes(self, dirty: _Dirty) -> None:
        pods, nodes = self._maps["pods"], self._maps["nodes"]
        for name in dirty.swapped.keys() | dirty.inserted.keys():
            swaps, inserts = dirty.swapped.get(name, []), dirty.inserted.get(name, [])
            if name not in dirty.nodes and not self._patch_pods(name, swaps, inserts, dirty):
                dirty.nodes.add(name)
        for name in dirty.nodes:
            order = self._node_order.get(name, ())
            if name in self._unsorted:
                order.sort()  # type: ignore[union-attr]
                self._unsorted.discard(name)
            old = nodes.get(name)
            node = self._source.get(NODE, None, name)
            new = None
            if node is not None or order:
                pod_rows = tuple(filter(None, map(pods.get, order)))
                if old is not None and name not in dirty.raw_nodes and old.exists == (node is not None):
                    new = rows.with_pods(old, pod_rows)  # the node object is as before: only pods moved
                else:
                    new = self._guarded(ObjRef(NODE, "", name), dirty, rows.node_row, name, node, pod_rows)
            if self._set("nodes", name, new):
                dirty.subjects.add(ObjRef(NODE, "", name))

    def _patch_pods(
        self,
        name: str,
        swaps: list[tuple[PodKey, PodRow, PodRow]],
        inserts: list[tuple[PodKey, PodRow]],
        dirty: _Dirty,
    ) -> bool:
        """Only some pods of node `name` changed (new rows, new pods): patch its pod tuple in place,
        without re-reading the node or the other pods. False when that cannot be done safely (the
        caller then rebuilds the row)."""
        old: NodeRow | None = self._maps["nodes"].get(name)
        order = self._node_order.get(name)
        if old is None or order is None or name in self._unsorted:
            return False
        if len(old.pods) + len(inserts) != len(order):
            return False  # a pod left, or one has no row: positions would not line up
        pods = list(old.pods)
        for key, row in sorted(inserts, key=lambda item: item[0]):
            pods.insert(bisect_left(order, key), row)  # ascending: everything before is in place
        for key, was, now in swaps:
            i = bisect_left(order, key)
            if i >= len(pods) or pods[i] is not was:
                return False
            pods[i] = now
        # a pod row in it changed by value, or a pod came: the node row changed too
        self._w("nodes", name)[name] = rows.with_pods(old, tuple(pods))
        dirty.subjects.add(ObjRef(NODE, "", name))
        return True

    def _update_attachments(self, dirty: _Dirty) -> None:
        for name in dirty.attachments:
            old = self._maps["attachments"].get(name)
            va = self._source.get(VOLUME_ATTACHMENT, None, name)
            new = (
                self._guarded(ObjRef(VOLUME_ATTACHMENT, "", name), dirty, rows.attachment_row, va)
                if va
                else None
            )
            if not self._set("attachments", name, new):
                continue
            dirty.subjects.add(ObjRef(VOLUME_ATTACHMENT, "", name))
            for row in (old, new) if not self._full else ():
                if row is None:
                    continue
                dirty.subjects.add(ObjRef(NODE, "", row.node))
                # every pod using the PV: its attach state reads the PV's attachments on all nodes
                # (an attachment elsewhere is what makes a Multi-Attach)
                for claim_key in self._volume_claims.get(row.pv, ()):
                    dirty.pods |= self._claim_users.get(claim_key, set())

    def _all_refs(self) -> set[ObjRef]:
        maps = self._maps
        refs = {ObjRef(POD, *k) for k in maps["pods"]} | {ObjRef(PVC, *k) for k in maps["claims"]}
        refs.update(ObjRef(PV, "", k) for k in maps["volumes"])
        refs.update(ObjRef(VOLUME_ATTACHMENT, "", k) for k in maps["attachments"])
        refs.update(ObjRef(NODE, "", k) for k in maps["nodes"])
        return refs | set(self._malformed)

    def _claim_volume(self, key: ClaimKey) -> str:
        row = self._maps["claims"].get(key)
        return row.volume_name if row is not None else ""

    def _update_subjects(self, dirty: _Dirty) -> None:
        pods = self._maps["pods"]
        for ref in dirty.subjects:
            if ref.kind == POD:  # the most frequent subject: read its row once
                self._update_pod_subject(ref, pods.get((ref.namespace, ref.name)))
                continue
            self._set("static_findings", ref, self._findings_for(ref) or None)
            self._set("problems", ref, self._problems_for(ref) or None)
            self._set("unplaced_refs", ref, self._unplaced_row(ref))
            if ref.kind == PVC:
                claim = self._maps["claims"].get((ref.namespace, ref.name))
                pending = claim is not None and claim.binding.phase is BindingPhase.PENDING
                self._set("pending_claims", ref, claim if pending else None)

    def _update_pod_subject(self, ref: ObjRef, row: PodRow | None) -> None:
        """What _update_subjects does for any object, for a pod whose row is `row`."""
        found = fnd.pod_findings(row) if row is not None else ()
        message = self._malformed.get(ref) if self._malformed else None
        if message:
            found = (fnd.malformed_finding(ref, message), *found)
        self._set("static_findings", ref, found or None)
        self._set("problems", ref, (pod_problems(row) if row is not None else ()) or None)
        self._set("unplaced_refs", ref, row if row is not None and not row.node and row.volumes else None)

    # --- per-object findings, problems, "on no node" ------------------------------------------
    def _findings_for(self, ref: ObjRef) -> tuple[fnd.Finding, ...]:
        found = self._row_findings(ref)
        message = self._malformed.get(ref)
        return (fnd.malformed_finding(ref, message), *found) if message else found

    def _row_findings(self, ref: ObjRef) -> tuple[fnd.Finding, ...]:
        maps = self._maps
        if ref.kind == PV:
            row = maps["volumes"].get(ref.name)
            return fnd.volume_findings(row) if row else ()
        if ref.kind == PVC:
            claim = maps["claims"].get((ref.namespace, ref.name))
            return fnd.claim_findings(claim) if claim else ()
        if ref.kind == POD:
            pod = maps["pods"].get((ref.namespace, ref.name))
            return fnd.pod_findings(pod) if pod else ()
        if ref.kind == NODE:
            node = maps["nodes"].get(ref.name)
            if node is None:
                return ()
            attached = [
                maps["attachments"][rows.name_of(va)]
                for va in self._source.attachments_on_node(ref.name)
                if rows.name_of(va) in maps["attachments"]
            ]
            return fnd.node_findings(node, attached)
        va = maps["attachments"].get(ref.name)
        if va is None:
            return ()
        return fnd.attachment_findings(
            va,
            pv_exists=va.pv in maps["volumes"],
            node_exists=self._source.get(NODE, None, va.node) is not None,
            users_on_node=self._users_on_node(va.pv, va.node),
        )

    def _users_on_node(self, pv: str, node: str) -> int:
        """Pods on `node`, not finished, whose claims are bound to `pv`."""
        count = 0
        for claim_key in self._volume_claims.get(pv, ()):
            for pod_key in self._claim_users.get(claim_key, ()):
                row = self._maps["pods"].get(pod_key)
                if row is not None and row.node == node and row.phase not in ("Succeeded", "Failed"):
                    count += 1
        return count

    def _problems_for(self, ref: ObjRef) -> tuple[str, ...]:
        if ref.kind == PVC:
            claim = self._maps["claims"].get((ref.namespace, ref.name))
            return claim_problems(claim) if claim else ()
        if ref.kind == POD:
            pod = self._maps["pods"].get((ref.namespace, ref.name))
            return pod_problems(pod) if pod else ()
        return ()

    def _unplaced_row(self, ref: ObjRef) -> PodRow | ClaimRow | VolumeRow | None:
        maps = self._maps
        if ref.kind == POD:
            pod = maps["pods"].get((ref.namespace, ref.name))
            return pod if pod is not None and not pod.node and pod.volumes else None
        if ref.kind == PVC:
            claim = maps["claims"].get((ref.namespace, ref.name))
            if claim is None:
                return None
            return None if claim.phase == "Bound" and self._in_use((ref.namespace, ref.name)) else claim
        if ref.kind == PV:
            volume = maps["volumes"].get(ref.name)
            if volume is None:
                return None
            claim_key = (volume.claim.namespace, volume.claim.name) if volume.claim else None
            in_use = volume.phase == "Bound" and claim_key is not None and self._in_use(claim_key)
            return None if in_use else volume
        return None

    def _in_use(self, claim_key: ClaimKey) -> bool:
        return any(self._pod_node.get(k) for k in self._claim_users.get(claim_key, ()))

    def _freeze(self) -> Topology:
        for name, keys in self._touched.items():
            if keys:
                self._snaps[name] = self._snaps[name].updated(keys, self._maps[name])
                keys.clear()
        return Topology(generation=self._generation, **self._snaps)


_BAD_INPUT = (AttributeError, TypeError, ValueError, KeyError, IndexError)
_T = TypeVar("_T")


def _pod_relations(pod: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(node name, claim names) of a pod; an unreadable pod counts as unscheduled and using nothing."""
    try:
        node = spec(pod).get("nodeName") or ""
        claims = tuple(c for v, k in rows.storage_volumes(pod) if (c := rows.claim_name_of(pod, v, k)))
    except _BAD_INPUT:
        return "", ()
    return str(node), claims


def _in_use(node: dict[str, Any]) -> tuple[str, ...]:
    try:
        return tuple(status(node).get("volumesInUse") or ())
    except _BAD_INPUT:
        return ()


def _discard(index: dict[Any, set[Any]], bucket: Any, item: Any) -> None:
    """Remove `item` from a set-valued index, dropping the bucket when it empties (no slow leak)."""
    members = index.get(bucket)
    if members is not None:
        members.discard(item)
        if not members:
            del index[bucket]




def build_topology(source: ObjectSource) -> Topology:
    """One full build (no incremental state kept)."""
    return TopologyBuilder(source).build()
