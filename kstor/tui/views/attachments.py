"""Attachments screen: VolumeAttachments, then what each node reports attached and in use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kstor.tui.rows import Age, ObjRef, Row
from kstor.tui.views.common import BAD, DIM, NAME, OK, columns, created, meta, section_row, title_row, widths

VA_TITLES = ("NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "ERROR", "AGE")
NODE_TITLES = ("NODE", "VOLUME", "ATTACHED", "IN USE")


def va_error(va: dict[str, Any]) -> str:
    status = va.get("status") or {}
    for key in ("attachError", "detachError"):
        if (status.get(key) or {}).get("message"):
            return f"{key[:6]}: {status[key]['message']}"
    return ""


def va_rows(attachments: Iterable[dict[str, Any]]) -> list[Row]:
    items = sorted(attachments, key=lambda o: meta(o).get("name", ""))
    cells = []
    for va in items:
        spec = va.get("spec") or {}
        attached = "true" if (va.get("status") or {}).get("attached") else "false"
        if meta(va).get("deletionTimestamp"):
            attached += " (detaching)"
        cells.append(
            (
                meta(va).get("name", ""),
                spec.get("attacher", ""),
                (spec.get("source") or {}).get("persistentVolumeName", ""),
                spec.get("nodeName", ""),
                attached,
                va_error(va),
            )
        )
    ws = widths(cells, caps=(70, 30, 44, 30, 17, 200), minimum=(4, 8, 2, 4, 8, 5))
    ws.append(5)
    rows = [
        section_row("att/va", f"VolumeAttachments ({len(items)})", group="va"),
        title_row("att/va-title", VA_TITLES, ws, group="va"),
    ]
    for va, c in zip(items, cells, strict=True):
        segs = columns(
            [
                (c[0], NAME),
                (c[1], ""),
                (c[2], ""),
                (c[3], ""),
                (c[4], OK if c[4] == "true" else "yellow"),
                (c[5], BAD),
                Age(created(va)),
            ],
            ws,
        )
        rows.append(
            Row(
                key=f"va/{c[0]}",
                segments=segs,
                ref=ObjRef("VolumeAttachment", c[0]),
                obj=va,
                search=" ".join(c).lower(),
                group="va",
            )
        )
    return rows


def node_volume_rows(nodes: Iterable[dict[str, Any]]) -> list[Row]:
    """Per node: the union of status.volumesAttached and status.volumesInUse, flagged each way."""
    items = sorted(nodes, key=lambda o: meta(o).get("name", ""))
    table = []
    for node in items:
        status = node.get("status") or {}
        attached = {v.get("name", "") for v in status.get("volumesAttached") or []}
        in_use = set(status.get("volumesInUse") or [])
        name = meta(node).get("name", "")
        for vol in sorted(attached | in_use):
            table.append(
                (node, (name, vol, "yes" if vol in attached else "no", "yes" if vol in in_use else "no"))
            )
    ws = widths([c for _, c in table], caps=(30, 90, 8, 6), minimum=(4, 6, 8, 6))
    rows = [
        section_row(
            "att/nodes", f"Node volume status ({len(table)} volumes on {len(items)} nodes)", group="nodevols"
        ),
        title_row("att/nodes-title", NODE_TITLES, ws, group="nodevols"),
    ]
    for node, c in table:
        segs = columns(
            [
                (c[0], NAME),
                (c[1], ""),
                (c[2], OK if c[2] == "yes" else DIM),
                (c[3], OK if c[3] == "yes" else DIM),
            ],
            ws,
        )
        rows.append(
            Row(
                key=f"nodevol/{c[0]}/{c[1]}",
                segments=segs,
                ref=ObjRef("Node", c[0]),
                obj=node,
                search=" ".join(c).lower(),
                group="nodevols",
            )
        )
    return rows
