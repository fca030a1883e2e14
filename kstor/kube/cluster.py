"""`Cluster`: one connection, one informer per watched kind (and namespace), one Store."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable
from types import TracebackType

from kstor.errors import KstorError
from kstor.kube import gctune
from kstor.kube.client import KubeClient
from kstor.kube.connect import ClusterInfo, Connection, connect
from kstor.kube.informer import Health, HealthState, Informer, InformerOptions
from kstor.kube.kinds import WATCHED_KINDS, is_storage_event, resolve_kind
from kstor.kube.store import Store

# Worst first: a kind's health is its worst namespace's.
_SEVERITY = [HealthState.FORBIDDEN, HealthState.UNAVAILABLE, HealthState.RECONNECTING,
             HealthState.SYNCING, HealthState.SYNCED]


class Cluster:
    """Start with `await Cluster.open(...)`, or `Cluster(conn)` then `start()`; always `await close()`."""

    def __init__(
        self,
        connection: Connection,
        *,
        kinds: Iterable[str] = WATCHED_KINDS,
        namespaces: Iterable[str] | None = None,
        events: str = "storage",  # "storage" | "all" | "none"
        options: InformerOptions | None = None,
        store: Store | None = None,
        tune_gc: bool = True,
    ) -> None:
        if events not in ("storage", "all", "none"):
            raise KstorError(f"events must be storage, all or none, not {events!r}")
        self.connection = connection
        self.store = store or Store()
        self.client = KubeClient(connection.transport)
        self.namespaces = sorted(set(namespaces)) if namespaces else None
        self._health_listeners: list[Callable[[str, Health], None]] = []
        self.informers: list[Informer] = []
        for name in kinds:
            kind = resolve_kind(name)
            if kind.kind == "Event" and events == "none":
                continue
            keep = is_storage_event if kind.kind == "Event" and events == "storage" else None
            scopes: list[str | None] = [None]
            if kind.namespaced and self.namespaces:
                scopes = list(self.namespaces)
            for ns in scopes:
                self.informers.append(Informer(
                    transport=connection.transport, store=self.store, kind=kind, namespace=ns,
                    keep=keep, options=options, on_health=self._health_changed,
                ))
        self._tasks: list[asyncio.Task] = []
        self._tune_gc = tune_gc  # see gctune: fewer GC passes over the store's millions of dicts
        self._health_event = asyncio.Event()

    @classmethod
    async def open(
        cls,
        kubeconfig: str | os.PathLike[str] | None = None,
        *,
        context: str | None = None,
        in_cluster: bool | None = None,
        **kwargs: object,
    ) -> Cluster:
        """Connect (verifying the server and credentials) and start every informer."""
        conn = await connect(kubeconfig, context=context, in_cluster=in_cluster)
        try:
            cluster = cls(conn, **kwargs)  # type: ignore[arg-type]
        except BaseException:
            await conn.close()
            raise
        cluster.start()
        return cluster

    @property
    def info(self) -> ClusterInfo:
        return self.connection.info

    def start(self) -> None:
        if self._tasks:
            return
        if self._tune_gc:
            gctune.tune_for_large_heap()
            gctune.hold()
        self._tasks = [asyncio.create_task(inf.run(), name=f"informer {inf.name}") for inf in self.informers]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._tasks and self._tune_gc:
            gctune.release()
        self._tasks = []
        self.store.flush()
        await self.connection.close()

    async def __aenter__(self) -> Cluster:
        self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # ---- health ----
    def health(self) -> dict[str, Health]:
        """Per kind: the worst health among its informers (one per namespace when limited)."""
        out: dict[str, Health] = {}
        for inf in self.informers:
            cur = out.get(inf.kind.kind)
            if cur is None or _SEVERITY.index(inf.health.state) < _SEVERITY.index(cur.state):
                out[inf.kind.kind] = inf.health
        return out

    def on_health(self, listener: Callable[[str, Health], None]) -> Callable[[], None]:
        """Call `listener(kind, health)` whenever an informer's health changes."""
        self._health_listeners.append(listener)
        return lambda: self._health_listeners.remove(listener) if listener in self._health_listeners else None

    def _health_changed(self, inf: Informer) -> None:
        self._health_event.set()
        for listener in list(self._health_listeners):
            listener(inf.kind.kind, inf.health)

    def all_synced(self) -> bool:
        return all(inf.health.state == HealthState.SYNCED for inf in self.informers)

    async def wait_synced(self, timeout: float = 30.0, *, allow: Iterable[HealthState] = ()) -> None:
        """Wait until every informer is synced (or in one of `allow`, e.g. FORBIDDEN)."""
        ok = {HealthState.SYNCED, *allow}
        deadline = time.monotonic() + timeout
        while not all(inf.health.state in ok for inf in self.informers):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                bad = ", ".join(f"{k}: {h}" for k, h in self.health().items() if h.state not in ok)
                raise KstorError(f"cluster {self.info.context} not synced after {timeout:g}s ({bad})")
            self._health_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._health_event.wait(), min(remaining, 1.0))
