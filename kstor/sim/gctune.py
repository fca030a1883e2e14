"""Cyclic garbage collector settings for a process that hosts the embedded cluster.

The registry keeps every stored object as a tree of dicts: a 10,000-pod cluster is over a million
tracked containers. Each write replaces a version, and with the default thresholds (700, 10, 10)
the collector then runs a full collection every time a quarter of that heap has been rewritten:
0.75 s each, 45% of the CPU of the `large` scenario converging. Stored versions are freed by
reference counting (they are acyclic), so the cyclic collector has little to find there; a larger
young generation makes its passes rare. Only thresholds change: nothing is frozen or disabled.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune_for_large_heap() -> None:
    """Raise the collector's thresholds to THRESHOLDS (never lower ones already set higher)."""
    current = gc.get_threshold()
    wanted = tuple(max(have, want) for have, want in zip(current, THRESHOLDS, strict=False))
    if wanted != current:
        gc.set_threshold(*wanted)
