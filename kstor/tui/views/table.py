"""A table whose columns fit the data, kept up to date object by object across frames.

Rebuilding a 10,000-row table (cells, widths over every cell, a sort, every row) costs ~100 ms, and a
screen is rebuilt whenever one of its objects changes. This keeps, per object, its cells and rows (by
the object's identity: the Store replaces an object when it changes) and, per column, how many cells
have each length, so one changed object costs its own cells plus a pass of dictionary lookups; rows are
rebuilt only when a column's width moves. The output equals a from-scratch build.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

from kstor.tui.rows import Row

Cells = tuple[str, ...]
Obj = Any  # an API object, or a tuple of the inputs a row is made of


class FittedTable:
    """`rows(objects)` → (rows in order, column widths) for a mapping of key → API object.

    `cells(obj)` gives the object's rows as tuples of cell text (the fitted columns); `build(obj, cells,
    ws)` its Row objects; `order(obj)` its sort key. Widths: per fitted column the longest cell, at least
    `minimum`, at most `caps`; then the fixed `extra` widths (as views.common.widths does).
    """

    def __init__(
        self,
        *,
        cells: Callable[[Obj], list[Cells]],
        build: Callable[[Obj, list[Cells], list[int]], list[Row]],
        order: Callable[[Obj], Any],
        caps: Sequence[int],
        minimum: Sequence[int],
        extra: Sequence[int] = (),
        same: Callable[[Any, Any], bool] | None = None,
    ) -> None:
        self._cells_of, self._build, self._order = cells, build, order
        self._same = same  # for tuples of inputs: True when a row built for one fits the other
        self.caps, self.minimum, self.extra = list(caps), list(minimum), list(extra)
        self._cells: dict[Hashable, tuple[Obj, list[Cells]]] = {}
        self._rows: dict[Hashable, list[Row]] = {}
        self._counts: list[dict[int, int]] = [{} for _ in caps]
        self._keys: list[Hashable] = []
        self._ws: list[int] = []

    def _count(self, table: list[Cells], delta: int) -> None:
        for cells in table:
            for i, cell in enumerate(cells[: len(self._counts)]):
                counts = self._counts[i]
                n = counts.get(len(cell), 0) + delta
                if n:
                    counts[len(cell)] = n
                else:
                    del counts[len(cell)]

    def rows(
        self, objects: Mapping[Hashable, Obj], *, dirty: Iterable[Hashable] | None = None
    ) -> tuple[list[Row], list[int]]:
        """`dirty`: the only keys whose object may differ from the last call (None: look at every key)."""
        cache, rows = self._cells, self._rows
        added = False
        looked = objects.items() if dirty is None else [(k, objects.get(k)) for k in dirty]
        for key, obj in looked:
            if obj is None:  # gone (only with `dirty`)
                if key in cache:
                    self._count(cache.pop(key)[1], -1)
                    rows.pop(key, None)
                    added = True  # the order changes
                continue
            hit = cache.get(key)
            if hit is not None and (hit[0] is obj or (self._same is not None and self._same(hit[0], obj))):
                if hit[0] is not obj:
                    cache[key] = (obj, hit[1])
                continue
            if hit is None:
                added = True
            else:
                self._count(hit[1], -1)
            table = self._cells_of(obj)
            self._count(table, +1)
            cache[key] = (obj, table)
            rows.pop(key, None)
        if added or len(cache) != len(objects):
            for key in [k for k in cache if k not in objects]:
                self._count(cache.pop(key)[1], -1)
                rows.pop(key, None)
            self._keys = sorted(objects, key=lambda k: self._order(objects[k]))
        ws = [
            min(max(low, max(counts, default=0)), cap)
            for counts, low, cap in zip(self._counts, self.minimum, self.caps, strict=True)
        ] + self.extra
        if ws != self._ws:
            rows.clear()  # every row's columns move
            self._ws = ws
        out: list[list[Row]] = []
        for key in self._keys:
            built = rows.get(key)
            if built is None:
                obj, table = cache[key]
                built = rows[key] = self._build(obj, table, ws)
            out.append(built)
        return list(chain.from_iterable(out)), ws


def fitted_rows(table: FittedTable, objects: Iterable[Obj], key: Callable[[Obj], Hashable]) -> list[Row]:
    """One uncached build (tests, small lists)."""
    return table.rows({key(o): o for o in objects})[0]
