"""Garbage-collector setting for a process that holds a large, long-lived heap of JSON dicts.

A store of 50k objects is millions of dicts and lists. With CPython's default young threshold (700)
the collector runs every few hundred allocations while a list page or a burst of watch events is
decoded, and every run re-scans the fresh survivors; in bench_kube that was most of the cost of
ingesting watch events. kstor raises the threshold process-wide (fewer, larger young collections).

`gc.freeze()` after the initial sync was tried and dropped: the TUI shares the process, and objects
frozen then (widgets, screens) would never be collected once they later became cyclic garbage.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
_tuned = False


def tune_for_large_heap() -> None:
    """Raise the young-generation threshold (once per process; keeps a higher value if already set)."""
    global _tuned
    if _tuned:
        return
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0 and gen0 < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, gen1, gen2)
    _tuned = True
