"""Events screen: storage-related events, newest first, with counts."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

from kstor.kube.kinds import STORAGE_EVENT_REASONS
from kstor.tui.rows import Age, ObjRef, Row, parse_time
from kstor.tui.views.common import BAD, DIM, columns, meta, title_row, widths

# Events about these kinds are storage events; about pods and nodes only when the reason is (pods and
# nodes have plenty of events (image pulls, container starts) that say nothing about volumes).
STORAGE_KINDS = {"PersistentVolumeClaim", "PersistentVolume", "VolumeAttachment", "StorageClass", "CSIDriver"}
TITLES = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")


def event_time(ev: dict[str, Any]) -> float:
    for value in (
        ev.get("lastTimestamp"),
        ev.get("eventTime"),
        ev.get("firstTimestamp"),
        meta(ev).get("creationTimestamp"),
    ):
        t = parse_time(value)
        if t is not None:
            return t
    return 0.0


def is_storage_event(ev: dict[str, Any]) -> bool:
    return (ev.get("involvedObject") or {}).get("kind") in STORAGE_KINDS or ev.get(
        "reason"
    ) in STORAGE_EVENT_REASONS


def sorted_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Storage events, newest first."""
    return sorted((e for e in events if is_storage_event(e)), key=event_time, reverse=True)


def events_by_uid(events: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Events per involved object uid (also keyed `Kind/ns/name` for objects without a uid), in the
    order given (callers pass them newest first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        inv = ev.get("involvedObject") or {}
        for key in (inv.get("uid"), f"{inv.get('kind')}/{inv.get('namespace') or ''}/{inv.get('name')}"):
            if key:
                out.setdefault(key, []).append(ev)
    return out


def object_label(ev: dict[str, Any]) -> str:
    inv = ev.get("involvedObject") or {}
    ns = f"{inv['namespace']}/" if inv.get("namespace") else ""
    return f"{(inv.get('kind') or '?').lower()}/{ns}{inv.get('name', '?')}"


def event_rows(events: list[dict[str, Any]]) -> list[Row]:
    """`events` already newest first (see sorted_events)."""
    cells = [
        (
            ev.get("type") or "",
            ev.get("reason") or "",
            object_label(ev),
            str(ev.get("count") or 1),
            " ".join((ev.get("message") or "").split()),
        )
        for ev in events
    ]
    # LAST SEEN is an Age column of fixed width; the others fit their longest cell.
    ws = [9, *widths(cells, caps=(7, 24, 60, 6, 300), minimum=(4, 6, 6, 5, 7))]
    rows = [title_row("events/title", TITLES, ws, group="events")]
    for ev, (typ, reason, obj, count, msg) in zip(events, cells, strict=True):
        inv = ev.get("involvedObject") or {}
        style = BAD if typ == "Warning" else ""
        segs = columns(
            [
                Age(event_time(ev) or None),
                (typ, style or DIM),
                (reason, style or "bold"),
                (obj, ""),
                (count, ""),
                (msg, ""),
            ],
            ws,
        )
        rows.append(
            Row(
                key=f"event/{meta(ev).get('namespace')}/{meta(ev).get('name')}",
                segments=segs,
                ref=ObjRef(inv.get("kind", ""), inv.get("name", ""), inv.get("namespace")),
                obj=ev,
                namespace=meta(ev).get("namespace"),
                search=f"{typ} {reason} {obj} {msg}".lower(),
                group="events",
            )
        )
    return rows


# Fixed widths on big clusters so rows can be cached by event identity across frames.
FIXED_WIDTHS = [9, 7, 22, 48, 5, 300]


def event_row(ev: dict[str, Any], *, ws: list[int], when: float) -> Row:
    inv = ev.get("involvedObject") or {}
    typ, reason, obj = ev.get("type") or "", ev.get("reason") or "", object_label(ev)
    msg = " ".join((ev.get("message") or "").split())
    style = BAD if typ == "Warning" else ""
    segs = columns(
        [
            Age(when or None),
            (typ, style or DIM),
            (reason, style or "bold"),
            (obj, ""),
            (str(ev.get("count") or 1), ""),
            (msg, ""),
        ],
        ws,
    )
    return Row(
        key=f"event/{meta(ev).get('namespace')}/{meta(ev).get('name')}",
        segments=segs,
        ref=ObjRef(inv.get("kind", ""), inv.get("name", ""), inv.get("namespace")),
        obj=ev,
        namespace=meta(ev).get("namespace"),
        search=f"{typ} {reason} {obj} {msg}".lower(),
        group="events",
    )


class EventsView:
    """The newest events and their rows, with parse results and rows cached by event identity (the
    Store replaces an Event object when its count goes up), so a 1,000 events/s stream costs the new ones."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: dict[int, tuple[dict[str, Any], float]] = {}
        self._rows: dict[int, tuple[dict[str, Any], Row]] = {}

    def time_of(self, ev: dict[str, Any]) -> float:
        hit = self._times.get(id(ev))
        if hit is not None and hit[0] is ev:
            return hit[1]
        t = event_time(ev)
        self._times[id(ev)] = (ev, t)
        return t

    def newest(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The `limit` newest events, newest first (and forget the parse cache of the rest)."""
        all_events = list(events)
        newest = heapq.nlargest(self.limit, all_events, key=self.time_of)
        if len(self._times) > 2 * len(all_events) + 1000:
            keep = {id(e) for e in all_events}
            self._times = {k: v for k, v in self._times.items() if k in keep}
        return newest

    def rows(self, newest: list[dict[str, Any]]) -> list[Row]:
        storage = [e for e in newest if is_storage_event(e)]
        if len(storage) <= 200:  # small lists: columns fit the data
            return event_rows(storage)
        out = [title_row("events/title", TITLES, FIXED_WIDTHS, group="events")]
        cache: dict[int, tuple[dict[str, Any], Row]] = {}
        for ev in storage:
            hit = self._rows.get(id(ev))
            row = (
                hit[1]
                if hit is not None and hit[0] is ev
                else event_row(ev, ws=FIXED_WIDTHS, when=self.time_of(ev))
            )
            cache[id(ev)] = (ev, row)
            out.append(row)
        self._rows = cache
        return out
