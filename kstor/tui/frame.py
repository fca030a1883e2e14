"""A frame: everything one repaint of the dashboard needs, built off the UI loop and never mutated.

The feed (live cluster or frozen fixture) turns the Store + the model's Topology into a Frame; the
widgets only ever see frames, never the Store. Frames are incremental: a screen is rebuilt only when
one of its inputs changed, and then only the rows of what changed are (per-node sections, the newest
events window, FittedTable for Binding and Attachments); tests/tui/test_incremental.py checks that the
result equals a frame built from scratch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kstor.model.snapshot import Topology
from kstor.model.source import ObjectSource, object_key
from kstor.model.types import (
    EVENT,
    KINDS,
    NODE,
    POD,
    PV,
    PVC,
    STORAGE_CLASS,
    VOLUME_ATTACHMENT,
    Change,
    ChangeType,
    Finding,
    Severity,
)
from kstor.tui.findings import FindingsCache
from kstor.tui.rows import Row
from kstor.tui.views.attachments import AttachmentsView
from kstor.tui.views.binding import ChainView, storage_class_rows
from kstor.tui.views.events import EventIndex, EventsView
from kstor.tui.views.nodes import NodesView, healthy_use

SCREENS = ("nodes", "binding", "attachments", "events")
MAX_EVENTS = 2000  # newest events kept for the Events screen and the detail pane
Key = tuple[str, str]
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Health:
    """An informer's state as kstor.kube reports it: syncing, synced, reconnecting, forbidden, unavailable."""

    state: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class ClusterLabel:
    context: str
    server: str = ""
    is_sim: bool = False


@dataclass(frozen=True)
class Frame:
    version: int
    now: float  # epoch seconds on the cluster's clock (ages are relative to this)
    cluster: ClusterLabel
    health: Mapping[str, Health]
    screens: Mapping[str, list[Row]]
    topology: Topology | None
    objects: Mapping[str, Mapping[Key, dict[str, Any]]]
    events: Mapping[str, list[dict[str, Any]]]  # by involved uid and by "Kind/ns/name", newest first
    findings: Sequence[Finding] = ()  # a tuple, or kstor.tui.findings.Findings (counted without building)
    event_rate: tuple[float, ...] = ()  # watch events per second, oldest first
    unhealthy: int = 0  # volume uses not healthy right now
    banner: str = ""  # e.g. "API server unreachable — showing the last state"
    namespaces: tuple[str, ...] = field(default=())

    def rows(self, screen: str) -> list[Row]:
        return self.screens.get(screen, [])

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get((namespace or "", name))

    def events_for(
        self, kind: str, namespace: str | None, name: str, *, uid: str | None = None
    ) -> list[dict]:
        if uid and uid in self.events:
            return self.events[uid]
        return self.events.get(f"{kind}/{namespace or ''}/{name}", [])

    @property
    def errors(self) -> int:
        counted = getattr(self.findings, "errors", None)
        if isinstance(counted, int):
            return counted
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)


