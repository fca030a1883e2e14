"""Chaos from the dashboard against the embedded cluster: `x` → preview → `y` → drill view → recovered;
and the guardrail: a context that is not the sim or kind-* is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import kubernetes
import pytest
import yaml

from kstor.sim.testing import SimServerThread
from kstor.tui.app import KstorApp
from kstor.tui.chaos_bridge import ChaosBridge
from kstor.tui.live import LiveFeed
from kstor.tui.screens.chaos import ChaosMenuScreen, ConfirmScreen, DrillScreen
from tests.tui.conftest import wait_for
from tests.tui.test_live import in_thread, shown

SIZE = (170, 60)


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSTOR_CONFIG", str(tmp_path / "no-config.yaml"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def _open(app: KstorApp, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: app.active_view.select_key(key), timeout=30)
    await pilot.press("x")
    assert isinstance(app.screen, ChaosMenuScreen)
    await pilot.press("enter")  # the first action for a pod: delete-pod
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, ConfirmScreen)
            and (
                app.screen.preview is not None
                or "refused" in str(app.screen.query_one("#preview-body").content)
            )
        ),
        timeout=15,
    )


async def test_delete_statefulset_pod_from_the_dashboard_and_watch_it_recover(tmp_path: Path) -> None:
    """db-0's volume is pinned to its node, which is cordoned: the new db-0 stays Pending (deviation)
    until the node is uncordoned (recovery). The drill view times it."""
    with SimServerThread(scenario="small", speed=20) as sim:
        feed = LiveFeed(kubeconfig=str(sim.kubeconfig))
        await in_thread(feed.connect)
        app = KstorApp(
            feed,
            chaos=ChaosBridge(
                kubeconfig=str(sim.kubeconfig),
                context=None,
                feed=feed,
                journal=str(tmp_path / "journal.jsonl"),
            ),
        )
        core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(sim.kubeconfig)))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot,
                lambda: (
                    app.frame is not None and not app.frame.topology.problems and "default/db-0" in shown(app)
                ),
                timeout=30,
            )
            node = app.frame.topology.pods[("default", "db-0")].node
            await in_thread(core.patch_node, node, {"spec": {"unschedulable": True}})
            await _open(app, pilot, "pod/default/db-0")
            body = str(app.screen.query_one("#preview-body").content)
            assert "delete-pod default/db-0" in body and "reversible" in body
            await pilot.press("y")
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, DrillScreen) and app.screen.watch is not None,
                timeout=15,
            )
            drill = app.screen
            # Wait for the new db-0's own symptom: Pending, as its volume's node is cordoned.
            await wait_for(
                pilot,
                lambda: any("db-0" in line for line in drill.watch.problems),
                timeout=30,
            )
            assert "recovered in" not in str(drill.query_one("#drill-verdict").content)
            await in_thread(core.patch_node, node, {"spec": {"unschedulable": None}})
            try:
                await wait_for(
                    pilot,
                    lambda: "recovered in" in str(drill.query_one("#drill-verdict").content),
                    timeout=60,
                )
            except AssertionError:
                watch = drill.watch
                raise AssertionError(
                    f"verdict {drill.query_one('#drill-verdict').content}; "
                    f"timeline {watch.timeline[-8:]}; problems {watch.problems[:3]}"
                ) from None
            timeline = str(drill.query_one("#drill-timeline").content)
            assert "deviation" in timeline and "recovered" in timeline and "db-0" in timeline
        assert (tmp_path / "journal.jsonl").exists()


async def test_guardrail_refuses_a_production_context(tmp_path: Path) -> None:
    with SimServerThread(scenario="small", speed=20) as sim:
        config = yaml.safe_load(Path(sim.kubeconfig).read_text())
        config["contexts"][0]["name"] = "prod-eu"
        config["current-context"] = "prod-eu"
        prod = tmp_path / "prod.yaml"
        prod.write_text(yaml.safe_dump(config))
        journal = tmp_path / "journal.jsonl"
        feed = LiveFeed(kubeconfig=str(prod))
        await in_thread(feed.connect)
        app = KstorApp(
            feed, chaos=ChaosBridge(kubeconfig=str(prod), context=None, feed=feed, journal=str(journal))
        )
        async with app.run_test(size=SIZE) as pilot:
            await _open(app, pilot, "pod/default/db-0")
            body = str(app.screen.query_one("#preview-body").content)
            assert "refused" in body and "prod-eu" in body
            assert app.screen.query_one("#run").disabled
            await pilot.press("y")
            assert isinstance(app.screen, ConfirmScreen)
        assert not journal.exists()
