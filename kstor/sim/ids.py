"""Every random choice the embedded cluster makes (uids, generateName suffixes, event names,
jitter) comes from one seedable source per cluster, so a seeded run — a recorded demo — hands
out the same names every time. Unseeded, it draws from the OS's entropy like a real cluster.
"""

from __future__ import annotations

import random
import uuid

# Kubernetes' utilrand alphabet for generateName suffixes: no vowels, no confusable 0/1/3.
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class IdSource:
    def __init__(self, seed: str | int | None = None) -> None:
        self.rng = random.Random(seed) if seed is not None else random.SystemRandom()

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, length: int = 5) -> str:
        return "".join(self.rng.choice(NAME_CHARS) for _ in range(length))

    def hex(self, nbytes: int = 8) -> str:
        return f"{self.rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"

    def random(self) -> float:
        return self.rng.random()
