"""Shared watch caches, indexes and work queues for the embedded cluster's control loops.

The client-go pattern, small: one `Informer` per resource per cluster (list, then watch from the
list's resourceVersion, re-list on 410) shared by every loop that uses it, so 1,000 kubelets do not
open 1,000 pod watches. An informer runs while at least one loop uses it; a stopped loop simply
stops receiving events. Cached objects are shared: loops must never mutate them.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from kstor.sim.controllers.base import Controller

if TYPE_CHECKING:
    from kstor.sim.apiserver.registry import Registry
    from kstor.sim.clock import Clock
    from kstor.sim.cluster import SimCluster

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace or "", name)
Handler = Callable[[str, str, Obj | None, Obj | None], None]  # (plural, type, old, new)
IndexFn = Callable[[Obj], Iterable[Hashable]]


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata", {})
    return (meta.get("namespace") or "", meta.get("name", ""))


class Informer:
    """A watch-fed cache of one resource with named secondary indexes."""

    def __init__(self, registry: Registry, plural: str) -> None:
        self.registry = registry
        self.plural = plural
        self.store: dict[Key, Obj] = {}
        self.synced = asyncio.Event()
        self._handlers: list[Handler] = []
        self._index_fns: dict[str, IndexFn] = {}
        self._indexes: dict[str, dict[Hashable, set[Key]]] = {}
        self._users = 0
        self._task: asyncio.Task[None] | None = None

    # --- reading ---------------------------------------------------------------------------------
    def get(self, name: str, namespace: str | None = None) -> Obj | None:
        return self.store.get((namespace or "", name))

    def by_index(self, index: str, value: Hashable) -> list[Obj]:
        keys = self._indexes[index].get(value, ())
        return [self.store[k] for k in keys if k in self.store]

    def count(self, index: str, value: Hashable) -> int:
        return len(self._indexes[index].get(value, ()))

    def index_values(self, index: str) -> list[Hashable]:
        return list(self._indexes[index])

    def add_index(self, name: str, fn: IndexFn) -> None:
        if name in self._index_fns:
            return
        self._index_fns[name] = fn
        table: dict[Hashable, set[Key]] = {}
        self._indexes[name] = table
        for key, obj in self.store.items():
            for value in fn(obj):
                table.setdefault(value, set()).add(key)

    # --- feeding ---------------------------------------------------------------------------------
    def observe(self, obj: Obj, *, deleted: bool = False) -> None:
        """Record the result of this process's own write at once (client-go's mutation cache), so a
        loop does not act twice on a stale cache before the watch event arrives."""
        if deleted:
            if key_of(obj) in self.store:
                self._apply("DELETED", obj)
            return
        self._apply("MODIFIED" if key_of(obj) in self.store else "ADDED", obj)

    def _apply(self, event_type: str, obj: Obj) -> None:
        key = key_of(obj)
        old = self.store.get(key)
        if old is not None:
            self._unindex(key, old)
        if event_type == "DELETED":
            self.store.pop(key, None)
        else:
            self.store[key] = obj
            for name, fn in self._index_fns.items():
                for value in fn(obj):
                    self._indexes[name].setdefault(value, set()).add(key)
        for handler in list(self._handlers):
            try:
                handler(self.plural, event_type, old, obj)
            except Exception:
                log.exception("informer handler for %s failed", self.plural)

    def _unindex(self, key: Key, obj: Obj) -> None:
        for name, fn in self._index_fns.items():
            table = self._indexes[name]
            for value in fn(obj):
                keys = table.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del table[value]

    async def _run(self) -> None:
        while True:
            items, rv = self._list()
            seen: set[Key] = set()
            for item in items:
                key = key_of(item)
                seen.add(key)
                self._apply("MODIFIED" if key in self.store else "ADDED", item)
            for gone in [k for k in self.store if k not in seen]:  # deletions a broken watch missed
                self._apply("DELETED", self.store[gone])
            self.synced.set()
            watch = self.registry.watch(self.plural, resource_version=rv)
            try:
                await self._consume(watch)
            finally:
                watch.close()
            await asyncio.sleep(0)

    def _list(self) -> tuple[list[Obj], str | None]:
        # The registry's stored dicts are copy-on-write, so the cache may share them (no copies).
        list_entries = getattr(self.registry, "list_entries", None)
        if list_entries is not None:
            entries, meta = list_entries(self.plural)
            return [e.obj for e in entries], meta.get("resourceVersion")
        listed = self.registry.list(self.plural)
        return listed.get("items", []), listed.get("metadata", {}).get("resourceVersion")

    async def _consume(self, watch: Any) -> None:
        next_batch = getattr(watch, "next_batch", None)
        if next_batch is None:
            async for event_type, obj in watch:
                if event_type == "ERROR":
                    return
                if event_type in ("ADDED", "MODIFIED", "DELETED"):
                    self._apply(event_type, obj)
            return
        while True:
            batch = await next_batch()
            if not batch:
                return
            for event_type, item in batch:
                if event_type == "ERROR":
                    return
                if event_type in ("ADDED", "MODIFIED", "DELETED"):
                    obj = getattr(item, "obj", item)
                    if not self._already_observed(event_type, obj):
                        self._apply(event_type, obj)

    def _already_observed(self, event_type: str, obj: Obj) -> bool:
        """True for a watch event that `observe()` has already applied (a loop's own write, handlers
        already told) or that is older than the cached version: delivering it again would make every
        loop react twice to each write and could move the cache back in time."""
        cached = self.store.get(key_of(obj))
        if cached is None:
            return event_type == "DELETED"  # observe(deleted=True) got there first
        if event_type == "DELETED":
            return False
        try:
            return int(obj["metadata"]["resourceVersion"]) <= int(cached["metadata"]["resourceVersion"])
        except (KeyError, TypeError, ValueError):
            return False

    # --- sharing ---------------------------------------------------------------------------------
    def add_handler(self, handler: Handler) -> None:
        if handler not in self._handlers:
            self._handlers.append(handler)

    def remove_handler(self, handler: Handler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    async def acquire(self, handler: Handler | None) -> None:
        self._users += 1
        if handler is not None:
            self._handlers.append(handler)
        if self._task is None or self._task.done():
            self.synced.clear()
            self._task = asyncio.get_running_loop().create_task(
                self._guarded(), name=f"informer:{self.plural}"
            )
        await self.synced.wait()

    def release(self, handler: Handler | None) -> None:
        if handler is not None and handler in self._handlers:
            self._handlers.remove(handler)
        self._users -= 1
        if self._users <= 0 and self._task is not None:
            self._task.cancel()
            self._task = None
            self.synced.clear()

    async def _guarded(self) -> None:
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("informer %s failed; re-listing", self.plural)
                await asyncio.sleep(0.05)


class SharedInformers:
    """One informer per resource for a cluster's registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._informers: dict[str, Informer] = {}

    def informer(self, plural: str) -> Informer:
        inf = self._informers.get(plural)
        if inf is None:
            inf = self._informers[plural] = Informer(self.registry, plural)
        return inf

    @contextlib.asynccontextmanager
    async def use(self, plurals: Iterable[str], handler: Handler | None) -> AsyncIterator[None]:
        acquired: list[Informer] = []
        try:
            for plural in plurals:
                inf = self.informer(plural)
                acquired.append(inf)
                await inf.acquire(handler)
            yield
        finally:
            for inf in acquired:
                inf.release(handler)


