"""A parsed drill: the typed form of a drill file (see chaos/drill.schema.json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chaos.drill.probes import Probe


@dataclass(frozen=True)
class ActionStep:
    action: str
    target: Any  # a name, or {pv-of|node-of|pod-of|va-of: ...} resolved when the step runs
    options: dict[str, Any]
    label: str
    line: int

    def describe(self) -> str:
        return f"{self.action} {format_target(self.target)}".rstrip()


@dataclass(frozen=True)
class WaitStep:
    probe: Probe
    timeout: float
    line: int

    def describe(self) -> str:
        return f"wait for {self.probe} (up to {self.timeout:g}s)"


@dataclass(frozen=True)
class PauseStep:
    seconds: float
    line: int

    def describe(self) -> str:
        return f"pause {self.seconds:g}s"


@dataclass(frozen=True)
class UndoStep:
    label: str
    line: int

    def describe(self) -> str:
        return f"undo {self.label}"


Step = ActionStep | WaitStep | PauseStep | UndoStep


@dataclass(frozen=True)
class Slo:
    kind: str  # time-to-detect | time-to-recover | expect | hold
    limit: float
    probe: Probe | None
    line: int

    @property
    def title(self) -> str:
        if self.kind == "expect":
            return f"expect {self.probe} within {self.limit:g}s"
        if self.kind == "hold":
            return f"{self.probe} holds for {self.limit:g}s"
        return f"{self.kind} <= {self.limit:g}s"


@dataclass(frozen=True)
class Drill:
    path: str
    title: str
    description: str
    target: str
    speed: float | None
    settle: float | None
    observe: float
    model_steady: bool
    steady_probes: list[Probe]
    method: list[Step]
    rollbacks: list[ActionStep]
    setup: list[ActionStep] = field(default_factory=list)
    slos: list[Slo] = field(default_factory=list)

    @property
    def sim_scenario(self) -> str | None:
        return self.target.split(":", 1)[1] if self.target.startswith("sim:") else None


def format_target(target: Any) -> str:
    if isinstance(target, dict):
        key, value = next(iter(target.items()))
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in value.items())
        return f"<{key} {value}>"
    return str(target or "")
