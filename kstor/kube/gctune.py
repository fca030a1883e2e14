"""Garbage-collector settings for a process that holds a large, long-lived heap of JSON dicts.

A store of 50k objects is millions of dicts and lists. With CPython's default thresholds every
young collection re-scans fresh survivors and full collections walk the whole store, which tripled
the cost of ingesting watch events in bench_kube. The store's objects are acyclic and freed by
reference counting, so kstor (an application, not a library) makes two process-wide changes:
fewer young collections, and one `gc.freeze()` once the initial lists are in, which moves the synced
objects out of the collector's sight (they are still freed normally when replaced or deleted).
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


def freeze_long_lived() -> None:
    """Exempt everything alive now from future collections. O(1): no collection first, so at worst
    the cyclic garbage of this moment is kept (a one-off, small)."""
    gc.freeze()
