"""Chaos from the dashboard: which actions apply to an object, their preview, and running one.

A thin layer over the `chaos` package (plan → Preview → journal → execute). Guardrails are chaos's
own: a context that is not the sim, `kind-*` or allow-listed is refused before anything is written.
Each call opens and closes its own session so it can run on any event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kstor.tui.rows import ObjRef

# kind -> (action, how the target is named)
_BY_KIND: dict[str, list[str]] = {
    "PersistentVolume": ["delete-pv"],
    "PersistentVolumeClaim": ["delete-pvc"],
    "Pod": ["delete-pod"],
    "Node": ["cordon", "uncordon", "drain", "taint", "node-notready"],
    "VolumeAttachment": ["delete-va"],
}
_ANYWHERE = ["kill-nfs", "stop-provisioner"]


@dataclass(frozen=True, slots=True)
class ChaosChoice:
    action: str
    target: str
    summary: str

    @property
    def label(self) -> str:
        return f"{self.action} {self.target}".strip()


@dataclass(frozen=True, slots=True)
class PreviewText:
    lines: tuple[str, ...]
    reversible: bool


def target_of(ref: ObjRef) -> str:
    return f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name


class ChaosBridge:
    def __init__(
        self, *, kubeconfig: str | None, context: str | None, feed: Any = None, journal: str | None = None
    ) -> None:
        self.kubeconfig, self.context, self.feed, self.journal = kubeconfig, context, feed, journal

    @property
    def is_sim(self) -> bool:
        cluster = getattr(self.feed, "cluster", None)
        return bool(getattr(cluster, "is_sim", False))

    def choices(self, ref: ObjRef | None) -> list[ChaosChoice]:
        from chaos.actions import ACTIONS

        out = []
        names = (_BY_KIND.get(ref.kind, []) if ref else []) + _ANYWHERE
        for name in names:
            cls = ACTIONS.get(name)
            if cls is None or (cls.sim_only and not self.is_sim):
                continue
            target = "" if name in _ANYWHERE else target_of(ref)  # type: ignore[arg-type]
            out.append(ChaosChoice(name, target, cls.summary))
        return out

    async def preview(self, choice: ChaosChoice) -> PreviewText:
        from chaos.actions import ActionEnv
        from chaos.runner import make_action, plan_action
        from chaos.session import open_session

        session = await open_session(self.kubeconfig, self.context)
        try:
            env = ActionEnv(api=session.api, clock=session.clock, sim=session.sim)
            plan = await plan_action(env, make_action(choice.action, choice.target or None))
            return PreviewText(tuple(plan.preview.lines()), plan.preview.reversible)
        finally:
            await session.close()

    async def execute(self, choice: ChaosChoice) -> list[str]:
        from chaos.actions import ActionEnv
        from chaos.journal import Journal
        from chaos.runner import make_action, run_action
        from chaos.session import open_session

        session = await open_session(self.kubeconfig, self.context)
        try:
            env = ActionEnv(api=session.api, clock=session.clock, sim=session.sim)
            result = await run_action(
                env,
                make_action(choice.action, choice.target or None),
                context=session.info.context,
                kubeconfig=session.kubeconfig,
                journal=Journal(self.journal),
            )
            return list(result.done)
        finally:
            await session.close()
