"""The embedded cluster: one Registry (the API server's state and request path), a clock, and the
control loops that act on it. The HTTP server (`kstor.sim.apiserver.server`) serves its registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kstor.sim.apiserver.registry import Registry
from kstor.sim.clock import Clock
from kstor.sim.controllers import build_controllers
from kstor.sim.controllers.base import ControllerManager
from kstor.sim.gctune import tune_for_large_heap
from kstor.sim.ids import IdSource


class SimCluster:
    def __init__(
        self,
        *,
        speed: float = 1.0,
        manual_clock: bool = False,
        clock: Clock | None = None,
        registry: Registry | None = None,
        seed: str | int | None = None,
    ) -> None:
        self.clock = clock or Clock(speed, manual=manual_clock)
        # seed: every uid, generated name and jitter repeats from run to run (recorded demos)
        self.ids = IdSource(seed)
        self.registry = registry or Registry(self.clock)
        self.registry.ids = self.ids
        self.controllers = ControllerManager()
        # Shared, mutable facts of the simulated world that are not API objects
        # (e.g. whether the NFS exports answer). Loops keep their own state on themselves.
        self.world: dict[str, Any] = {}
        self._built = False

    def build(self) -> None:
        """Create the control loops (once). Called by start(); tests may call it to pick loops."""
        if self._built:
            return
        tune_for_large_heap()
        for loop in build_controllers(self):
            self.controllers.add(loop)
        self._built = True

    def load_scenario(self, scenario: str | Path) -> None:
        """Create a scenario's objects through the registry (a built-in name or a YAML path)."""
        from kstor.sim.scenario import load_scenario

        load_scenario(self, scenario)

    async def start(self, scenario: str | Path | None = None) -> None:
        # Scenario first: per-node loops (kubelets) are built for the nodes that exist.
        if scenario is not None:
            self.load_scenario(scenario)
        self.build()
        self.controllers.start_all()

    async def stop(self) -> None:
        await self.controllers.stop_all()
