"""Simulated time for the embedded cluster.

Every control loop sleeps and every timestamp is taken on this clock, so a five-minute Kubernetes
timeout takes seconds at a large `speed` while all timestamps stay consistent with each other.
A `manual` clock only moves when `advance()` is called: snapshot tests and recorded demos use it
so that ages and timings are identical on every run.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta

DEFAULT_EPOCH = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """Simulated wall clock: sim seconds = real seconds x speed (or only `advance()` if manual)."""

    def __init__(self, speed: float = 1.0, *, start: datetime | None = None, manual: bool = False) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self.manual = manual
        self._epoch = start or (DEFAULT_EPOCH if manual else datetime.now(UTC).replace(microsecond=0))
        self._real_origin = time.monotonic()
        self._manual_elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    # --- reading -------------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Sim seconds since the clock started."""
        if self.manual:
            return self._manual_elapsed
        return (time.monotonic() - self._real_origin) * self.speed

    def now(self) -> datetime:
        return self._epoch + timedelta(seconds=self.elapsed())

    def timestamp(self) -> str:
        """RFC 3339 with second precision, as metadata.creationTimestamp is written."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro_timestamp(self) -> str:
        """RFC 3339 with microseconds (MicroTime), as Lease.renewTime and Event.eventTime are written."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def real_seconds(self, sim_seconds: float) -> float:
        return sim_seconds / self.speed

    # --- waiting -------------------------------------------------------------------------------
    async def sleep(self, sim_seconds: float) -> None:
        """Sleep for `sim_seconds` of simulated time."""
        if not self.manual:
            await asyncio.sleep(max(0.0, sim_seconds) / self.speed)
            return
        if sim_seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._manual_elapsed + sim_seconds, next(self._seq), fut))
        await fut

    async def advance(self, sim_seconds: float, *, step: float = 1.0) -> None:
        """Manual clock only: move time forward in steps, letting woken loops run at each step."""
        if not self.manual:
            raise RuntimeError("advance() needs a manual clock")
        target = self._manual_elapsed + sim_seconds
        while self._manual_elapsed < target:
            self._manual_elapsed = min(target, self._manual_elapsed + step)
            self._wake_due()
            for _ in range(5):  # let woken coroutines and what they trigger run
                await asyncio.sleep(0)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._manual_elapsed:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)


def parse_timestamp(value: str) -> datetime:
    """Parse an RFC 3339 timestamp as Kubernetes writes it (with or without fraction)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
