"""A frame: everything one repaint of the dashboard needs, built off the UI loop and never mutated.

The feed (live cluster or frozen fixture) turns the Store + the model's Topology into a Frame; the
widgets only ever see frames, never the Store. Per-screen rows are rebuilt only when a kind that
screen shows changed, and the Nodes screen reuses per-node rows (see views/nodes.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    Finding,
    Severity,
)
from kstor.tui.rows import Row
from kstor.tui.views.attachments import node_volume_rows, va_rows
from kstor.tui.views.binding import chain_rows, storage_class_rows
from kstor.tui.views.events import event_rows, events_by_uid, sorted_events
from kstor.tui.views.nodes import NodesView, healthy_use

SCREENS = ("nodes", "binding", "attachments", "events")
SCREEN_KINDS: dict[str, frozenset[str]] = {
    "nodes": frozenset(KINDS),
    "binding": frozenset({PV, PVC, STORAGE_CLASS, EVENT}),
    "attachments": frozenset({VOLUME_ATTACHMENT, NODE}),
    "events": frozenset({EVENT}),
}
Key = tuple[str, str]


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
    findings: tuple[Finding, ...] = ()
    event_rate: tuple[float, ...] = ()  # watch events per second, oldest first
    unhealthy: int = 0  # volume uses not healthy right now
    banner: str = ""  # e.g. "API server unreachable — showing the last state"
    namespaces: tuple[str, ...] = field(default=())

    def rows(self, screen: str) -> list[Row]:
        return self.screens.get(screen, [])

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get((namespace or "", name))

    def events_for(self, kind: str, namespace: str | None, name: str, uid: str | None = None) -> list[dict]:
        if uid and uid in self.events:
            return self.events[uid]
        return self.events.get(f"{kind}/{namespace or ''}/{name}", [])

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)


class FrameBuilder:
    """Keeps the per-screen rows of the last frame and rebuilds only the screens whose kinds changed."""

    def __init__(self, cluster: ClusterLabel) -> None:
        self.cluster = cluster
        self._version = 0
        self._nodes = NodesView()
        self._screens: dict[str, list[Row]] = {}
        self._objects: dict[str, Mapping[Key, dict[str, Any]]] = {}
        self._events: Mapping[str, list[dict[str, Any]]] = {}
        self._findings: tuple[Finding, ...] = ()
        self._findings_gen = -1

    def build(
        self,
        source: ObjectSource,
        topology: Topology | None,
        *,
        now: datetime,
        changed: Iterable[str] | None = None,
        health: Mapping[str, Health] | None = None,
        event_rate: tuple[float, ...] = (),
        banner: str = "",
    ) -> Frame:
        """`changed`: kinds touched since the last build (None = everything)."""
        kinds = set(KINDS if changed is None else changed)
        for kind in kinds:
            self._objects[kind] = {object_key(kind, o): o for o in source.objects(kind)}
        if EVENT in kinds:
            self._events = events_by_uid(self._objects.get(EVENT, {}).values())
        for screen in SCREENS:
            if screen not in self._screens or kinds & SCREEN_KINDS[screen]:
                self._screens[screen] = self._screen(screen, topology)
        if topology is not None and topology.generation != self._findings_gen:
            self._findings = topology.findings(now=now)
            self._findings_gen = topology.generation
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
            unhealthy=count_unhealthy(topology),
            banner=banner,
            namespaces=namespaces(self._objects),
        )

    def _screen(self, screen: str, topology: Topology | None) -> list[Row]:
        objs = self._objects
        if screen == "nodes":
            if topology is None:
                return []
            un = topology.unplaced
            return self._nodes.rows(
                topology.node_rows,
                pending_pods=un.pods,
                claims=un.pending_claims + un.unused_claims,
                volumes=un.free_volumes,
            )
        if screen == "binding":
            return [
                *storage_class_rows(objs.get(STORAGE_CLASS, {}).values()),
                *chain_rows(
                    objs.get(PVC, {}).values(),
                    objs.get(PV, {}).values(),
                    why=lambda pvc: why_pending(topology, pvc),
                ),
            ]
        if screen == "attachments":
            return [
                *va_rows(objs.get(VOLUME_ATTACHMENT, {}).values()),
                *node_volume_rows(objs.get(NODE, {}).values()),
            ]
        return event_rows(sorted_events(objs.get(EVENT, {}).values()))


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


def count_unhealthy(topology: Topology | None) -> int:
    if topology is None:
        return 0
    return sum(1 for pod in topology.pods.values() for use in pod.volumes if not healthy_use(use))


def namespaces(objects: Mapping[str, Mapping[Key, dict[str, Any]]]) -> tuple[str, ...]:
    names = {ns for kind in (POD, PVC) for ns, _ in objects.get(kind, {})}
    return tuple(sorted(n for n in names if n))


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
