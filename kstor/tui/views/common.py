"""Shared bits for the row builders: column layout, badge colours, object helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from kstor.tui.rows import Age, ObjRef, Row, Segment, parse_time

OK = "green"
BUSY = "yellow"
BAD = "bold red"
DIM = "dim"
NAME = "bold"

# Words that decide a badge's colour (states from the model and phases from the API).
_GOOD = {
    "bound",
    "attached",
    "mounted",
    "notrequired",
    "ready",
    "running",
    "succeeded",
    "true",
    "normal",
    "available",
    "synced",
}
_BAD = {
    "lost",
    "failed",
    "attacherror",
    "multiattach",
    "mountfailed",
    "notready",
    "unknown",
    "warning",
    "forbidden",
    "unavailable",
    "provisioningfailed",
    "provisionermissing",
    "false",
}


@lru_cache(maxsize=4096)  # a few dozen distinct states; called for every badge of every row
def tone(state: str) -> str:
    """Colour for a state word: green when healthy, red when broken, yellow while in between."""
    word = state.split("(")[0].split(":")[0].replace(" ", "").replace("-", "").lower()
    if word in _GOOD:
        return OK
    if word in _BAD:
        return BAD
    return BUSY


@lru_cache(maxsize=4096)
def badge(state: str) -> tuple[str, str]:
    return (f" {state} ", f"reverse {tone(state)}")


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def ref_of(kind: str, obj: dict[str, Any]) -> ObjRef:
    m = meta(obj)
    return ObjRef(kind, m.get("name", ""), m.get("namespace"))


def created(obj: dict[str, Any]) -> float | None:
    return parse_time(meta(obj).get("creationTimestamp"))


def fit(text: str, width: int) -> str:
    """Pad or cut to exactly `width` cells (cut text ends with an ellipsis)."""
    if len(text) > width:
        return text[: max(width - 1, 0)] + "…"
    return text.ljust(width)


def widths(table: Sequence[Sequence[str]], *, caps: Sequence[int], minimum: Sequence[int]) -> list[int]:
    """Column widths: the longest cell (or the title), capped."""
    out = list(minimum)
    for cells in table:
        for i, cell in enumerate(cells):
            if i < len(out) and len(cell) > out[i]:
                out[i] = len(cell)
    return [min(w, c) for w, c in zip(out, caps, strict=True)]


def columns(cells: Sequence[tuple[str, str] | Age], ws: Sequence[int]) -> tuple[Segment, ...]:
    """Lay cells out in fixed-width columns separated by two spaces."""
    if len(cells) != len(ws):
        raise ValueError(f"{len(cells)} cells for {len(ws)} columns")
    out: list[Segment] = []
    last = len(ws) - 1
    for i, cell in enumerate(cells):
        w = ws[i]
        if isinstance(cell, Age):
            out.append(Age(cell.since, w, cell.style))
        else:
            text = cell[0]
            if len(text) > w:
                text = text[: max(w - 1, 0)] + "…"
            elif i != last:
                # The last column is not padded: trailing blanks would only widen the scroll area.
                text = text.ljust(w)
            out.append((text, cell[1]))
        if i != last:
            out.append(_GAP)
    return tuple(out)


_GAP = ("  ", "")


def title_row(key: str, titles: Sequence[str], ws: Sequence[int], *, group: str) -> Row:
    segs = columns([(t, "bold underline") for t in titles], ws)
    return Row(key=key, segments=segs, header=True, group=group, search=" ".join(titles).lower())


def section_row(key: str, text: str, *, group: str, extra: Iterable[tuple[str, str]] = ()) -> Row:
    return Row(
        key=key,
        segments=((f"── {text} ", "bold reverse"), *extra),
        header=True,
        group=group,
        search=text.lower(),
    )


def blank_row(key: str, group: str) -> Row:
    return Row(key=key, segments=(), header=True, group=group)
