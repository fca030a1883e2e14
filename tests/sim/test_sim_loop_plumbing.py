"""Plumbing the embedded cluster's loops share: informer delivery, resync floors, GC thresholds."""

from __future__ import annotations

import asyncio
import gc

from kstor.sim.cluster import SimCluster
from kstor.sim.controllers.informers import QueueLoop, shared_informers
from kstor.sim.gctune import THRESHOLDS, tune_for_large_heap
from kstor.sim.testing import async_wait_for


def config_map_free_pod(name: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
    }


async def test_own_write_reaches_each_handler_once() -> None:
    """observe() delivers a loop's own write at once; the watch event for the same version that
    follows must not be delivered again (every loop would react twice to every write)."""
    cluster = SimCluster(speed=100)
    reg = cluster.registry
    reg.create("pods", config_map_free_pod("p"), "default")
    seen: list[tuple[str, str]] = []

    def handler(plural: str, event_type: str, old: dict | None, new: dict | None) -> None:
        obj = new or old or {}
        seen.append((event_type, obj["metadata"]["resourceVersion"]))

    informers = shared_informers(cluster)
    async with informers.use(["pods"], handler):
        pods = informers.informer("pods")
        seen.clear()
        patched = reg.patch("pods", "p", {"metadata": {"labels": {"a": "1"}}}, "default")
        pods.observe(patched)  # our own write, recorded at once
        other = reg.patch("pods", "p", {"metadata": {"labels": {"a": "2"}}}, "default")  # someone else's
        await async_wait_for(
            lambda: pods.get("p", "default")["metadata"]["resourceVersion"]
            == other["metadata"]["resourceVersion"],
            timeout=5,
            message="the other write reaches the cache",
        )
        for _ in range(5):
            await asyncio.sleep(0)
    assert seen == [
        ("MODIFIED", patched["metadata"]["resourceVersion"]),
        ("MODIFIED", other["metadata"]["resourceVersion"]),
    ]


def test_resync_floor_grows_with_keys() -> None:
    class Loop(QueueLoop):
        name = "probe"
        resync_seconds = 30.0
        resync_real_floor = 2.0
        keys = 0

        def resync_keys(self) -> int:
            return self.keys

        async def sync(self, key: object) -> float | None:
            return None

    cluster = SimCluster(speed=1000)
    loop = Loop(cluster)
    assert loop.resync_interval() == 2_000.0  # 2 s real at speed 1000
    loop.keys = 5_000
    assert loop.resync_interval() == 12_000.0  # + 2 s per 1,000 keys
    slow = Loop(SimCluster(speed=1))
    assert slow.resync_interval() == 30.0  # the Kubernetes period when the clock is slow


def test_gc_thresholds_raised_never_lowered() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        SimCluster(speed=10).build()
        assert gc.get_threshold() == THRESHOLDS
        gc.set_threshold(THRESHOLDS[0] * 2, 5, 100)
        tune_for_large_heap()
        assert gc.get_threshold() == (THRESHOLDS[0] * 2, THRESHOLDS[1], 100)
    finally:
        gc.set_threshold(*before)
