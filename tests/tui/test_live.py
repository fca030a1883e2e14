"""The dashboard on a real (embedded) cluster over HTTPS: changes made with the official client show up
with no key press; `kstor --sim` runs the cluster as a child and stops it; bad input is one line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import kubernetes
import pytest

from kstor.sim.testing import SimServerThread
from kstor.tui.app import KstorApp
from kstor.tui.cli import SimChild
from kstor.tui.frame import SCREENS
from kstor.tui.live import LiveFeed
from tests.tui.conftest import wait_for

SIZE = (170, 60)


def shown(app: KstorApp) -> str:
    return "\n".join(app.active_view.visible_text())


def node_line(app: KstorApp, node: str) -> str:
    return next((line for line in app.active_view.visible_text() if line.startswith(f" {node} ")), "")


async def in_thread(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))


async def test_kubectl_style_changes_appear_without_a_key_press() -> None:
    with SimServerThread(scenario="small", speed=20) as sim:
        feed = LiveFeed(kubeconfig=str(sim.kubeconfig))
        await in_thread(feed.connect)
        app = KstorApp(feed)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot, lambda: "default/static-pod" in shown(app) and " Mounted " in shown(app), timeout=30
            )
            assert "kstor-sim" in str(app.query_one("#status-cluster").content)
            core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(sim.kubeconfig)))
            assert "cordoned" not in node_line(app, "worker-2")
            await in_thread(core.patch_node, "worker-2", {"spec": {"unschedulable": True}})
            await wait_for(pilot, lambda: "cordoned" in node_line(app, "worker-2"), timeout=15)
            await in_thread(core.delete_namespaced_pod, "static-pod", "default")
            await wait_for(pilot, lambda: "default/static-pod" not in shown(app), timeout=30)
        assert feed.frames > 1


async def test_screens_are_built_when_first_shown() -> None:
    """A live feed builds the home screen first; Binding and Attachments (most of the first frame's
    CPU on a big cluster) arrive when a tab shows them, and the palette asks for every screen."""
    with SimServerThread(scenario="small", speed=20) as sim:
        feed = LiveFeed(kubeconfig=str(sim.kubeconfig))
        await in_thread(feed.connect)
        app = KstorApp(feed)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "worker-1" in shown(app), timeout=30)
            assert set(app.frame.screens) == {"nodes"}
            assert not any("static-claim" in line for line in app.view("binding").visible_text())
            await pilot.press("2")
            await wait_for(pilot, lambda: "static-claim" in shown(app), timeout=15)
            assert "attachments" not in app.frame.screens
            app.object_refs()  # the palette: every screen from the next frame on
            await wait_for(pilot, lambda: set(app.frame.screens) == set(SCREENS), timeout=15)
            await wait_for(
                pilot, lambda: any(screen == "attachments" for screen, _ in app.object_refs()), timeout=15
            )


def test_sim_child_serves_a_kubeconfig_and_stops() -> None:
    child = SimChild("small", speed=5)
    kubeconfig = child.start()
    try:
        core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(kubeconfig))
        names = {n.metadata.name for n in core.list_node().items}
        assert "worker-1" in names
    finally:
        child.stop()
    assert child.proc is not None and child.proc.returncode is not None
    assert not Path(kubeconfig).exists()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--kubeconfig", "/nonexistent/kubeconfig"], "no such file"),
        (["--sim", "no-such-scenario"], "no-such-scenario"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args: list[str], expect: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kstor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kstor: error:") and expect in lines[0]
    assert "Traceback" not in result.stderr


def test_broken_kubeconfig_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "config"
    bad.write_text("apiVersion: v1\nclusters: [\n")
    result = subprocess.run(
        [sys.executable, "-m", "kstor", "--kubeconfig", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert str(bad) in result.stderr and "Traceback" not in result.stderr


def banner(app: KstorApp) -> str:
    widget = app.query_one("#banner")
    return str(widget.content) if widget.display else ""


async def test_forbidden_kind_and_server_down_keep_the_last_state() -> None:
    with SimServerThread(scenario="small", speed=20) as sim:
        feed = LiveFeed(kubeconfig=str(sim.kubeconfig))
        await in_thread(feed.connect)
        app = KstorApp(feed)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "default/static-pod" in shown(app), timeout=30)
            await in_thread(sim.faults.deny, "events")
            await in_thread(sim.faults.drop_watches)  # the informer re-lists and meets the 403
            await wait_for(pilot, lambda: "ev⊘" in str(app.query_one("#status-health").content), timeout=20)
            assert "Event: forbidden" in banner(app) and "last known state" in banner(app)
            assert "default/static-pod" in shown(app)  # other kinds stay live and the screen keeps its rows
            await in_thread(sim.faults.clear)
            await in_thread(sim.faults.fail_next, None, 10_000, code=503)
            await in_thread(sim.faults.drop_watches)
            await wait_for(
                pilot, lambda: "reconnecting" in banner(app) or "unavailable" in banner(app), timeout=20
            )
            assert "default/static-pod" in shown(app)
            await in_thread(sim.faults.clear)
            # Back to synced (the forbidden Event informer retries slowly, so it may still be named).
            await wait_for(
                pilot,
                lambda: "reconnecting" not in banner(app) and "unavailable" not in banner(app),
                timeout=30,
            )
