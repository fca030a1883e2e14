"""Attachments screen: VolumeAttachments, then what each node reports attached and in use."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kstor.tui.rows import Age, ObjRef, Row
from kstor.tui.views.common import BAD, DIM, NAME, OK, columns, created, meta, section_row, title_row
from kstor.tui.views.table import Cells, FittedTable, Obj

VA_TITLES = ("NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "ERROR", "AGE")
NODE_TITLES = ("NODE", "VOLUME", "ATTACHED", "IN USE")


def va_error(va: dict[str, Any]) -> str:
    status = va.get("status") or {}
    for key in ("attachError", "detachError"):
        if (status.get(key) or {}).get("message"):
            return f"{key[:6]}: {status[key]['message']}"
    return ""


VA_CAPS, VA_MIN = (70, 30, 44, 30, 17, 200), (4, 8, 2, 4, 8, 5)
NODE_CAPS, NODE_MIN = (30, 90, 8, 6), (4, 6, 8, 6)


def _name(obj: dict[str, Any]) -> str:
    return meta(obj).get("name", "")


def _va_cells(va: dict[str, Any]) -> list[Cells]:
    spec = va.get("spec") or {}
    attached = "true" if (va.get("status") or {}).get("attached") else "false"
    if meta(va).get("deletionTimestamp"):
        attached += " (detaching)"
    return [
        (
            meta(va).get("name", ""),
            spec.get("attacher", ""),
            (spec.get("source") or {}).get("persistentVolumeName", ""),
            spec.get("nodeName", ""),
            attached,
            va_error(va),
        )
    ]


def _va_row(va: dict[str, Any], table: list[Cells], ws: list[int]) -> list[Row]:
    c = table[0]
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
    return [
        Row(
            key=f"va/{c[0]}",
            segments=segs,
            ref=ObjRef("VolumeAttachment", c[0]),
            obj=va,
            search=" ".join(c).lower(),
            group="va",
        )
    ]


def _node_cells(node: dict[str, Any]) -> list[Cells]:
    """The union of status.volumesAttached and status.volumesInUse, flagged each way."""
    status = node.get("status") or {}
    attached = {v.get("name", "") for v in status.get("volumesAttached") or []}
    in_use = set(status.get("volumesInUse") or [])
    name = meta(node).get("name", "")
    return [
        (name, vol, "yes" if vol in attached else "no", "yes" if vol in in_use else "no")
        for vol in sorted(attached | in_use)
    ]


def _node_rows(node: dict[str, Any], table: list[Cells], ws: list[int]) -> list[Row]:
    rows = []
    for c in table:
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


class AttachmentsView:
    """The Attachments screen, kept per VolumeAttachment and per Node across frames (see FittedTable)."""

    def __init__(self) -> None:
        self._va = FittedTable(
            cells=_va_cells, build=_va_row, order=_name, caps=VA_CAPS, minimum=VA_MIN, extra=(5,)
        )
        self._nodes = FittedTable(
            cells=_node_cells, build=_node_rows, order=_name, caps=NODE_CAPS, minimum=NODE_MIN
        )

    def rows(self, attachments: Mapping[Hashable, Obj], nodes: Mapping[Hashable, Obj]) -> list[Row]:
        va_body, ws = self._va.rows(attachments)
        node_body, node_ws = self._nodes.rows(nodes)
        return [
            section_row("att/va", f"VolumeAttachments ({len(attachments)})", group="va"),
            title_row("att/va-title", VA_TITLES, ws, group="va"),
            *va_body,
            section_row(
                "att/nodes",
                f"Node volume status ({len(node_body)} volumes on {len(nodes)} nodes)",
                group="nodevols",
            ),
            title_row("att/nodes-title", NODE_TITLES, node_ws, group="nodevols"),
            *node_body,
        ]


def attachment_rows(attachments: Iterable[dict[str, Any]], nodes: Iterable[dict[str, Any]]) -> list[Row]:
    """The whole screen from scratch (uncached)."""
    return AttachmentsView().rows({_name(v): v for v in attachments}, {_name(n): n for n in nodes})
