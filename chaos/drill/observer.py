"""Watches the Store the dashboard uses and measures: steady or not at each moment, each SLO
probe's value, and the timeline of controller activity — all on the cluster's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chaos.clock import ClusterClock
from chaos.drill.probes import Probe, ProbeContext, View
from chaos.drill.timeline import WATCHED, TimelineEntry, describe

Obj = dict[str, Any]
TICK_REAL_SECONDS = 0.05


@dataclass
class Sample:
    t: float
    ok: bool
    detail: str = ""


@dataclass
class Measurements:
    steady: list[Sample] = field(default_factory=list)
    probes: dict[int, list[Sample]] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)


class ModelSteady:
    """kstor.model's steady() on a topology kept up to date incrementally from the Store's batches."""

    def __init__(self, view: Any) -> None:
        from kstor.model.builder import TopologyBuilder

        self._builder = TopologyBuilder(view)
        self._topology = self._builder.build()
        self._cached: tuple[int, tuple[bool, list[str]]] | None = None

    def apply(self, batch: list[Any]) -> None:
        self._topology = self._builder.apply(batch)

    def result(self) -> tuple[bool, list[str]]:
        from kstor.model.steady import steady

        generation = self._topology.generation
        if self._cached is None or self._cached[0] != generation:
            verdict = steady(self._topology)
            self._cached = (generation, (bool(verdict.ok), list(verdict.problems)))
        return self._cached[1]


class Observer:
    def __init__(
        self,
        view: View,
        clock: ClusterClock,
        *,
        use_model: bool,
        steady_probes: list[Probe],
        watched: list[Probe],
        subscribe: Callable[[Callable[[list[Any]], None]], Callable[[], None]] | None = None,
        on_entry: Callable[[TimelineEntry], None] | None = None,
    ) -> None:
        self.view = view
        self.clock = clock
        self.use_model = use_model
        self.steady_probes = steady_probes
        self.watched = watched
        self.subscribe = subscribe  # Store.subscribe: change batches as the Store delivers them
        self.on_entry = on_entry
        self.data = Measurements()
        self.origin = 0.0  # live timeline entries are relative to this (the injection, once known)
        self.ctx = ProbeContext(view=view, steady=self.steady_now)
        self._seen: dict[tuple[str, str, str], Obj] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._model: ModelSteady | None = None
        self._batches: asyncio.Queue[list[Any]] = asyncio.Queue()
        self._unsubscribe: Callable[[], None] | None = None

    # --- state ------------------------------------------------------------------------------
    def steady_now(self) -> tuple[bool, list[str]]:
        problems: list[str] = []
        if self.use_model:
            if self._model is None:
                self._model = ModelSteady(self.view)
            ok, found = self._model.result()
            problems += found if not ok else []
        for probe in self.steady_probes:
            ok, why = probe.check(self.ctx)
            if not ok:
                problems.append(f"{probe}: {why}")
        return not problems, problems

    def baseline_events(self) -> None:
        """From now on only new events (or new counts) count for event probes."""
        self.ctx.baseline_events = {
            _event_key(e): int(e.get("count") or 1) for e in self.view.objects("Event")
        }

    def sample(self, t: float) -> None:
        ok, problems = self.steady_now()
        self.data.steady.append(Sample(t, ok, "; ".join(problems[:5])))
        for index, probe in enumerate(self.watched):
            good, why = probe.check(self.ctx)
            self.data.probes.setdefault(index, []).append(Sample(t, good, why))

    # --- timeline ---------------------------------------------------------------------------
    def prime(self) -> None:
        for kind in WATCHED:
            for obj in self.view.objects(kind):
                self._seen[_key(kind, obj)] = obj

    def record(self, t: float, kind: str, new: Obj | None, old_key_obj: Obj) -> None:
        key = _key(kind, old_key_obj)
        old = self._seen.get(key)
        if new is None:
            self._seen.pop(key, None)
        else:
            self._seen[key] = new
        who, changes = describe(kind, old, new)
        for change in changes:
            entry = TimelineEntry(t, kind, who, change)  # absolute; rebased on the injection at the end
            self.data.timeline.append(entry)
            if self.on_entry is not None:
                self.on_entry(replace(entry, t=round(t - self.origin, 3)))

    # --- running ----------------------------------------------------------------------------
    def start(self) -> None:
        # build and subscribe in one synchronous step, so no batch falls between them
        self.prime()
        if self.use_model:
            self._model = ModelSteady(self.view)
        if self.subscribe is not None:
            self._unsubscribe = self.subscribe(self._batches.put_nowait)
            self._tasks.append(asyncio.create_task(self._consume()))
        self._tasks.append(asyncio.create_task(self._tick()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def _consume(self) -> None:
        while True:
            batch = await self._batches.get()
            if self._model is not None:
                self._model.apply(batch)
            t = await self.clock.now()
            for change in batch:
                if change.kind not in WATCHED:
                    continue
                gone = str(change.type) == "DELETED"
                self.record(t, change.kind, None if gone else change.obj, change.obj)
            self.sample(t)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_REAL_SECONDS)
            self.sample(await self.clock.now())


def _key(kind: str, obj: Obj) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return kind, str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _event_key(event: Obj) -> str:
    meta = event.get("metadata") or {}
    return str(meta.get("uid") or meta.get("name") or "")
