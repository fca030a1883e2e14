"""Run a drill: steady state first, then the method (actions, waits, pauses), rollbacks always,
and measurements on the same Store the dashboard uses.

Usable as a library (the TUI drives it): `DrillRunner(drill, ...)`, then `await runner.run()` with
`on_status` / `on_step` / `on_entry` callbacks, or `async for kind, payload in runner.events()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chaos.actions import ActionEnv, Preview
from chaos.config import ChaosConfig
from chaos.drill.measure import SloResult, Times, hold_start, judge, times
from chaos.drill.model import ActionStep, Drill, PauseStep, Step, UndoStep, WaitStep, format_target
from chaos.drill.observer import Observer
from chaos.drill.targets import resolve_target
from chaos.drill.timeline import TimelineEntry
from chaos.errors import ActionError
from chaos.journal import Journal
from chaos.restore import restore_entry
from chaos.runner import make_action, plan_action, run_action
from kstor.errors import KstorError

DEFAULT_SIM_SPEED = 20.0
DEFAULT_SIM_SETTLE = 180.0
POLL_SECONDS = 1.0  # cluster seconds between probe checks of a wait-for step


@dataclass
class StepRecord:
    index: int
    section: str  # method | rollback
    description: str
    started: float | None = None  # cluster seconds relative to the injection
    finished: float | None = None
    ok: bool = False
    output: list[str] = field(default_factory=list)
    preview: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DrillResult:
    drill: Drill
    status: str = "error"  # passed | failed | aborted | error | dry-run
    context: str = ""
    started_at: str = ""
    steady_problems: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    figures: Times | None = None
    slos: list[SloResult] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "dry-run": 0, "aborted": 2}.get(self.status, 1)


class DrillAborted(KstorError):
    exit_code = 2


class DrillRunner:
    def __init__(
        self,
        drill: Drill,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        speed: float | None = None,
        journal: Journal | None = None,
        dry_run: bool = False,
        confirm: Callable[[list[str]], bool] | None = None,
        config: ChaosConfig | None = None,
        on_status: Callable[[str], None] | None = None,
        on_step: Callable[[StepRecord], None] | None = None,
        on_entry: Callable[[TimelineEntry], None] | None = None,
    ) -> None:
        self.drill = drill
        self.kubeconfig = kubeconfig
        self.context = context
        self.speed = speed or drill.speed or DEFAULT_SIM_SPEED
        self.journal = journal or Journal()
        self.dry_run = dry_run
        self.confirm = confirm
        self.config = config
        self.on_status = on_status or (lambda _s: None)
        self.on_step = on_step or (lambda _r: None)
        self.on_entry = on_entry
        self.result = DrillResult(drill)
        self.inject_at: float | None = None
        self._entries: dict[str, list[str]] = {}  # step label -> journal ids
        self._targets: dict[str, str] = {}  # step label -> the target it resolved to
        self._sim: Any = None

    # --- library conveniences ---------------------------------------------------------------
    async def events(self) -> AsyncIterator[tuple[str, Any]]:
        """Yield ("status", str), ("step", StepRecord), ("timeline", TimelineEntry), then ("result", ...)."""
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.on_status = lambda s: queue.put_nowait(("status", s))
        self.on_step = lambda r: queue.put_nowait(("step", r))
        self.on_entry = lambda e: queue.put_nowait(("timeline", e))
        task = asyncio.create_task(self.run())
        task.add_done_callback(lambda _t: queue.put_nowait(("end", None)))
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "end":
                    break
                yield kind, payload
            yield "result", await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- the run ----------------------------------------------------------------------------
    async def run(self) -> DrillResult:
        from chaos.session import check_guardrails

        self.result.started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.kubeconfig is None and self.context is None and self.drill.sim_scenario:
            await self._start_sim()
        else:
            # refuse a forbidden context before starting anything
            await check_guardrails(self.kubeconfig, self.context, self.config)
        try:
            return await self._run_connected()
        finally:
            await self._stop_sim()

    async def _start_sim(self) -> None:
        from kstor.sim.testing import SimServerThread

        scenario = self.drill.sim_scenario
        self.on_status(f"starting the embedded cluster (scenario {scenario}, speed {self.speed:g}x)")
        self._sim = SimServerThread(scenario=scenario, speed=self.speed)
        await asyncio.to_thread(self._sim.__enter__)
        self.kubeconfig = str(self._sim.kubeconfig)
        self.context = "kstor-sim"

    async def _stop_sim(self) -> None:
        if self._sim is not None:
            sim, self._sim = self._sim, None
            await asyncio.to_thread(sim.__exit__, None, None, None)

    async def _run_connected(self) -> DrillResult:
        from chaos.session import open_session
        from kstor.kube.cluster import Cluster

        session = await open_session(self.kubeconfig, self.context, config=self.config)
        self.result.context = session.info.context
        cluster = Cluster(await _second_connection(self.kubeconfig, session.info.context))
        cluster.start()
        env = ActionEnv(api=session.api, clock=session.clock, sim=session.sim, say=self.on_status)
        observer = Observer(
            cluster.store,
            session.clock,
            use_model=self.drill.model_steady,
            steady_probes=self.drill.steady_probes,
            watched=[s.probe for s in self.drill.slos if s.probe is not None],
            changes=cluster.store.changes(),
            on_entry=self.on_entry,
        )
        try:
            await cluster.wait_synced(timeout=60)
            if self.dry_run:
                await self._dry_run(env, cluster.store)
                return self.result
            await self._setup(env, cluster.store, session)
            observer.start()
            await self._settle(session.clock, observer)
            observer.data.timeline.clear()  # start-up noise before the steady state is not the drill's
            if self.confirm is not None and not self.confirm(self.plan_lines()):
                raise ActionError("drill not confirmed; nothing was done")
            observer.baseline_events()
            await self._method(env, cluster.store, session, observer)
            await self._observe(session.clock, observer)
            await observer.stop()
            self._judge(observer)
        except DrillAborted as exc:
            self.result.status, self.result.error = "aborted", str(exc)
        except (KstorError, asyncio.CancelledError, KeyboardInterrupt) as exc:
            self.result.status = "error"
            self.result.error = str(exc) or "interrupted"
            if not isinstance(exc, KstorError):
                raise
        finally:
            await observer.stop()
            if not self.dry_run:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._rollbacks(env, cluster.store, session)
            origin = self.inject_at or 0.0
            self.result.timeline = [replace(e, t=round(e.t - origin, 3)) for e in observer.data.timeline]
            await observer.stop()
            await cluster.close()
            await session.close()
        return self.result

    def plan_lines(self) -> list[str]:
        lines = [f"drill: {self.drill.title} (target {self.result.context or self.drill.target})"]
        lines += [f"  {i + 1}. {step.describe()}" for i, step in enumerate(self.drill.method)]
        lines += [f"  rollback: {step.describe()}" for step in self.drill.rollbacks]
        lines += [f"  SLO: {slo.title}" for slo in self.drill.slos]
        return lines

    async def _settle(self, clock: Any, observer: Observer) -> None:
        settle = self.drill.settle
        if settle is None:
            settle = DEFAULT_SIM_SETTLE if self._sim is not None else 0.0
        self.on_status("checking the steady state")
        deadline = await clock.now() + settle
        while True:
            ok, problems = observer.steady_now()
            if ok:
                return
            if await clock.now() >= deadline:
                self.result.steady_problems = problems
                shown = "; ".join(problems[:5]) + (
                    f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
                )
                raise DrillAborted(f"not steady before the drill, nothing was injected: {shown}")
            await clock.sleep(POLL_SECONDS)

    async def _setup(self, env: ActionEnv, store: Any, session: Any) -> None:
        for index, step in enumerate(self.drill.setup):
            record = StepRecord(index + 1, "setup", step.describe())
            self.result.steps.append(record)
            self.on_status(f"setup: {step.describe()}")
            try:
                await self._action(
                    step, record, env, store, session, None, inject=False, label=f"setup {step.label}"
                )
                record.ok = True
            except ActionError as exc:
                record.error = str(exc)
                raise
            finally:
                self.on_step(record)

    async def _method(self, env: ActionEnv, store: Any, session: Any, observer: Observer) -> None:
        for index, step in enumerate(self.drill.method):
            record = StepRecord(index + 1, "method", step.describe())
            self.result.steps.append(record)
            self.on_status(f"step {index + 1}: {step.describe()}")
            record.started = await self._rel(env)
            try:
                await self._step(step, record, env, store, session, observer)
                record.ok = True
            except ActionError as exc:
                record.error = str(exc)
                raise
            finally:
                record.finished = await self._rel(env)
                self.on_step(record)

    async def _rel(self, env: ActionEnv) -> float:
        now = await env.clock.now()
        return round(now - (self.inject_at if self.inject_at is not None else now), 3)

    async def _step(
        self, step: Step, record: StepRecord, env: ActionEnv, store: Any, session: Any, obs: Observer
    ) -> None:
        if isinstance(step, ActionStep):
            await self._action(step, record, env, store, session, obs, inject=True)
        elif isinstance(step, WaitStep):
            deadline = await env.clock.now() + step.timeout
            while True:
                ok, why = step.probe.check(obs.ctx)
                if ok:
                    record.output.append(f"{step.probe}: {why}" if why else str(step.probe))
                    return
                if await env.clock.now() >= deadline:
                    raise ActionError(
                        f"line {step.line}: {step.probe} did not hold within {step.timeout:g}s ({why})"
                    )
                await env.clock.sleep(POLL_SECONDS)
        elif isinstance(step, PauseStep):
            await env.clock.sleep(step.seconds)
        elif isinstance(step, UndoStep):
            record.output += await self._undo(step.label, env)

    async def _action(
        self,
        step: ActionStep,
        record: StepRecord,
        env: ActionEnv,
        store: Any,
        session: Any,
        obs: Observer | None,
        *,
        inject: bool,
        label: str | None = None,
    ) -> None:
        target = resolve_target(step.target, store, self._targets)
        self._targets.setdefault(step.label, target)
        action = make_action(step.action, target, step.options)
        if inject and obs is not None and self.inject_at is None:
            plan = await plan_action(env, action, config=self.config)
            record.preview = plan.preview.to_dict()
            self.inject_at = await env.clock.now()
            obs.origin = self.inject_at
            record.started = 0.0
        result = await run_action(
            env,
            action,
            context=session.info.context,
            kubeconfig=session.kubeconfig,
            journal=self.journal,
            config=self.config,
        )
        record.preview = result.plan.preview.to_dict()
        record.output += result.done
        if result.journal_id and (inject or label) and result.plan.restore:
            self._entries.setdefault(label or step.label, []).append(result.journal_id)

    async def _undo(self, label: str, env: ActionEnv) -> list[str]:
        done: list[str] = []
        wanted = set(self._entries.pop(label, []))
        for entry in self.journal.pending():
            if entry.id in wanted:
                done += await restore_entry(env, self.journal, entry)
        return done

    async def _observe(self, clock: Any, observer: Observer) -> None:
        """Keep measuring until steady again (or `observe` runs out) and every SLO window passed."""
        if self.inject_at is None:
            return
        windows = [s.limit for s in self.drill.slos if s.kind in ("expect", "hold")]
        give_up = max(await clock.now() + self.drill.observe, self.inject_at + 2 * max(windows, default=0.0))
        self.on_status("measuring recovery")
        while True:
            now = await clock.now()
            ok, _ = observer.steady_now()
            if now >= give_up or (ok and now >= self._windows_end(observer)):
                observer.sample(now)
                return
            await clock.sleep(POLL_SECONDS)

    async def _rollbacks(self, env: ActionEnv, store: Any, session: Any) -> None:
        # explicit rollbacks only once something was injected; journal undo always (covers setup)
        for index, step in enumerate(self.drill.rollbacks if self.inject_at is not None else []):
            record = StepRecord(index + 1, "rollback", step.describe())
            self.result.steps.append(record)
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._action(step, record, env, store, session, None, inject=False)
                record.ok = True
            except KstorError as exc:
                record.error = str(exc)
            self.on_step(record)
        # whatever this run changed and has not undone yet
        for label in reversed(list(self._entries)):
            record = StepRecord(len(self.result.steps) + 1, "rollback", f"restore {label}")
            self.result.steps.append(record)
            try:
                record.output = await self._undo(label, env)
                record.ok = True
            except KstorError as exc:
                record.error = str(exc)
            self.on_step(record)

    def _windows_end(self, observer: Observer) -> float:
        """When every expect/hold SLO window is over (a hold's window starts when it first holds)."""
        assert self.inject_at is not None
        end = self.inject_at
        for slo in self.drill.slos:
            if slo.kind == "expect":
                end = max(end, self.inject_at + slo.limit)
            elif slo.kind == "hold":
                start = hold_start(observer.data.probes.get(self._probe_index(slo), []), self.inject_at)
                end = max(end, (start if start is not None else self.inject_at) + slo.limit)
        return end

    def _judge(self, observer: Observer) -> None:
        figures = times(observer.data.steady, self.inject_at)
        self.result.figures = figures
        self.result.slos = [
            judge(
                slo,
                figures=figures,
                probe_samples=observer.data.probes.get(self._probe_index(slo), []),
                inject_at=self.inject_at,
            )
            for slo in self.drill.slos
        ]
        self.result.status = "passed" if all(s.ok for s in self.result.slos) else "failed"

    def _probe_index(self, slo: Any) -> int:
        probes = [s for s in self.drill.slos if s.probe is not None]
        return probes.index(slo) if slo in probes else -1

    async def _dry_run(self, env: ActionEnv, store: Any) -> None:
        self.result.status = "dry-run"
        for index, step in enumerate(self.drill.method):
            record = StepRecord(index + 1, "method", step.describe(), ok=True)
            if isinstance(step, ActionStep):
                try:
                    target = resolve_target(step.target, store, self._targets)
                    self._targets.setdefault(step.label, target)
                    plan = await plan_action(
                        env, make_action(step.action, target, step.options), config=self.config
                    )
                    record.preview = plan.preview.to_dict()
                    record.output = _preview_lines(plan.preview)
                except KstorError as exc:
                    record.ok, record.error = False, str(exc)
            self.result.steps.append(record)
            self.on_step(record)


def _preview_lines(preview: Preview) -> list[str]:
    return preview.lines()


async def _second_connection(kubeconfig: str | None, context: str) -> Any:
    from kstor.kube.connect import connect

    return await connect(kubeconfig, context=context)


__all__ = ["DrillResult", "DrillRunner", "StepRecord", "format_target"]
