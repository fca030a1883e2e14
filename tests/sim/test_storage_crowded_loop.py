"""The PV controller keeps binding while other loops crowd the shared event loop.

Regression: the controller paced itself twice per key (its own slice timer plus QueueLoop.pace), each
timer counting the time suspended in the other's yield as work, so with busy neighbours it synced one
key per two turns of the event loop; the `large` benchmark stalled near 1,000 of 10,000 claims Bound.
"""

from __future__ import annotations

import asyncio
import time

from storage_helpers import pv, pvc, start_loops

from kstor.sim.cluster import SimCluster

CLAIMS = 100
NEIGHBOUR_SLICE_S = 0.025  # a neighbour loop's work per turn: longer than any pacer slice
TURN_BUDGET = 80  # the neighbour's turns allowed; two turns per key would need over 400
WALL_DEADLINE_S = 30.0


def bound_claims(cluster: SimCluster) -> int:
    claims = cluster.registry.items("persistentvolumeclaims")
    return sum(1 for c in claims if c.get("status", {}).get("phase") == "Bound")


async def test_pv_controller_binds_a_backlog_while_a_neighbour_loop_runs_long_slices() -> None:
    cluster = SimCluster(speed=500)
    reg = cluster.registry
    for i in range(CLAIMS):
        reg.create("persistentvolumes", pv(f"pv-{i}", "1Gi"))
        reg.create("persistentvolumeclaims", pvc(f"data-{i}", "1Gi"), "default")
    turns = 0
    try:
        start_loops(cluster, "pv-controller")
        deadline = time.monotonic() + WALL_DEADLINE_S
        while bound_claims(cluster) < CLAIMS and turns < TURN_BUDGET and time.monotonic() < deadline:
            spin_until = time.perf_counter() + NEIGHBOUR_SLICE_S
            while time.perf_counter() < spin_until:  # the crowded neighbour: CPU work, no await
                pass
            turns += 1
            await asyncio.sleep(0)
        assert bound_claims(cluster) == CLAIMS, (
            f"{bound_claims(cluster)} of {CLAIMS} claims Bound after {turns} turns of a busy neighbour"
        )
    finally:
        await cluster.stop()
