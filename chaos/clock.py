"""Time as the cluster sees it: sim seconds on the embedded cluster, wall seconds elsewhere.

Drills measure on this clock so results are the same at any sim speed, and waits such as
drain's 5-second PDB retry are in cluster seconds too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from chaos.api import SimControl


class ClusterClock(Protocol):
    async def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class WallClock:
    def __init__(self) -> None:
        self._origin = time.monotonic()

    async def now(self) -> float:
        return time.monotonic() - self._origin

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class SimClock:
    """Reads the embedded cluster's clock over `/_sim/clock`; sleeps in sim seconds."""

    def __init__(self, sim: SimControl) -> None:
        self.sim = sim
        self.speed = 1.0

    async def now(self) -> float:
        elapsed, self.speed = await self.sim.clock()
        return elapsed

    async def sleep(self, seconds: float) -> None:
        target = await self.now() + seconds
        while True:
            left = target - await self.now()
            if left <= 0:
                return
            # Re-read after each nap: the speed is the server's, and it may be manual.
            await asyncio.sleep(min(max(left / self.speed, 0.005), 0.25))
