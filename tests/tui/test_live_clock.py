"""On the embedded cluster the dashboard measures ages on the sim's clock, which runs `speed` times faster."""

from __future__ import annotations

import asyncio

from kstor.sim.testing import SimServerThread, wait_for
from kstor.tui.live import LiveFeed

SPEED = 1000.0


def test_live_feed_ages_follow_a_sped_up_sim_clock() -> None:
    with SimServerThread(speed=SPEED, with_controllers=False) as sim:
        # let the sim clock get well ahead of the wall clock before the dashboard connects
        wait_for(lambda: sim.call(sim.cluster.clock.elapsed) > 3 * SPEED, timeout=30, message="sim clock")
        feed = LiveFeed(kubeconfig=str(sim.kubeconfig))
        feed.connect(timeout=30)
        try:
            sim_now = sim.call(lambda: sim.cluster.clock.now().timestamp())
            # a wall-clock feed would be >= 3,000 s behind; following the sim it is within ~0.3 s x speed
            assert abs(feed.clock() - sim_now) < 0.3 * SPEED
        finally:
            asyncio.run(feed.stop())
