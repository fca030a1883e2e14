"""Response shapes other than plain JSON objects: meta.k8s.io Table (kubectl get) and
PartialObjectMetadata, plus the byte-joined list body (each stored object is serialized once)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kstor.sim.apiserver.resources import Resource
from kstor.sim.apiserver.watch import Entry, dumps


def wants(accept: str) -> str:
    """`table`, `metadata` (PartialObjectMetadata[List]) or `json`, from an Accept header."""
    for part in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in part.split(";")[1:])}
        if params.get("g") != "meta.k8s.io":
            continue
        if params.get("as") == "Table":
            return "table"
        if params.get("as") in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return "metadata"
    return "json"


def list_body(res: Resource, entries: Sequence[Entry], meta: dict[str, Any]) -> bytes:
    head = dumps({"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta})
    return head[:-1] + b',"items":[' + b",".join(e.raw for e in entries) + b"]}"


def partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def partial_list(entries: Sequence[Entry], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "items": [partial(e.obj) for e in entries],
    }


def _build_table(plural: str, objects: list[dict[str, Any]], now: datetime) -> tuple[list[dict], list[list]]:
    try:
        tables = importlib.import_module("kstor.sim.apiserver.tables")
        return tables.build_table(plural, objects, now, wide=True)
    except (ModuleNotFoundError, AttributeError):  # before H2's printers exist: NAME/AGE
        columns = [
            {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0},
        ]
        return columns, [[o["metadata"]["name"], o["metadata"].get("creationTimestamp", "")] for o in objects]


def table(
    res: Resource,
    objects: list[dict[str, Any]],
    now: datetime,
    *,
    include: str = "Metadata",
    meta: dict[str, Any] | None = None,
    columns: bool = True,
) -> dict[str, Any]:
    definitions, cells = _build_table(res.plural, objects, now)
    rows = []
    for obj, row_cells in zip(objects, cells, strict=True):
        row: dict[str, Any] = {"cells": row_cells}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = partial(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta or {},
        "columnDefinitions": definitions if columns else [],
        "rows": rows,
    }
