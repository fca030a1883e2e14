"""The shape of a chaos action: plan (read only) -> Preview -> journal -> execute -> restore steps.

`plan()` reads the cluster and returns a `Plan`: the Preview shown to the user (what is touched,
what is affected, whether it can be undone), the target's previous state and the restore steps
(plain dicts, journalled before anything changes, replayed by `chaos.restore`).
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from chaos.api import ClusterApi, Obj, SimControl, name_of, ns_of
from chaos.clock import ClusterClock
from chaos.errors import ActionError

KIND_OF = {
    "nodes": "Node",
    "pods": "Pod",
    "persistentvolumes": "PersistentVolume",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "volumeattachments": "VolumeAttachment",
    "deployments": "Deployment",
    "statefulsets": "StatefulSet",
    "loops": "ControlLoop",
}


@dataclass(frozen=True, order=True)
class Ref:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @classmethod
    def of(cls, plural: str, obj: Obj) -> Ref:
        return cls(KIND_OF.get(plural, plural), ns_of(obj), name_of(obj))


@dataclass(frozen=True)
class Touch:
    """An object the action itself changes, and how."""

    ref: Ref
    change: str


@dataclass
class Preview:
    action: str
    target: str
    touches: list[Touch]
    affects: dict[str, list[Ref]]  # "pods", "claims", "volumes", "attachments" -> refs
    reversible: bool
    restore: str  # what `kstor chaos restore` would do, or why nothing can be undone
    notes: list[str] = field(default_factory=list)

    def namespaces(self) -> set[str]:
        return {t.ref.namespace for t in self.touches if t.ref.namespace}

    def lines(self) -> list[str]:
        out = [f"{self.action} {self.target}".rstrip()]
        out.append("  touches:")
        out += [f"    - {t.ref}: {t.change}" for t in self.touches] or ["    (nothing)"]
        for label, refs in self.affects.items():
            if refs:
                out.append(f"  affects {label}:")
                out += [f"    - {r}" for r in sorted(set(refs))]
        out.append(f"  reversible: {'yes' if self.reversible else 'no'} — {self.restore}")
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target,
            "touches": [{"object": str(t.ref), "change": t.change} for t in self.touches],
            "affects": {k: sorted(str(r) for r in set(v)) for k, v in self.affects.items()},
            "reversible": self.reversible,
            "restore": self.restore,
            "notes": list(self.notes),
        }


@dataclass
class Plan:
    preview: Preview
    previous: dict[str, Any]
    restore: list[dict[str, Any]]
    data: dict[str, Any] = field(default_factory=dict)  # what execute() needs, decided at plan time


@dataclass
class ActionEnv:
    """Everything an action may use: the API, the sim's control API (None off-sim) and the clock."""

    api: ClusterApi
    clock: ClusterClock
    sim: SimControl | None = None
    say: Callable[[str], None] = lambda _line: None


class Action(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    target_help: ClassVar[str] = "NAME"
    target_optional: ClassVar[bool] = False
    sim_only: ClassVar[bool] = False

    def __init__(self, target: str, **options: Any) -> None:
        self.target = target
        self.options = {k.replace("-", "_"): v for k, v in options.items()}
        unknown = set(self.options) - set(self.defaults())
        if unknown:
            raise ActionError(f"{self.name}: unknown option(s): {', '.join(sorted(unknown))}")
        self.opts = {**self.defaults(), **self.options}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Option name -> default value (CLI flags and drill `options:` map onto these)."""
        return {}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Flags beyond the target; their dest names must match defaults()."""
        return None

    @abstractmethod
    async def plan(self, env: ActionEnv) -> Plan: ...

    @abstractmethod
    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        """Carry the plan out; returns what was done, one line per change."""


def split_namespaced(target: str, default_namespace: str = "default") -> tuple[str, str]:
    """`ns/name` or `name` (in the default namespace)."""
    if "/" in target:
        namespace, name = target.split("/", 1)
        return namespace, name
    return default_namespace, target


async def require(env: ActionEnv, plural: str, name: str, namespace: str | None = None) -> Obj:
    obj = await env.api.get(plural, name, namespace)
    if obj is None:
        where = f" in namespace {namespace!r}" if namespace else ""
        raise ActionError(f'{KIND_OF.get(plural, plural).lower()} "{name}" not found{where}')
    return obj


def require_sim(env: ActionEnv, action: str) -> Any:
    if env.sim is None:
        raise ActionError(f"{action} works only on the embedded cluster (context kstor-sim)")
    return env.sim
