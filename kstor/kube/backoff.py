"""Exponential backoff with full jitter, as client-go's wait.Backoff does for reflectors."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, *, base: float = 0.2, cap: float = 30.0, factor: float = 2.0,
                 rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.factor = factor
        self.failures = 0
        self._rng = rng or random.Random()

    def next(self, retry_after: float | None = None) -> float:
        """The delay before the next attempt; a server's Retry-After is a floor, never undercut."""
        ceiling = min(self.cap, self.base * self.factor**self.failures)
        self.failures += 1
        # Jitter in [ceiling/2, ceiling] spreads reconnects of many informers after a server restart.
        delay = ceiling * (0.5 + self._rng.random() / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap * 4))
        return delay

    def reset(self) -> None:
        self.failures = 0