class FrameBuilder:
    """Keeps the last frame's parts and rebuilds only those whose inputs changed.

    Each screen is a function of a few inputs that are replaced, never mutated, when they change (the
    model's CowMaps, this builder's per-kind object maps, the newest-events list), so a screen is rebuilt
    exactly when one of its inputs is a different object. With the Store's changes at hand the object
    maps and the newest events are patched rather than re-read.
    """

    def __init__(self, cluster: ClusterLabel, *, max_events: int = MAX_EVENTS) -> None:
        self.cluster = cluster
        self._version = 0
        self._nodes = NodesView()
        self._screens: dict[str, list[Row]] = {}
        self._inputs: dict[str, tuple[Any, ...]] = {}
        self._objects: dict[str, Mapping[Key, dict[str, Any]]] = {}
        self._events: Mapping[str, list[dict[str, Any]]] = {}
        self._findings: Sequence[Finding] = ()
        self._findings_cache = FindingsCache()
        self._chain = ChainView()
        self._attachments = AttachmentsView()
        self._events_view = EventsView(max_events)
        self._unhealthy: dict[tuple[str, str], tuple[Any, int]] = {}
        self._unhealthy_of: Any = None
        self._unhealthy_total = 0
        self._by_kind: dict[str, list[Change]] | None = None  # this build's changes, when patching
        self._chain_claims: Any = _UNSET  # the model's claims the Binding chain was last built with
        self._namespaces: tuple[str, ...] = ()
        self._newest_events: list[dict[str, Any]] = []
        self._node_part: tuple[Any, list[Row]] = (None, [])
        self._unplaced_part: tuple[Any, list[Row]] = (None, [])

    def build(
        self,
        source: ObjectSource,
        topology: Topology | None,
        *,
        now: datetime,
        changed: Iterable[str] | None = None,
        changes: Iterable[Change] | None = None,
        health: Mapping[str, Health] | None = None,
        event_rate: tuple[float, ...] = (),
        banner: str = "",
        screens: Collection[str] | None = None,
    ) -> Frame:
        """`changed`: kinds touched since the last build (None = everything). `changes`: the Store's
        changes behind `changed`, in the order applied (optional; the source already holds them).
        `screens`: build only these (None = all); a screen left out is absent from the frame until a
        build names it, and is then built in full."""
        kinds = set(KINDS if changed is None else changed)
        by_kind: dict[str, list[Change]] | None = None
        if changed is not None and changes is not None:
            by_kind = {}
            for change in changes:
                by_kind.setdefault(change.kind, []).append(change)
        for kind in kinds - {EVENT}:
            old = self._objects.get(kind)
            if by_kind is not None and old is not None:
                if kind in by_kind:
                    self._objects[kind] = patched(kind, old, by_kind[kind])
            else:
                self._objects[kind] = {object_key(kind, o): o for o in source.objects(kind)}
                by_kind = None  # re-read: the changes do not say everything that differs
        self._by_kind = by_kind
        if EVENT in kinds:
            # Only the newest events are shown and indexed: a busy cluster keeps tens of thousands.
            newest = None
            if by_kind is not None:
                newest = self._events_view.update(by_kind.get(EVENT, ()))
            if newest is None:
                newest = self._events_view.newest(source.objects(EVENT))
            if newest is not self._newest_events or not self._events:
                self._newest_events = newest
                self._events = EventIndex(newest)
        if kinds & {POD, PVC}:
            self._namespaces = namespaces(self._objects)
        for screen in SCREENS:
            if screens is not None and screen not in screens:
                # Its incremental state would miss this build's changes: rebuild it when it is wanted.
                self._inputs.pop(screen, None)
                self._screens.pop(screen, None)
                if screen == "binding":
                    self._chain_claims = _UNSET
                continue
            old_inputs = self._inputs.get(screen)
            inputs = self._screen_inputs(screen, topology)
            if old_inputs is None or any(a is not b for a, b in zip(old_inputs, inputs, strict=True)):
                self._screens[screen] = self._screen(screen, topology)
                self._inputs[screen] = inputs
        if topology is not None:  # they depend on time too: a claim Pending for over a minute
            self._findings = self._findings_cache.findings(topology, now=now)
        self._version += 1
        return Frame(
            version=self._version,
            now=now.timestamp(),
            cluster=self.cluster,
            health=dict(health or {}),
            screens=dict(self._screens),
            topology=topology,
            objects=dict(self._objects),
            events=self._events,
            findings=self._findings,
            event_rate=event_rate,
            unhealthy=self._count_unhealthy(topology),
            banner=banner,
            namespaces=self._namespaces,
        )

    def _screen_inputs(self, screen: str, topology: Topology | None) -> tuple[Any, ...]:
        """What a screen's rows are a function of; compared by identity between frames."""
        objs = self._objects
        if screen == "nodes":
            if topology is None:
                return (None, None)
            return (topology.nodes, topology.unplaced_refs)
        if screen == "binding":
            # WHY a claim is not Bound comes from the model's claim rows
            return (objs.get(STORAGE_CLASS), objs.get(PVC), objs.get(PV), topology and topology.claims)
        if screen == "attachments":
            return (objs.get(VOLUME_ATTACHMENT), objs.get(NODE))
        return (self._newest_events,)

    def _screen(self, screen: str, topology: Topology | None) -> list[Row]:
        objs = self._objects
        if screen == "nodes":
            if topology is None:
                return []
            nodes, unplaced = self._node_part, self._unplaced_part
            if nodes[0] is not topology.nodes:
                nodes = self._node_part = (topology.nodes, self._nodes.node_rows(topology.node_rows))
            if unplaced[0] is not topology.unplaced_refs:
                un = topology.unplaced
                items = (*un.pods, *un.pending_claims, *un.unused_claims, *un.free_volumes)
                unplaced = self._unplaced_part = (topology.unplaced_refs, self._nodes.unplaced_rows(items))
            return [*nodes[1], *unplaced[1]]
        if screen == "binding":
            return [*storage_class_rows(objs.get(STORAGE_CLASS, {}).values()), *self._chain_rows(topology)]
        if screen == "attachments":
            return self._attachments.rows(objs.get(VOLUME_ATTACHMENT, {}), objs.get(NODE, {}))
        return self._events_view.rows(self._newest_events)

    def _chain_rows(self, topology: Topology | None) -> list[Row]:
        """The Binding chain: patched for the claims and volumes that changed (object or WHY) when this
        build has the changes, else rebuilt."""
        objs, by_kind = self._objects, self._by_kind
        claims, volumes = objs.get(PVC, {}), objs.get(PV, {}).values()
        rows_now = topology.claims if topology is not None else None

        def why(pvc: dict[str, Any]) -> str:
            return why_pending(topology, pvc)

        if by_kind is None or self._chain_claims is _UNSET or rows_now is None or self._chain_claims is None:
            chain = self._chain.rows(claims.values(), volumes, why=why)
        else:
            keys = {object_key(PVC, c.obj) for c in by_kind.get(PVC, ())}
            keys |= changed_keys(self._chain_claims, rows_now)
            names = {object_key(PV, c.obj)[1] for c in by_kind.get(PV, ())}
            chain = self._chain.update(claims, volumes, why=why, claim_keys=keys, volume_names=names)
        self._chain_claims = rows_now
        return chain

    def _count_unhealthy(self, topology: Topology | None) -> int:
        """Volume uses not healthy, counted per pod row and reused while the row is the same object."""
        if topology is None:
            return 0
        if topology.pods is self._unhealthy_of:
            return self._unhealthy_total  # the model hands back the same mapping when no pod changed
        cache: dict[tuple[str, str], tuple[Any, int]] = {}
        total = 0
        for key, pod in topology.pods.items():
            hit = self._unhealthy.get(key)
            n = (
                hit[1]
                if hit is not None and hit[0] is pod
                else sum(1 for u in pod.volumes if not healthy_use(u))
            )
            cache[key] = (pod, n)
            total += n
        self._unhealthy, self._unhealthy_of, self._unhealthy_total = cache, topology.pods, total
        return total


