"""Events screen: storage-related events, newest first, with counts."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
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
    rows.extend(event_row(ev, ws=ws, when=event_time(ev)) for ev in events)
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


SortKey = tuple[float, int, str, str]


def newest_key(ev: dict[str, Any], when: float) -> SortKey:
    """Newest first means the largest (time, resourceVersion, namespace, name): a total order that depends
    only on the event, so a window kept up to date change by change equals a fresh sort of the store."""
    m = meta(ev)
    rv = m.get("resourceVersion") or ""
    return (when, int(rv) if rv.isdigit() else 0, m.get("namespace") or "", m.get("name") or "")


class EventsView:
    """The newest events and their rows, with parse results and rows cached by event identity (the
    Store replaces an Event object when its count goes up), so a 1,000 events/s stream costs the new ones.

    `newest()` sorts the whole store; `update()` patches the last window with a batch of changes and only
    asks for a full sort when an event in the window was deleted or fell out of it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: dict[int, tuple[dict[str, Any], float]] = {}
        self._rows: dict[int, tuple[dict[str, Any], Row | None]] = {}  # None: not a storage event
        self._window: dict[tuple[str, str], tuple[SortKey, dict[str, Any]]] = {}
        self._valid = False
        self._floor: SortKey | None = None  # the oldest key in a full window
        self._newest: list[dict[str, Any]] = []

    def time_of(self, ev: dict[str, Any]) -> float:
        hit = self._times.get(id(ev))
        if hit is not None and hit[0] is ev:
            return hit[1]
        t = event_time(ev)
        self._times[id(ev)] = (ev, t)
        return t

    def key_of(self, ev: dict[str, Any]) -> SortKey:
        return newest_key(ev, self.time_of(ev))

    def newest(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The `limit` newest events, newest first (and forget the parse cache of the rest)."""
        all_events = list(events)
        keyed = heapq.nlargest(self.limit, ((self.key_of(e), e) for e in all_events), key=_first)
        if len(self._times) > 2 * len(all_events) + 1000:
            keep = {id(e) for e in all_events}
            self._times = {k: v for k, v in self._times.items() if k in keep}
        self._window = {_obj_key(ev): (key, ev) for key, ev in keyed}
        self._valid = True
        self._floor = keyed[-1][0] if len(keyed) >= self.limit else None
        self._newest = [ev for _, ev in keyed]
        return self._newest

    def update(self, changes: Iterable[Any]) -> list[dict[str, Any]] | None:
        """Apply a batch of Event changes (kstor.model Changes, in order) to the last window; returns the
        new newest-first list (the same list when nothing in the window moved), or None when only a full
        `newest()` over the store can tell.

        The window holds every event whose key is at least its floor (its oldest key; no floor while it
        holds fewer than `limit`, i.e. every event). Newer events join; the extra ones are cut at the end.
        """
        if not self._valid:
            return None
        window, moved = self._window, False
        floor = self._floor
        for change in changes:
            ev, key = change.obj, _obj_key(change.obj)
            if change.type == "DELETED":
                if key in window:
                    if floor is not None:
                        self._valid = False  # the next newest one is somewhere in the store
                        return None
                    del window[key]
                    moved = True
                continue
            when = event_time(ev)
            sort_key = newest_key(ev, when)
            if key in window:
                if floor is not None and sort_key < floor:
                    self._valid = False  # it may now be older than events outside the window
                    return None
            elif floor is not None and sort_key < floor:
                continue
            window[key] = (sort_key, ev)
            self._times[id(ev)] = (ev, when)
            moved = True
        if moved:
            ordered = sorted(window.values(), key=_first, reverse=True)
            if len(ordered) > self.limit:
                for _, ev in ordered[self.limit :]:
                    del window[_obj_key(ev)]
                del ordered[self.limit :]
            self._floor = ordered[-1][0] if len(ordered) >= self.limit else None
            if len(self._times) > 2 * self.limit + 1000:
                self._times = {id(ev): (ev, k[0]) for k, ev in ordered}
            self._newest = [ev for _, ev in ordered]
        return self._newest

    def rows(self, newest: list[dict[str, Any]]) -> list[Row]:
        """The storage events among `newest`, one row each (rows kept per event object across frames)."""
        cache, shown = self._rows, []
        for ev in newest:
            hit = cache.get(id(ev))
            if hit is None or hit[0] is not ev:
                row = event_row(ev, ws=FIXED_WIDTHS, when=self.time_of(ev)) if is_storage_event(ev) else None
                cache[id(ev)] = hit = (ev, row)
            if hit[1] is not None:
                shown.append(hit[1])
        if len(cache) > 2 * len(newest) + 1000:
            keep = {id(ev) for ev in newest}
            self._rows = {k: v for k, v in cache.items() if k in keep}
        if len(shown) <= 200:  # small lists: columns fit the data
            return event_rows([row.obj for row in shown if row.obj is not None])
        return [title_row("events/title", TITLES, FIXED_WIDTHS, group="events"), *shown]


def _first(pair: tuple[SortKey, Any]) -> SortKey:
    return pair[0]


def _obj_key(ev: dict[str, Any]) -> tuple[str, str]:
    m = meta(ev)
    return (m.get("namespace") or "", m.get("name") or "")


class EventIndex(Mapping[str, list[dict[str, Any]]]):
    """`events_by_uid` of a frame's newest events, built on first read: only the detail pane and the drill
    view look events up, so a frame nobody asks costs nothing."""

    __slots__ = ("_events", "_index")

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = events
        self._index: dict[str, list[dict[str, Any]]] | None = None

    def _data(self) -> dict[str, list[dict[str, Any]]]:
        if self._index is None:
            self._index = events_by_uid(self._events)
        return self._index

    def __getitem__(self, key: str) -> list[dict[str, Any]]:
        return self._data()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())
