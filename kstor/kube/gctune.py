"""Garbage-collector settings for a process that holds a large, long-lived heap of JSON dicts.

A store of 50k objects is millions of dicts and lists. With CPython's default young threshold (700)
the collector runs every few hundred allocations while a list page or a burst of watch events is
decoded, and every run re-scans the fresh survivors; in bench_kube that was most of the cost of
ingesting watch events. kstor raises the threshold process-wide (fewer, larger young collections).

Initial sync: every listed object survives, so while a store fills, the collector re-scans the
pages already stored (young, middle, and each time the heap grew by a quarter, all of it): keeping
the objects cost as much as fetching and decoding them. JSON is acyclic, so scanning it can never
find garbage. While a Cluster is open (`hold()`), an informer's first list moves everything alive
after each page into the collector's permanent generation (`gc.freeze()`, O(1)), so stored pages
are not scanned again. Objects stay freed by reference counting as usual; what the freeze costs is
that *cyclic* garbage among objects alive at those moments (e.g. a TUI screen mounted before the
sync and later dismissed) waits until the last Cluster closes (`release()` unfreezes) instead of the
next full collection. Only the first list of each informer freezes; relists and watches do not.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
_tuned = False
_holders = 0


def tune_for_large_heap() -> None:
    """Raise the young-generation threshold (once per process; keeps a higher value if already set)."""
    global _tuned
    if _tuned:
        return
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0 and gen0 < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, gen1, gen2)
    _tuned = True


def hold() -> None:
    """A Cluster opened: its informers' first lists may freeze what they stored."""
    global _holders
    _holders += 1


def release() -> None:
    """A Cluster closed; the last one hands every frozen object back to the collector."""
    global _holders
    _holders = max(0, _holders - 1)
    if not _holders:
        gc.unfreeze()


def freeze_stored() -> None:
    """Called after an initial-sync page is stored: keep the collector from re-scanning it."""
    if _holders and gc.isenabled():
        gc.freeze()
