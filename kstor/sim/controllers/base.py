"""The shape every control loop of the embedded cluster has, and the manager that starts/stops them.

Stopping a loop is how chaos "kills" a controller or a kubelet on the embedded cluster: its task
is cancelled and nothing else changes, exactly as when a real controller-manager pod dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class Controller(ABC):
    """An independent async control loop. `run()` runs until cancelled."""

    name: str

    @abstractmethod
    async def run(self) -> None: ...


class ControllerManager:
    """Owns one task per registered loop; loops can be stopped and restarted at run time."""

    def __init__(self) -> None:
        self._controllers: dict[str, Controller] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, controller: Controller) -> None:
        if controller.name in self._controllers:
            raise ValueError(f"duplicate control loop {controller.name!r}")
        self._controllers[controller.name] = controller

    def names(self) -> list[str]:
        return sorted(self._controllers)

    def get(self, name: str) -> Controller:
        try:
            return self._controllers[name]
        except KeyError:
            raise KeyError(f"no control loop named {name!r}; known: {', '.join(self.names())}") from None

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def start(self, name: str) -> None:
        controller = self.get(name)
        if self.running(name):
            return
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._guarded(controller), name=f"sim:{name}"
        )

    def start_all(self) -> None:
        for name in self.names():
            self.start(name)

    async def stop(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def stop_all(self) -> None:
        # Cancel every loop before awaiting any: stopping them one by one lets the loops still
        # running react to the ones already gone (1,000 stopped kubelets → NotReady nodes and
        # evictions while a large cluster shuts down).
        tasks = [task for task in self._tasks.values() if not task.done()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _guarded(self, controller: Controller) -> None:
        # A real controller that crashes is restarted by its pod's restartPolicy; do the same.
        while True:
            try:
                await controller.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("control loop %s crashed; restarting", controller.name)
                await asyncio.sleep(0.05)
