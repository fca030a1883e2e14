"""The model's findings for each frame, without redoing the model's whole pass on every frame.

`Topology.findings(now=...)` flattens every static finding, builds one finding per Pending claim older
than a minute (its message counts the seconds, so all of them change every second) and sorts them all
with dataclass comparisons: ~100 ms on a cluster with thousands of Pending claims, too much for a
20 Hz frame whose only reader, the header, shows a count. So a frame carries `Findings`: its length and
error count come from cached parts (static findings while `static_findings` is the same map; the
Pending claims' creation times, sorted, while `pending_claims` is), and the full list, equal to
`Topology.findings(now)` item for item, is built only when someone reads it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, overload

from kstor.model.fields import parse_time
from kstor.model.findings import finding_order, pending_findings
from kstor.model.snapshot import Topology
from kstor.model.types import BindingPhase, ClaimRow, Finding, Severity

PENDING_AFTER = 60.0  # seconds before a Pending claim is a finding (Topology.findings' default)


class Findings(Sequence[Finding]):
    """One frame's findings: counted without building them; built (once) when read."""

    __slots__ = ("_claims", "_created", "_items", "_now", "_pending_after", "_static", "errors")

    def __init__(
        self,
        *,
        static: list[Finding],
        static_errors: int,
        claims: list[ClaimRow],
        created: list[datetime],
        now: datetime,
        pending_after: float,
    ) -> None:
        self._static, self._claims, self._created = static, claims, created
        self._now, self._pending_after = now, pending_after
        self._items: tuple[Finding, ...] | None = None
        self.errors = static_errors  # Pending claims are warnings

    def __len__(self) -> int:
        if self._items is not None:
            return len(self._items)
        # A claim is a finding once (now - created) >= pending_after: the oldest ones, a prefix.
        cutoff = self._now - timedelta(seconds=self._pending_after)
        return len(self._static) + bisect_right(self._created, cutoff)

    def _all(self) -> tuple[Finding, ...]:
        if self._items is None:
            pending = pending_findings(self._claims, now=self._now, pending_after=self._pending_after)
            found = self._static + pending
            found.sort(key=finding_order)
            self._items = tuple(found)
        return self._items

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Findings | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"Findings({len(self)})"


class FindingsCache:
    """`findings(topology, now=...)` equals `topology.findings(now=now)`, reusing what did not change."""

    def __init__(self, *, pending_after: float = PENDING_AFTER) -> None:
        self.pending_after = pending_after
        self._static_of: Any = None
        self._static: list[Finding] = []
        self._static_errors = 0
        self._claims_of: Any = None
        self._claims: list[ClaimRow] = []
        self._created: list[datetime] = []
        self._last: tuple[Any, Any, int] = (None, None, 0)
        self._result: Findings | None = None

    def findings(self, topology: Topology, *, now: datetime) -> Findings:
        if topology.static_findings is not self._static_of:
            self._static = [f for group in topology.static_findings.values() for f in group]
            self._static_errors = sum(1 for f in self._static if f.severity is Severity.ERROR)
            self._static_of = topology.static_findings
        if topology.pending_claims is not self._claims_of:
            self._claims = list(topology.pending_claims.values())
            created = (parse_time(c.created) for c in self._claims if c.binding.phase is BindingPhase.PENDING)
            self._created = sorted(t for t in created if t is not None)
            self._claims_of = topology.pending_claims
        # Messages count whole seconds: one list per second of the clock (and per change).
        last = (self._static, self._claims, int(now.timestamp()))
        old = self._last
        if self._result is None or last[0] is not old[0] or last[1] is not old[1] or last[2] != old[2]:
            self._result = Findings(
                static=self._static,
                static_errors=self._static_errors,
                claims=self._claims,
                created=self._created,
                now=now,
                pending_after=self.pending_after,
            )
            self._last = last
        return self._result
