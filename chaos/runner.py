"""Run one chaos action: plan -> preview -> (confirm) -> journal (fsync'd) -> execute.

The library entry points the TUI and the drill runner use: `make_action`, `plan_action`,
`run_action`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.actions import ACTIONS, Action, ActionEnv, Plan, Preview
from chaos.config import ChaosConfig, check_namespaces
from chaos.errors import ActionError, ConfirmationRefused
from chaos.journal import Journal


@dataclass
class ActionResult:
    plan: Plan
    dry_run: bool
    done: list[str] = field(default_factory=list)
    journal_id: str | None = None


def make_action(name: str, target: str | None = None, options: dict[str, Any] | None = None) -> Action:
    try:
        cls = ACTIONS[name]
    except KeyError:
        raise ActionError(f"unknown action {name!r}; known: {', '.join(sorted(ACTIONS))}") from None
    if not target and not cls.target_optional:
        raise ActionError(f"{name} needs a target ({cls.target_help})")
    return cls(target or "", **(options or {}))


async def plan_action(env: ActionEnv, action: Action, *, config: ChaosConfig | None = None) -> Plan:
    """Read the cluster and build the preview; refuses (GuardrailError) namespaces not allowed."""
    if action.sim_only and env.sim is None:
        raise ActionError(f"{action.name} works only on the embedded cluster (context kstor-sim)")
    plan = await action.plan(env)
    check_namespaces(plan.preview.namespaces(), config=config)
    return plan


async def run_action(
    env: ActionEnv,
    action: Action,
    *,
    context: str,
    kubeconfig: str | None,
    journal: Journal,
    dry_run: bool = False,
    confirm: Callable[[Preview], bool] | None = None,
    config: ChaosConfig | None = None,
) -> ActionResult:
    plan = await plan_action(env, action, config=config)
    if dry_run:
        return ActionResult(plan, dry_run=True)
    if confirm is not None and not confirm(plan.preview):
        raise ConfirmationRefused(f"{action.name} {action.target}: not confirmed; nothing was done")
    entry = journal.begin(
        action=action.name,
        target=plan.preview.target,
        context=context,
        kubeconfig=kubeconfig,
        previous=plan.previous,
        restore=plan.restore,
    )
    try:
        done = await action.execute(env, plan)
    except BaseException as exc:
        journal.mark(entry, "failed", error=str(exc) or type(exc).__name__)
        raise
    journal.mark(entry, "done", result=done)
    return ActionResult(plan, dry_run=False, done=done, journal_id=entry)
