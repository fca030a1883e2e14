"""Turn samples into the drill's figures and SLO verdicts (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from chaos.drill.model import Slo
from chaos.drill.observer import Sample


@dataclass(frozen=True)
class Times:
    detect: float | None  # cluster seconds from injection to the first non-steady sample
    recover: float | None  # ... to steady again for good (0 if it never deviated); None if not recovered
    deviated: bool
    steady_at_end: bool


@dataclass(frozen=True)
class SloResult:
    title: str
    kind: str
    limit: float
    measured: float | None
    ok: bool
    detail: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def times(samples: list[Sample], inject_at: float | None) -> Times:
    if inject_at is None:
        return Times(None, None, False, bool(samples and samples[-1].ok))
    after = [s for s in samples if s.t >= inject_at]
    first_bad = next((s for s in after if not s.ok), None)
    end_ok = bool(after[-1].ok) if after else bool(samples and samples[-1].ok)
    if first_bad is None:
        return Times(None, 0.0 if end_ok else None, False, end_ok)
    recover = None
    if end_ok:
        last_bad_index = max(i for i, s in enumerate(after) if not s.ok)
        recover = after[last_bad_index + 1].t - inject_at
    return Times(first_bad.t - inject_at, recover, True, end_ok)


def judge(slo: Slo, *, figures: Times, probe_samples: list[Sample], inject_at: float | None) -> SloResult:
    def result(measured: float | None, ok: bool, detail: str) -> SloResult:
        return SloResult(slo.title, slo.kind, slo.limit, measured, ok, detail, slo.line)

    if inject_at is None:
        return result(None, False, "nothing was injected (the method failed before its first action)")
    if slo.kind == "time-to-detect":
        if figures.detect is None:
            return result(None, False, "no deviation from the steady state was observed")
        return result(figures.detect, figures.detect <= slo.limit, f"detected after {figures.detect:.1f}s")
    if slo.kind == "time-to-recover":
        if figures.recover is None:
            return result(None, False, "the steady state did not come back")
        return result(
            figures.recover, figures.recover <= slo.limit, f"recovered after {figures.recover:.1f}s"
        )
    window = [s for s in probe_samples if inject_at <= s.t <= inject_at + slo.limit]
    if slo.kind == "expect":
        hit = next((s for s in window if s.ok), None)
        if hit is None:
            last = window[-1].detail if window else "no observation"
            return result(None, False, f"did not hold within {slo.limit:g}s (last: {last})")
        return result(hit.t - inject_at, True, f"held after {hit.t - inject_at:.1f}s")
    # hold: once true (the injection's effect takes a moment to be observed), true at every
    # observation for `limit` seconds; measured = when it started to hold
    start = hold_start(probe_samples, inject_at)
    if start is None:
        return result(None, False, "never held after the injection")
    held = [s for s in probe_samples if start <= s.t <= start + slo.limit]
    miss = next((s for s in held if not s.ok), None)
    if miss is not None:
        return result(
            start - inject_at, False, f"broke {miss.t - start:.1f}s after it began to hold: {miss.detail}"
        )
    if not any(s.t >= start + slo.limit for s in probe_samples):
        return result(start - inject_at, False, f"the drill ended before {slo.limit:g}s were observed")
    return result(start - inject_at, True, f"held for {slo.limit:g}s from {start - inject_at:.1f}s")


def hold_start(samples: list[Sample], inject_at: float) -> float | None:
    first = next((s for s in samples if s.t >= inject_at and s.ok), None)
    return None if first is None else first.t
