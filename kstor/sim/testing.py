"""Test harness: the embedded cluster + HTTPS API server on a background thread, and deadline polling.

    with SimServerThread(scenario="seed", speed=500) as sim:
        client = kubernetes.config.new_client_from_config(sim.kubeconfig)
        wait_for(lambda: sim.call(sim.registry.get, "persistentvolumeclaims", "data", "default")
                 ["status"]["phase"] == "Bound", timeout=10, message="claim data never bound")

The registry lives on the server thread's event loop: read it only through `call()` / `run()`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from kstor.sim.apiserver.registry import Registry
from kstor.sim.apiserver.server import ApiServer
from kstor.sim.cluster import SimCluster

T = TypeVar("T")
_STARTUP_TIMEOUT = 60.0
_CALL_TIMEOUT = 60.0


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    message: str = "condition not met",
    *,
    interval: float = 0.02,
) -> T:
    """Poll `predicate` until it returns something truthy (returned) or `timeout` real seconds pass.

    Exceptions from the predicate count as "not yet"; the last one is named in the AssertionError.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # not ready yet (e.g. 404 before creation)
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"{message} within {timeout}s{detail}")
        time.sleep(interval)


async def async_wait_for(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    message: str = "condition not met",
    *,
    interval: float = 0.02,
) -> T:
    """`wait_for` for tests running on an event loop (yields to the loop between polls)."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"{message} within {timeout}s{detail}")
        await asyncio.sleep(interval)


class _FaultsProxy:
    """`sim.faults.<method>(...)` from the test thread, run on the server's loop."""

    def __init__(self, owner: SimServerThread) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Callable[..., Any]:
        target = getattr(self._owner.api.faults, name)
        if not callable(target):
            return self._owner.call(lambda: getattr(self._owner.api.faults, name))

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._owner.call(target, *args, **kwargs)

        return call

    def drop_watches(self) -> int:
        return self._owner.call(self._owner.api.drop_watches)

    def compact(self) -> None:
        self._owner.call(self._owner.api.compact)


class SimServerThread:
    """A SimCluster and its HTTPS server on a background thread with its own event loop."""

    def __init__(
        self,
        *,
        scenario: str | Path | None = None,
        speed: float = 200.0,
        manual_clock: bool = False,
        with_controllers: bool = True,
        port: int = 0,
    ) -> None:
        self.scenario = scenario
        self.speed = speed
        self.manual_clock = manual_clock
        self.with_controllers = with_controllers
        self._port = port
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="kstor-sim-server", daemon=True)
        self._dir = Path(tempfile.mkdtemp(prefix="kstor-sim-"))
        self.kubeconfig = self._dir / "kubeconfig"
        self.cluster: SimCluster
        self.api: ApiServer
        self.faults = _FaultsProxy(self)

    # --- attributes tests use ----------------------------------------------------------------------
    @property
    def registry(self) -> Registry:
        return self.cluster.registry

    @property
    def server(self) -> str:
        return self.api.url

    @property
    def token(self) -> str:
        return self.api.token

    # --- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> SimServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        try:
            self.run(self._boot(), timeout=_STARTUP_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    async def _boot(self) -> None:
        self.cluster = SimCluster(speed=self.speed, manual_clock=self.manual_clock)
        if self.with_controllers:
            await self.cluster.start(self.scenario)
        elif self.scenario is not None:
            self.cluster.load_scenario(self.scenario)
        self.api = ApiServer(self.cluster)
        await self.api.start(self._port)
        self.api.write_kubeconfig(self.kubeconfig)

    def stop(self) -> None:
        if self._thread.is_alive():
            with_api = hasattr(self, "api")
            try:
                if with_api:
                    self.run(self._shutdown(), timeout=30)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout=30)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def _shutdown(self) -> None:
        await self.api.stop()
        await self.cluster.stop()

    def restart(self) -> None:
        """Stop and start the HTTP server on the same port; cluster state and loops keep running."""
        self.run(self.api.restart())

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # --- running code on the server's loop -----------------------------------------------------------
    def run(self, coro: Awaitable[T], *, timeout: float = _CALL_TIMEOUT) -> T:
        """Await `coro` on the server loop and return its result."""

        async def wrapper() -> T:
            return await coro

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapper(), self.loop)
        return future.result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a synchronous function on the server loop (e.g. `sim.call(sim.registry.get, ...)`)."""

        async def wrapper() -> T:
            return fn(*args, **kwargs)

        return self.run(wrapper())
