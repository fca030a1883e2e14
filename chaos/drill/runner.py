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
from typing import TYPE_CHECKING, Any

from chaos.actions import ActionEnv
from chaos.config import ChaosConfig
from chaos.drill.measure import SloResult, Times, hold_start, judge, times
from chaos.drill.model import ActionStep, Drill, PauseStep, Slo, Step, UndoStep, WaitStep
from chaos.drill.observer import Observer
from chaos.drill.probes import View
from chaos.drill.targets import resolve_target
from chaos.drill.timeline import TimelineEntry
from chaos.errors import ActionError, ConfirmationRefused
from chaos.journal import Journal
from chaos.restore import restore_entry
from chaos.runner import make_action, plan_action, run_action
from kstor.errors import KstorError

if TYPE_CHECKING:
    from chaos.session import Session

DEFAULT_SIM_SPEED = 20.0
DEFAULT_SIM_SETTLE = 600.0
POLL_SECONDS = 1.0  # cluster seconds between probe checks of a wait-for step


@dataclass
class StepRecord:
    index: int
    section: str  # setup | method | rollback
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


@dataclass
class _Live:
    """What a connected run works with."""

    session: Session
    env: ActionEnv
    view: View
    observer: Observer


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
        self._entries: dict[str, list[str]] = {}  # step label -> journal ids still to undo
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
        from kstor.kube.connect import connect
        from kstor.kube.informer import HealthState

        session = await open_session(self.kubeconfig, self.context, config=self.config)
        self.result.context = session.info.context
        # the Store the dashboard would show, on a connection of its own
        cluster = Cluster(await connect(self.kubeconfig, context=session.info.context))
        cluster.start()
        observer = Observer(
            cluster.store,
            session.clock,
            use_model=self.drill.model_steady,
            steady_probes=self.drill.steady_probes,
            watched=[s.probe for s in self.drill.slos if s.probe is not None],
            subscribe=cluster.store.subscribe,
            on_entry=self.on_entry,
        )
        env = ActionEnv(api=session.api, clock=session.clock, sim=session.sim, say=self.on_status)
        live = _Live(session, env, cluster.store, observer)
        try:
            # a kind RBAC forbids (often Events) leaves its probes blind but the drill can run
            await cluster.wait_synced(timeout=60, allow=(HealthState.FORBIDDEN,))
            self._warn_forbidden(cluster)
            if self.dry_run:
                await self._dry_run(live)
                return self.result
            await self._drill(live)
        except ConfirmationRefused:
            raise
        except DrillAborted as exc:
            self.result.status, self.result.error = "aborted", str(exc)
        except (KstorError, asyncio.CancelledError, KeyboardInterrupt) as exc:
            self.result.status, self.result.error = "error", str(exc) or "interrupted"
            if not isinstance(exc, KstorError):
                raise
        finally:
            await observer.stop()
            if not self.dry_run:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._rollbacks(live)
            origin = self.inject_at or 0.0
            self.result.timeline = [replace(e, t=round(e.t - origin, 3)) for e in observer.data.timeline]
            await cluster.close()
            await session.close()
        return self.result

    def _warn_forbidden(self, cluster: Any) -> None:
        for kind, health in cluster.health().items():
            if str(health.state) == "forbidden":
                self.on_status(f"warning: cannot watch {kind} (forbidden): probes on it see nothing")

    async def _drill(self, live: _Live) -> None:
        if self.confirm is not None and not self.confirm(self.plan_lines()):
            raise ConfirmationRefused(f"drill {self.drill.title!r} not confirmed; nothing was done")
        await self._setup(live)
        live.observer.start()
        await self._settle(live)
        live.observer.data.timeline.clear()  # start-up noise before the steady state is not the drill's
        live.observer.baseline_events()
        failure = await self._method(live)
        await self._observe(live)
        await live.observer.stop()
        self._judge(live.observer, failure)

    def plan_lines(self) -> list[str]:
        lines = [f"drill: {self.drill.title} (target {self.result.context or self.drill.target})"]
        lines += [f"  setup: {step.describe()}" for step in self.drill.setup]
        lines += [f"  {i + 1}. {step.describe()}" for i, step in enumerate(self.drill.method)]
        lines += [f"  rollback: {step.describe()}" for step in self.drill.rollbacks]
        lines += [f"  SLO: {slo.title}" for slo in self.drill.slos]
        return lines

    async def _settle(self, live: _Live) -> None:
        settle = self.drill.settle
        if settle is None:
            settle = DEFAULT_SIM_SETTLE if self._sim is not None else 0.0
        self.on_status("checking the steady state")
        clock = live.env.clock
        deadline = await clock.now() + settle
        while True:
            ok, problems = live.observer.steady_now()
            if ok:
                return
            if await clock.now() >= deadline:
                self.result.steady_problems = problems
                more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
                shown = "; ".join(problems[:5]) + more
                raise DrillAborted(f"not steady before the drill, nothing was injected: {shown}")
            await clock.sleep(POLL_SECONDS)

    # --- steps ------------------------------------------------------------------------------
    async def _setup(self, live: _Live) -> None:
        for index, step in enumerate(self.drill.setup):
            record = StepRecord(index + 1, "setup", step.describe())
            self.result.steps.append(record)
            self.on_status(f"setup: {step.describe()}")
            try:
                await self._action(step, record, live, journal_as=f"setup {step.label}")
                record.ok = True
            except ActionError as exc:
                record.error = str(exc)
                raise
            finally:
                self.on_step(record)

    async def _method(self, live: _Live) -> str | None:
        """Run the method; a failing step ends it (the drill fails) but measuring goes on."""
        for index, step in enumerate(self.drill.method):
            record = StepRecord(index + 1, "method", step.describe())
            self.result.steps.append(record)
            self.on_status(f"step {index + 1}: {step.describe()}")
            record.started = await self._since_injection(live)
            try:
                await self._step(step, record, live)
                record.ok = True
            except ActionError as exc:
                record.error = str(exc)
                return f"step {index + 1} ({step.describe()}) failed: {exc}"
            finally:
                record.finished = await self._since_injection(live)
                self.on_step(record)
        return None

    async def _since_injection(self, live: _Live) -> float:
        now = await live.env.clock.now()
        return round(now - (self.inject_at if self.inject_at is not None else now), 3)

    async def _step(self, step: Step, record: StepRecord, live: _Live) -> None:
        clock = live.env.clock
        if isinstance(step, ActionStep):
            await self._action(step, record, live, inject=True, journal_as=step.label)
        elif isinstance(step, WaitStep):
            deadline = await clock.now() + step.timeout
            while True:
                ok, why = step.probe.check(live.observer.ctx)
                if ok:
                    record.output.append(f"{step.probe}: {why}" if why else str(step.probe))
                    return
                if await clock.now() >= deadline:
                    raise ActionError(f"line {step.line}: not within {step.timeout:g}s ({why})")
                await clock.sleep(POLL_SECONDS)
        elif isinstance(step, PauseStep):
            await clock.sleep(step.seconds)
        elif isinstance(step, UndoStep):
            record.output += await self._undo(step.label, live.env)

    async def _action(
        self,
        step: ActionStep,
        record: StepRecord,
        live: _Live,
        *,
        inject: bool = False,
        journal_as: str | None = None,
    ) -> None:
        """Run one action; `inject` marks the drill's clock zero at the first one; `journal_as`
        keeps its journal entry for `undo:` and the final rollback."""
        target = resolve_target(step.target, live.view, self._targets)
        self._targets.setdefault(step.label, target)
        if isinstance(step.target, dict):
            record.description = f"{step.describe()} = {target}"
        action = make_action(step.action, target, step.options)
        if inject and self.inject_at is None:
            record.preview = (await plan_action(live.env, action, config=self.config)).preview.to_dict()
            self.inject_at = await live.env.clock.now()
            live.observer.origin = self.inject_at
            record.started = 0.0
        result = await run_action(
            live.env,
            action,
            context=live.session.info.context,
            kubeconfig=live.session.kubeconfig,
            journal=self.journal,
            config=self.config,
        )
        record.preview = result.plan.preview.to_dict()
        record.output += result.done
        if result.journal_id and journal_as and result.plan.restore:
            self._entries.setdefault(journal_as, []).append(result.journal_id)

    async def _undo(self, label: str, env: ActionEnv) -> list[str]:
        done: list[str] = []
        wanted = set(self._entries.pop(label, []))
        for entry in self.journal.pending():
            if entry.id in wanted:
                done += await restore_entry(env, self.journal, entry)
        return done

    async def _rollbacks(self, live: _Live) -> None:
        # explicit rollbacks once something was injected; the journal undo always (it covers setup)
        for index, step in enumerate(self.drill.rollbacks if self.inject_at is not None else []):
            record = StepRecord(index + 1, "rollback", step.describe())
            self.result.steps.append(record)
            try:
                await self._action(step, record, live)
                record.ok = True
            except KstorError as exc:
                record.error = str(exc)
            self.on_step(record)
        for label in reversed(list(self._entries)):
            record = StepRecord(len(self.result.steps) + 1, "rollback", f"restore {label}")
            self.result.steps.append(record)
            try:
                record.output = await self._undo(label, live.env)
                record.ok = True
            except KstorError as exc:
                record.error = str(exc)
            self.on_step(record)

    # --- measuring --------------------------------------------------------------------------
    async def _observe(self, live: _Live) -> None:
        """Keep measuring until steady again (or `observe` runs out) and every SLO window passed."""
        if self.inject_at is None:
            return
        clock, observer = live.env.clock, live.observer
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

    def _samples(self, observer: Observer, slo: Slo) -> list[Any]:
        with_probe = [s for s in self.drill.slos if s.probe is not None]
        return observer.data.probes.get(with_probe.index(slo), []) if slo in with_probe else []

    def _windows_end(self, observer: Observer) -> float:
        """When every expect/hold SLO window is over (a hold's window starts when it first holds)."""
        assert self.inject_at is not None
        end = self.inject_at
        for slo in self.drill.slos:
            if slo.kind == "expect":
                end = max(end, self.inject_at + slo.limit)
            elif slo.kind == "hold":
                start = hold_start(self._samples(observer, slo), self.inject_at)
                end = max(end, (start if start is not None else self.inject_at) + slo.limit)
        return end

    def _judge(self, observer: Observer, failure: str | None) -> None:
        figures = times(observer.data.steady, self.inject_at)
        self.result.figures = figures
        self.result.slos = [
            judge(slo, figures=figures, probe_samples=self._samples(observer, slo), inject_at=self.inject_at)
            for slo in self.drill.slos
        ]
        self.result.error = failure
        passed = failure is None and all(s.ok for s in self.result.slos)
        self.result.status = "passed" if passed else "failed"

    async def _dry_run(self, live: _Live) -> None:
        self.result.status = "dry-run"
        for index, step in enumerate(self.drill.method):
            record = StepRecord(index + 1, "method", step.describe(), ok=True)
            if isinstance(step, ActionStep):
                try:
                    target = resolve_target(step.target, live.view, self._targets)
                    self._targets.setdefault(step.label, target)
                    action = make_action(step.action, target, step.options)
                    plan = await plan_action(live.env, action, config=self.config)
                    record.preview, record.output = plan.preview.to_dict(), plan.preview.lines()
                except KstorError as exc:
                    record.ok, record.error = False, str(exc)
            self.result.steps.append(record)
            self.on_step(record)


__all__ = ["DrillResult", "DrillRunner", "StepRecord"]
