"""Events screen: storage-related events, newest first, with counts."""

from __future__ import annotations

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
    """Events per involved object uid (also keyed `Kind/ns/name` for objects without a uid), newest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ev in sorted(events, key=event_time, reverse=True):
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
