"""A virtual list of rows (Line API): paints only the visible window, so 10,000 rows cost what 50 do.

Replacing the rows is one assignment plus a repaint — no per-row widget work — which is why the
dashboard can take a fresh frame 20 times a second on a large cluster (DataTable re-indexes every
row on each change; see docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rich.segment import Segment as RichSegment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kstor.tui.rows import Age, Row, filter_rows, format_age


@lru_cache(maxsize=512)
def _style(spec: str) -> Style:
    return Style.parse(spec) if spec else Style()


class RowView(ScrollView, can_focus=True):
    """Rows with a cursor; `/`-filter and namespace are applied here so every screen gets them."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "Top", show=False),
        Binding("end,G", "jump(-1)", "Bottom", show=False),
    ]
    COMPONENT_CLASSES = {"rowview--cursor", "rowview--header"}
    DEFAULT_CSS = """
    RowView { background: $surface; }
    RowView > .rowview--cursor { background: $accent 40%; }
    RowView:focus > .rowview--cursor { background: $accent; color: $text; }
    RowView > .rowview--header { text-style: bold; }
    """

    # Moving the cursor repaints its old and new lines only (see watch_cursor), not the whole view.
    cursor = reactive(0, repaint=False, always_update=True)

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another row (or the row under it changed)."""

        view: RowView
        row: Row | None

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id, classes=classes)
        self._all: list[Row] = []
        self._rows: list[Row] = []
        self._query = ""
        self._namespace: str | None = None
        self._now = 0.0
        self._last_highlight: Row | None = None
        self._paint_styles: tuple[Style, Style, Style] | None = None

    # -- data ---------------------------------------------------------------
    @property
    def rows(self) -> list[Row]:
        """The rows currently shown (after filter and namespace)."""
        return self._rows

    @property
    def selected(self) -> Row | None:
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    def set_rows(self, rows: list[Row], now: float) -> None:
        """Replace the rows; the cursor stays on the same object when it is still there."""
        if rows is self._all:  # the screen was not rebuilt: only ages may have moved
            if now != self._now:
                # Off screen (another tab) a refresh only marks the lines stale, so it costs nothing and
                # the next time the view shows, its ages are current.
                moved = not self.is_on_screen or self._ages_moved(self._now, now)
                self._now = now
                if moved:
                    self.refresh()
            return
        key = self.selected.key if self.selected else None
        self._all = rows
        self._now = now
        self._apply(keep_key=key)

    def set_filter(self, query: str, namespace: str | None) -> None:
        key = self.selected.key if self.selected else None
        self._query, self._namespace = query, namespace
        self._apply(keep_key=key)

    def select_key(self, key: str) -> bool:
        for i, row in enumerate(self._rows):
            if row.key == key:
                self.cursor = i
                self._scroll_to_cursor()
                return True
        return False

    def _ages_moved(self, before: float, now: float) -> bool:
        """Whether an age on a visible row reads differently at `now` (they count whole seconds, so at
        20 frames a second most frames change none and need no repaint)."""
        top = int(self.scroll_offset.y)
        for row in self._rows[top : top + max(self.size.height, 1)]:
            for seg in row.segments:
                if (
                    isinstance(seg, Age)
                    and seg.since is not None
                    and format_age(before - seg.since) != format_age(now - seg.since)
                ):
                    return True
        return False

    def _apply(self, *, keep_key: str | None) -> None:
        self._rows = filter_rows(self._all, self._query, namespace=self._namespace)
        width = max((self._row_width(r) for r in self._rows[:50]), default=0)
        size = Size(max(width, self.virtual_size.width if self._rows else 0), len(self._rows))
        if size != self.virtual_size:
            self.virtual_size = size
        index = self.cursor
        if keep_key is not None and (index >= len(self._rows) or self._rows[index].key != keep_key):
            index = next((i for i, r in enumerate(self._rows) if r.key == keep_key), index)
        self.cursor = min(max(index, 0), max(len(self._rows) - 1, 0))
        self.refresh()

    @staticmethod
    def _row_width(row: Row) -> int:
        return sum(s.width if isinstance(s, Age) else len(s[0]) for s in row.segments)

    # -- cursor ---------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        if old != new:
            self.refresh_line(old)
        self.refresh_line(new)
        row = self.selected
        if row is not self._last_highlight:
            self._last_highlight = row
            self.post_message(self.Highlighted(self, row))

    def action_cursor(self, delta: int) -> None:
        self.cursor = min(max(self.cursor + delta, 0), max(len(self._rows) - 1, 0))
        self._scroll_to_cursor()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.size.height - 1, 1))

    def action_jump(self, index: int) -> None:
        self.cursor = index if index >= 0 else max(len(self._rows) - 1, 0)
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        top, height = int(self.scroll_y), max(self.size.height, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if offset is not None:
            self.cursor = min(int(self.scroll_y) + int(offset), max(len(self._rows) - 1, 0))

    # -- painting -------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's styles walk the DOM on every read: look them up once per paint, not per line.
        self._paint_styles = (
            self.rich_style,
            self.get_component_rich_style("rowview--header"),
            self.get_component_rich_style("rowview--cursor", partial=True),
        )
        try:
            return super().render_lines(crop)
        finally:
            self._paint_styles = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        styles = self._paint_styles
        base = styles[0] if styles else self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        segments = [RichSegment(text, base + _style(spec)) for text, spec in self._texts(row)]
        strip = Strip(segments)
        if row.header:
            header = styles[1] if styles else self.get_component_rich_style("rowview--header")
            strip = strip.apply_style(header)
        if index == self.cursor:
            strip = strip.extend_cell_length(scroll_x + width, base)
            cursor = styles[2] if styles else self.get_component_rich_style("rowview--cursor", partial=True)
            strip = strip.apply_style(cursor)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _texts(self, row: Row) -> list[tuple[str, str]]:
        out = []
        for seg in row.segments:
            if isinstance(seg, Age):
                text = "-" if seg.since is None else format_age(self._now - seg.since)
                out.append((text.ljust(seg.width), seg.style))
            else:
                out.append(seg)
        return out

    def visible_text(self) -> list[str]:
        """The shown rows as plain text (what a person reads; used by tests and the palette)."""
        return ["".join(t for t, _ in self._texts(r)) for r in self._rows]
