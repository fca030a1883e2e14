"""The live feed: kstor.kube informers + kstor.model on their own thread and event loop.

The dashboard's event loop only paints; list/watch decoding, the Store, the model and row building
happen here, so a watch storm can slow frames down but never freezes a key press. Frames are
coalesced: at most one per `min_interval` (20 Hz), plus one a second so ages and rates move; the
first change after a quiet spell is drawn at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from kstor.errors import KstorError
from kstor.model.types import Change
from kstor.tui.feed import FailureSink, FrameSink, Observers
from kstor.tui.frame import ClusterLabel, FrameBuilder, Health

log = logging.getLogger(__name__)
BAD_STATES = ("forbidden", "unavailable", "reconnecting")
STORE_WINDOW = 0.005  # seconds the Store may hold changes before handing them to the feed
HEALTH_POLL = 0.1  # seconds between informer health checks while nothing changes


class EventRate:
    """Watch events per second over the last `window` seconds (for the header's sparkline)."""

    def __init__(self, window: int = 30) -> None:
        self.buckets: deque[tuple[int, int]] = deque(maxlen=window)

    def add(self, n: int, now: float) -> None:
        second = int(now)
        if self.buckets and self.buckets[-1][0] == second:
            self.buckets[-1] = (second, self.buckets[-1][1] + n)
        else:
            self.buckets.append((second, n))

    def series(self, now: float) -> tuple[float, ...]:
        counts = dict(self.buckets)
        last = int(now)
        return tuple(float(counts.get(s, 0)) for s in range(last - 29, last + 1))


def banner_for(health: dict[str, Health]) -> str:
    bad = [(k, h) for k, h in health.items() if h.state in BAD_STATES]
    if not bad:
        return ""
    parts = [f"{kind}: {h.state}{' (' + h.error + ')' if h.error else ''}" for kind, h in bad[:3]]
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return "⚠ " + "; ".join(parts) + more + " — showing the last known state"


class LiveFeed(Observers):
    """`connect()` (blocking, raises KstorError), then `start(on_frame, on_failure)`, then `await stop()`."""

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespaces: list[str] | None = None,
        min_interval: float = 0.05,
        sync_timeout: float = 20.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.kubeconfig, self.context, self.namespaces = kubeconfig, context, namespaces
        self.min_interval, self.sync_timeout, self.clock = min_interval, sync_timeout, clock
        self.cluster = ClusterLabel(context or "(current context)")
        self.kube: Any = None  # kstor.kube.cluster.Cluster once connected
        self._sink: FrameSink | None = None
        self._failure: FailureSink | None = None
        self._ready = threading.Event()
        self._sink_set = threading.Event()
        self._error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self.started_at = 0.0
        self.first_frame_at: float | None = None  # monotonic seconds from connect() to the first full frame
        # Screens are built once something shows them (see want()): on a 10,000-pod cluster the Binding
        # and Attachments screens are most of the first frame's CPU, and most sessions start on Nodes.
        self._wanted: frozenset[str] = frozenset({"nodes"})
        self._wanted_changed = False
        self._wake: asyncio.Event | None = None
        self.frames = 0
        # Feed-thread CPU seconds in the model's incremental updates and in frame building (benchmarks).
        self.model_cpu = 0.0
        self.frame_cpu = 0.0

    # -- lifecycle ------------------------------------------------------------------
    def connect(self, timeout: float = 60.0) -> None:
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._thread_main, name="kstor-feed", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise KstorError(f"timed out after {timeout:g}s connecting to {self.cluster.context}")
        if self._error is not None:
            raise KstorError(self._error)

    def start(self, on_frame: FrameSink, on_failure: FailureSink) -> None:
        self._sink, self._failure = on_frame, on_failure
        if self._thread is None:  # not connected yet: do it in the background, report failures
            self.started_at = time.monotonic()
            self._thread = threading.Thread(target=self._thread_main, name="kstor-feed", daemon=True)
            self._thread.start()
        self._sink_set.set()

    def want(self, screens: Iterable[str]) -> None:
        """Build these screens from now on (any thread); the next frame brings them."""
        new = self._wanted | set(screens)
        if new == self._wanted:
            return
        self._wanted = frozenset(new)
        self._wanted_changed = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the feed's loop has closed
                loop.call_soon_threadsafe(wake.set)

    async def stop(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 10)

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(self._main())
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._task)
        finally:
            loop.close()

    # -- the work -------------------------------------------------------------------
    async def _main(self) -> None:
        from kstor.kube.cluster import Cluster

        try:
            self.kube = await Cluster.open(self.kubeconfig, context=self.context, namespaces=self.namespaces)
        except KstorError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # an unexpected failure still reaches the user as one line
            self._fail(f"cannot connect: {exc.__class__.__name__}: {exc}")
            return
        try:
            info = self.kube.info
            self.cluster = ClusterLabel(info.context, info.server, info.is_sim)
            if info.is_sim:
                await self._follow_sim_clock()
            self._ready.set()
            await self._run()
        finally:
            with contextlib.suppress(Exception):
                await self.kube.close()

    async def _follow_sim_clock(self) -> None:
        """Ages on the embedded cluster are measured on its clock, which may run faster than ours."""
        from kstor.sim.clock import parse_timestamp

        try:
            body = await self.kube.connection.transport.request("GET", "/_sim/clock")
            sim_now, speed = parse_timestamp(str(body["now"])).timestamp(), float(body["speed"])
        except Exception as exc:  # an older sim, or a cluster that only looks like one: keep wall time
            log.info("sim clock not readable (%s); ages use this machine's clock", exc)
            return
        wall_origin = self.clock()
        if body.get("manual"):
            self.clock = lambda: sim_now
        else:
            self.clock = lambda: sim_now + (time.time() - wall_origin) * speed

    def _fail(self, error: str) -> None:
        self._error = error
        self._ready.set()
        if self._failure is not None:
            self._failure(error)

    async def _run(self) -> None:
        from kstor.kube.informer import HealthState
        from kstor.model.builder import TopologyBuilder

        kube = self.kube
        store = kube.store
        loop = asyncio.get_running_loop()
        pending: list[Change] = []
        wake = self._wake = asyncio.Event()

        def arrived(batch: list[Change]) -> None:
            pending.extend(batch)
            wake.set()

        # The feed coalesces changes itself (one frame per min_interval), so the Store's own batching
        # window would only add its length to every event's time to the screen.
        store.batch_window = min(store.batch_window, STORE_WINDOW)
        store.subscribe(arrived)
        with contextlib.suppress(KstorError):
            await kube.wait_synced(self.sync_timeout, allow=(HealthState.FORBIDDEN, HealthState.UNAVAILABLE))
        await loop.run_in_executor(None, self._sink_set.wait)
        store.flush()
        pending.clear()
        # The synced store is long-lived: freeze it (here, and again after the first frame with the model
        # and rows) so the collector does not re-scan it on every gen-2 pass while the first frame is
        # built (on the large cluster the model build and first frame took ~40% less CPU) and later
        # (a pause of hundreds of ms on a 50,000-object store, felt as a stuck key).
        gc.freeze()
        frames = FrameBuilder(self.cluster)
        model = TopologyBuilder(store)
        rate = EventRate()
        topology = model.build()
        changed: set[str] | None = None  # None: build every screen (the first frame)
        batch: list[Change] = []

        def current_health() -> dict[str, Health]:
            return {k: Health(h.state.value, h.error) for k, h in kube.health().items()}

        while True:
            started = loop.time()
            health = current_health()
            if pending:
                batch, pending[:] = list(pending), []
                rate.add(len(batch), self.clock())
                cpu = time.thread_time()
                topology = model.apply(batch)
                self.model_cpu += time.thread_time() - cpu
                changed = (set() if changed is None else changed) | {c.kind for c in batch}
            wake.clear()
            self._wanted_changed = False
            self._emit(frames, store, topology, changed=changed, changes=batch, health=health, rate=rate)
            if changed is None:
                gc.freeze()  # the model and the first rows, see above
            changed, batch = set(), []
            # At most one frame per interval (20 Hz), counted from this frame's start, so a change that
            # follows a quiet spell is drawn at once; then wait for a change, a health change, or the
            # once-a-second frame that moves ages and rates.
            await asyncio.sleep(max(0.0, started + self.min_interval - loop.time()))
            while not pending and not self._wanted_changed and loop.time() < started + 1.0:
                if current_health() != health:
                    break
                timeout = min(HEALTH_POLL, started + 1.0 - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), max(timeout, 0.0))

    def _emit(
        self,
        frames: FrameBuilder,
        store: Any,
        topology: Any,
        *,
        changed: set[str] | None,
        changes: list[Change],
        health: dict[str, Health],
        rate: EventRate,
    ) -> None:
        now = self.clock()
        cpu = time.thread_time()
        frame = frames.build(
            store,
            topology,
            now=datetime.fromtimestamp(now, UTC),
            changed=changed,
            changes=changes,
            health=health,
            event_rate=rate.series(now),
            banner=banner_for(health),
            screens=self._wanted,
        )
        self.frames += 1
        self.frame_cpu += time.thread_time() - cpu
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic() - self.started_at
        self.notify(frame)
        if self._sink is not None:
            self._sink(frame)
