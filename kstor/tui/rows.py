"""The rows the dashboard draws: plain, immutable, built off the UI thread of control.

A row is a list of (text, style) segments already laid out in columns, so painting one is a join,
not a layout. Ages are the one thing that changes without a watch event, so they stay symbolic
(`Age`) and are formatted against the frame's clock at paint time — which also keeps snapshot tests
deterministic and lets builders cache rows by object identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ObjRef:
    """What a row is about: the detail pane, `x` (chaos) and the palette act on this."""

    kind: str
    name: str
    namespace: str | None = None

    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


@dataclass(frozen=True, slots=True)
class Age:
    """A column that shows the time since `since` (epoch seconds), right-padded to `width`."""

    since: float | None
    width: int = 5
    style: str = ""


Segment = tuple[str, str] | Age


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    segments: tuple[Segment, ...]
    ref: ObjRef | None = None
    obj: dict[str, Any] | None = field(default=None, compare=False)
    namespace: str | None = None
    # Search text (lowercase): name, namespace, node, state words.
    search: str = ""
    # Section rows (a node, "on no node") keep their members visible when they match a filter.
    header: bool = False
    group: str = ""


def format_age(seconds: float) -> str:
    """kubectl's short age format (`45s`, `3m12s`, `5h`, `12d`)."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 10:
        return f"{m}m{s}s" if s else f"{m}m"
    if m < 180:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h"
    return f"{h // 24}d"


def render_text(row: Row, now: float) -> str:
    """The row as plain text (tests, filtering by what is shown, the palette)."""
    return "".join(_segment_text(seg, now) for seg in row.segments)


def _segment_text(seg: Segment, now: float) -> str:
    if isinstance(seg, Age):
        text = "-" if seg.since is None else format_age(now - seg.since)
        return text.ljust(seg.width)
    return seg[0]


def parse_time(value: str | None) -> float | None:
    """RFC 3339 timestamp from the API → epoch seconds (None when absent or garbage)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def filter_rows(rows: list[Row], query: str, *, namespace: str | None) -> list[Row]:
    """Rows matching every word of `query` (and `namespace`); a matching section keeps its members,
    a matching member keeps its section header."""
    words = query.lower().split()
    if not words and namespace is None:
        return rows

    def hit(row: Row) -> bool:
        if namespace is not None and row.namespace not in (None, namespace):
            return False
        return all(w in row.search for w in words)

    keep_groups = {r.group for r in rows if r.header and words and hit(r)}
    member_groups = {r.group for r in rows if not r.header and (r.group in keep_groups or hit(r))}
    out = []
    for row in rows:
        if row.header:
            if not words or row.group in keep_groups or row.group in member_groups:
                out.append(row)
        elif row.group in keep_groups or hit(row):
            if namespace is None or row.namespace in (None, namespace):
                out.append(row)
    return out