_SHARED: weakref.WeakKeyDictionary[Any, SharedInformers] = weakref.WeakKeyDictionary()


def shared_informers(cluster: SimCluster) -> SharedInformers:
    found = _SHARED.get(cluster.registry)
    if found is None:
        found = _SHARED[cluster.registry] = SharedInformers(cluster.registry)
    return found


class WorkQueue:
    """Deduplicating queue of keys with delayed re-adds on the sim clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._queue: deque[Hashable] = deque()
        self._queued: set[Hashable] = set()
        self._delayed: list[tuple[float, int, Hashable]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def add(self, key: Hashable) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.append(key)
            self._wake.set()

    def add_after(self, key: Hashable, sim_seconds: float) -> None:
        if sim_seconds <= 0:
            self.add(key)
            return
        heapq.heappush(self._delayed, (self.clock.elapsed() + sim_seconds, next(self._seq), key))
        self._wake.set()

    def __len__(self) -> int:
        return len(self._queue)

    def _promote_due(self) -> float | None:
        now = self.clock.elapsed()
        while self._delayed and self._delayed[0][0] <= now:
            self.add(heapq.heappop(self._delayed)[2])
        return self._delayed[0][0] - now if self._delayed else None

    async def get_batch(self) -> list[Hashable]:
        while True:
            wait = self._promote_due()
            if self._queue:
                batch = list(self._queue)
                self._queue.clear()
                self._queued.clear()
                return batch
            self._wake.clear()
            if wait is None:
                await self._wake.wait()
                continue
            if not getattr(self.clock, "manual", False):
                # A timer callback instead of a sleeping task raced against a waiting task: a
                # thousand idle kubelets each arm one of these per wake-up.
                timer = asyncio.get_running_loop().call_later(wait / self.clock.speed, self._wake.set)
                try:
                    await self._wake.wait()
                finally:
                    timer.cancel()
                continue
            waiter = asyncio.ensure_future(self._wake.wait())
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            try:
                await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                sleeper.cancel()


RESYNC = ("__resync__",)
SLICE_SECONDS = 0.01
RESYNC_REAL_PER_1000_KEYS = 2.0


class QueueLoop(Controller):
    """A loop that reacts to informer events through a work queue, plus an optional periodic resync.

    Subclasses set `plurals`, implement `on_event` (enqueue keys), `enqueue_all` and `sync(key)`;
    `sync` may return a delay in sim seconds to look at the key again.
    """

    plurals: tuple[str, ...] = ()
    resync_seconds: float | None = None
    resync_real_floor: float = 0.0

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster
        self.registry = cluster.registry
        self.clock = cluster.clock
        self.informers = shared_informers(cluster)
        self.queue = WorkQueue(self.clock)
        self._slice_start = time.perf_counter()

    def inf(self, plural: str) -> Informer:
        return self.informers.informer(plural)

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        self.queue.add(RESYNC)

    def enqueue_all(self) -> None:
        """Put every key this loop manages on the queue (start and periodic resync)."""

    async def sync(self, key: Hashable) -> float | None:
        raise NotImplementedError

    def setup(self) -> None:
        """Register indexes (called before the informers start)."""

    def resync_keys(self) -> int:
        """How many keys a full resync queues (its real-time floor grows with it)."""
        return 0

    def resync_interval(self) -> float | None:
        if self.resync_seconds is None:
            return None
        # A full resync every 60 sim seconds is every 60 ms at speed 1000: floor it in real time, and
        # by 2 s more per 1,000 keys, so the safety net stays a small share of one core on a big cluster.
        real = self.resync_real_floor + RESYNC_REAL_PER_1000_KEYS * self.resync_keys() / 1000
        return max(self.resync_seconds, real * float(getattr(self.clock, "speed", 1.0)))

    async def run(self) -> None:
        self.queue = WorkQueue(self.clock)
        self.setup()
        async with self.informers.use(self.plurals, self.on_event):
            self.enqueue_all()
            interval = self.resync_interval()
            if interval:
                self.queue.add_after(RESYNC, interval)
            while True:
                for key in await self.queue.get_batch():
                    if key == RESYNC:
                        self.enqueue_all()
                        interval = self.resync_interval()
                        if interval:
                            self.queue.add_after(RESYNC, interval)
                        continue
                    await self._sync_one(key)
                    await self.pace()

    async def pace(self) -> None:
        """Yield after ~10 ms of work: one loop's big batch must not starve the others, and yielding
        after every key would leave a busy loop one key per turn of a crowded event loop.
        On a manual clock it yields after every key: the interleaving must not depend on CPU speed."""
        if self.clock.manual:
            await asyncio.sleep(0)
            return
        now = time.perf_counter()
        if now - self._slice_start >= SLICE_SECONDS:
            await asyncio.sleep(0)
            self._slice_start = time.perf_counter()

    async def _sync_one(self, key: Hashable) -> None:
        try:
            delay = await self.sync(key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("%s: sync %s failed: %s", self.name, key, exc, exc_info=True)
            delay = 1.0
        if delay is not None:
            self.queue.add_after(key, delay)
