"""What the drill view measures, from the same frames the dashboard shows (no Textual here).

t0 is when the action finished executing; a deviation is the first frame whose model reports
problems the baseline did not have; recovery is the first frame after that with none of them, withdrawn
if they come back (steady again for good, as the drill runner measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kstor.tui.frame import Frame
from kstor.tui.views.events import event_time


@dataclass
class DrillWatch:
    started: float  # monotonic seconds at t0
    baseline: frozenset[str] = frozenset()
    deviation_at: float | None = None
    recovered_at: float | None = None
    problems: tuple[str, ...] = ()
    unhealthy: list[float] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    _seen_events: set[tuple[str, int]] = field(default_factory=set)
    _last: frozenset[str] = frozenset()
    wall_t0: float = 0.0  # the frame clock at t0 (to keep only newer events)

    @classmethod
    def begin(cls, frame: Frame | None, *, monotonic: float) -> DrillWatch:
        base = problem_lines(frame) if frame else frozenset()
        watch = cls(started=monotonic, baseline=base, _last=base, wall_t0=frame.now if frame else 0.0)
        if frame is not None:
            watch._seen_events = {_event_key(e) for evs in frame.events.values() for e in evs}
        return watch

    def observe(self, frame: Frame, *, monotonic: float) -> None:
        t = monotonic - self.started
        lines = problem_lines(frame)
        self.unhealthy.append(float(frame.unhealthy))
        for line in sorted(lines - self._last):
            self.timeline.append((t, f"✗ {line}"))
        for line in sorted(self._last - lines):
            self.timeline.append((t, f"✓ {line}"))
        self._last = lines
        for evs in frame.events.values():
            for ev in evs:
                key = _event_key(ev)
                if key in self._seen_events or event_time(ev) < self.wall_t0 - 1:
                    continue
                self._seen_events.add(key)
                inv = ev.get("involvedObject") or {}
                self.timeline.append(
                    (
                        t,
                        f"event {ev.get('reason')}: {(inv.get('kind') or '').lower()}/"
                        f"{inv.get('name')} {' '.join((ev.get('message') or '').split())[:90]}",
                    )
                )
        new = lines - self.baseline
        self.problems = tuple(sorted(new))
        if self.deviation_at is None and new:
            self.deviation_at = t
            self.timeline.append((t, "▼ deviation: the cluster is not steady"))
        elif self.recovered_at is not None and new:
            # Recovery is steady again for good (as the drill runner measures it): a lull between two
            # symptoms (the old pod gone, the new one not yet failing to schedule) was not one.
            self.recovered_at = None
            self.timeline.append((t, "▼ not steady again"))
        elif self.deviation_at is not None and self.recovered_at is None and not new:
            self.recovered_at = t
            self.timeline.append((t, f"▲ recovered in {t - self.deviation_at:.1f} s after the deviation"))

    def verdict(self, *, monotonic: float, finished: bool = False) -> str:
        if self.recovered_at is not None:
            return f"recovered in {self.recovered_at:.1f} s"
        if self.deviation_at is None:
            return "no deviation yet" if not finished else "no deviation observed: steady throughout"
        still = "; ".join(self.problems[:3]) + (
            f" (+{len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        )
        if not finished:
            return f"not steady for {monotonic - self.started - self.deviation_at:.1f} s: {still}"
        return f"not recovered after {monotonic - self.started:.1f} s — still broken: {still}"


def problem_lines(frame: Frame | None) -> frozenset[str]:
    if frame is None or frame.topology is None:
        return frozenset()
    return frozenset(f"{ref}: {line}" for ref, lines in frame.topology.problems.items() for line in lines)


def _event_key(ev: dict) -> tuple[str, int]:
    return (
        (ev.get("metadata") or {}).get("uid") or (ev.get("metadata") or {}).get("name", ""),
        int(ev.get("count") or 1),
    )