def patched(kind: str, old: Mapping[Key, dict[str, Any]], changes: list[Change]) -> dict[Key, dict[str, Any]]:
    """A copy of one kind's objects with a batch of its changes applied in order (frames keep the old)."""
    new = dict(old)
    for change in changes:
        key = object_key(kind, change.obj)
        if change.type == ChangeType.DELETED:
            new.pop(key, None)
        else:
            new[key] = change.obj
    return new


def why_pending(topology: Topology | None, pvc: dict[str, Any]) -> str:
    """The model's explanation for a claim that is not Bound."""
    if topology is None:
        return ""
    meta = pvc.get("metadata") or {}
    row = topology.claims.get((meta.get("namespace") or "", meta.get("name") or ""))
    if row is None:
        return ""
    b = row.binding
    reason = f"{b.reason.value}: " if b.reason else ""
    held = f" (held by {', '.join(b.held_by)})" if b.held_by else ""
    return " ".join(f"{reason}{b.message}{held}".split())


def changed_keys(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> set[Any]:
    """Keys whose value is not the same object in both (added and removed ones included)."""
    if old is new:
        return set()
    out, found = set(), 0
    for key, value in new.items():
        was = old.get(key, _UNSET)
        if was is _UNSET:
            out.add(key)
        else:
            found += 1
            if was is not value:
                out.add(key)
    if found < len(old):
        out.update(key for key in old if key not in new)
    return out


def namespaces(objects: Mapping[str, Mapping[Key, dict[str, Any]]]) -> tuple[str, ...]:
    names = {ns for kind in (POD, PVC) for ns, _ in objects.get(kind, {})}
    return tuple(sorted(n for n in names if n))


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
