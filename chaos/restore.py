"""Undo what chaos left behind, step by step, checking the current state before each step so a
second run (or a step the cluster already healed) does nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from chaos.actions.base import ActionEnv
from chaos.actions.nodes import is_cordoned, same_taint, set_unschedulable
from chaos.api import NotFound
from chaos.config import SIM_CONTEXT
from chaos.errors import ActionError
from chaos.journal import Journal, JournalEntry
from kstor.errors import KstorError

Step = dict[str, Any]


async def _uncordon(env: ActionEnv, step: Step) -> str:
    node = await env.api.get("nodes", step["node"])
    if node is None:
        return f"node/{step['node']} is gone: nothing to uncordon"
    if not is_cordoned(node):
        return f"node/{step['node']} already schedulable"
    await set_unschedulable(env, step["node"], False)
    return f"node/{step['node']} uncordoned"


async def _cordon(env: ActionEnv, step: Step) -> str:
    node = await env.api.get("nodes", step["node"])
    if node is None:
        return f"node/{step['node']} is gone: nothing to cordon"
    if is_cordoned(node):
        return f"node/{step['node']} already cordoned"
    await set_unschedulable(env, step["node"], True)
    return f"node/{step['node']} cordoned"


async def _scale(env: ActionEnv, step: Step) -> str:
    what = f"{step['plural'][:-1]}.apps/{step['name']} -n {step['namespace']}"
    obj = await env.api.get(step["plural"], step["name"], step["namespace"])
    if obj is None:
        return f"{what} is gone: nothing to scale"
    current = (obj.get("spec") or {}).get("replicas")
    if current == step["replicas"]:
        return f"{what} already at {current} replicas"
    await env.api.scale(step["plural"], step["name"], step["namespace"], int(step["replicas"]))
    return f"{what} scaled back to {step['replicas']}"


async def _remove_taint(env: ActionEnv, step: Step) -> str:
    node = await env.api.get("nodes", step["node"])
    if node is None:
        return f"node/{step['node']} is gone: nothing to untaint"
    taints = (node.get("spec") or {}).get("taints") or []
    kept = [t for t in taints if not same_taint(t, step["taint"])]
    if len(kept) == len(taints):
        return f"node/{step['node']} has no taint {step['taint']['key']}"
    await env.api.patch("nodes", step["node"], {"spec": {"taints": kept or None}})
    return f"node/{step['node']} untainted ({step['taint']['key']}:{step['taint']['effect']})"


async def _loop(env: ActionEnv, step: Step, *, start: bool) -> str:
    if env.sim is None:
        raise ActionError(f"control loop {step['name']}: not connected to the embedded cluster")
    running = (await env.sim.loops()).get(step["name"])
    if running is None:
        return f"control loop {step['name']} no longer exists"
    if running == start:
        return f"control loop {step['name']} already {'running' if start else 'stopped'}"
    if start:
        await env.sim.start_loop(step["name"])
    else:
        await env.sim.stop_loop(step["name"])
    return f"control loop {step['name']} {'started' if start else 'stopped'}"


async def _start_loop(env: ActionEnv, step: Step) -> str:
    return await _loop(env, step, start=True)


async def _stop_loop(env: ActionEnv, step: Step) -> str:
    return await _loop(env, step, start=False)


async def _delete(env: ActionEnv, step: Step) -> str:
    what = f"{step['plural'][:-1]}/{step['name']}"
    namespace = step.get("namespace") or None
    if await env.api.get(step["plural"], step["name"], namespace) is None:
        return f"{what} already gone"
    try:
        await env.api.delete(step["plural"], step["name"], namespace)
    except NotFound:
        return f"{what} already gone"
    return f"{what} deleted"


STEPS: dict[str, Callable[[ActionEnv, Step], Awaitable[str]]] = {
    "uncordon": _uncordon,
    "cordon": _cordon,
    "scale": _scale,
    "remove-taint": _remove_taint,
    "start-loop": _start_loop,
    "stop-loop": _stop_loop,
    "delete": _delete,
}


async def run_step(env: ActionEnv, step: Step) -> str:
    try:
        handler = STEPS[step["op"]]
    except KeyError:
        raise ActionError(f"unknown restore step {step.get('op')!r}") from None
    return await handler(env, step)


async def restore_entry(env: ActionEnv, journal: Journal, entry: JournalEntry) -> list[str]:
    """Run an entry's restore steps (in reverse) and mark it restored."""
    done = [await run_step(env, step) for step in reversed(entry.restore)]
    journal.mark(entry.id, "restored", steps=done)
    return done


def _group(
    entries: list[JournalEntry], kubeconfig: str | None, context: str | None
) -> dict[Any, list[JournalEntry]]:
    groups: dict[tuple[str | None, str], list[JournalEntry]] = {}
    for entry in entries:
        groups.setdefault((kubeconfig or entry.kubeconfig, context or entry.context), []).append(entry)
    return groups


def _cluster_gone(entry: JournalEntry, kubeconfig: str | None) -> bool:
    """An embedded cluster started by a drill dies with it (its kubeconfig is a temp file)."""
    return (
        kubeconfig is None
        and entry.context == SIM_CONTEXT
        and bool(entry.kubeconfig)
        and not Path(str(entry.kubeconfig)).exists()
    )


async def restore_journal(
    journal: Journal,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    dry_run: bool = False,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> int:
    """Undo every pending entry (newest first), grouped by cluster; 0 when all went well."""
    from chaos.session import open_session

    pending = journal.pending()
    if pending and (kubeconfig or context):
        # only what was done on the cluster asked for: never replay one cluster's undo on another
        from chaos.session import check_guardrails

        wanted = (await check_guardrails(kubeconfig, context)).context
        others = [e for e in pending if e.context != wanted]
        if others:
            names = ", ".join(sorted({e.context for e in others}))
            out(f"leaving {len(others)} action(s) done on other contexts ({names}) for later")
        pending = [e for e in pending if e.context == wanted]
        context = wanted
    if not pending:
        out(f"nothing to restore ({journal.path})")
        return 0
    failures = 0
    for (path, ctx), entries in _group(pending, kubeconfig, context).items():
        live = []
        for entry in entries:
            if _cluster_gone(entry, kubeconfig):
                out(f"{entry.action} {entry.target}: its embedded cluster is gone; nothing to restore")
                if not dry_run:
                    journal.mark(entry.id, "restored", steps=["embedded cluster gone"])
            elif dry_run:
                steps = ", ".join(s["op"] for s in reversed(entry.restore))
                out(f"would restore {entry.action} {entry.target} on {entry.context}: {steps}")
            else:
                live.append(entry)
        if not live:
            continue
        try:
            session = await open_session(path, ctx)
        except KstorError as exc:
            failures += len(live)
            err(f"cannot restore {len(live)} action(s) on {ctx}: {exc}")
            continue
        try:
            env = ActionEnv(api=session.api, clock=session.clock, sim=session.sim, say=out)
            for entry in live:
                try:
                    for line in await restore_entry(env, journal, entry):
                        out(line)
                except KstorError as exc:
                    failures += 1
                    err(f"could not restore {entry.action} {entry.target}: {exc}")
        finally:
            await session.close()
    return 1 if failures else 0
