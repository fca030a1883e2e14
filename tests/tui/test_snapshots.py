"""Snapshot tests of every screen on the seed-like cluster, frozen in time (ages never move).

Plain sync functions: snap_compare runs the app itself. Regenerate with `pytest --snapshot-update`.
"""

from __future__ import annotations

from typing import Any

from kstor.tui.app import KstorApp
from tests.tui.conftest import FakeChaos, FrameMaker, make_app

SIZE = (160, 44)


def _app(**kwargs: Any) -> KstorApp:
    app, _ = make_app(FrameMaker(), **kwargs)
    return app


async def _ready(pilot: Any) -> None:
    while pilot.app.frame is None:
        await pilot.pause(0.02)
    await pilot.pause()


def _select(key: str, *keys: str) -> Any:
    async def run(pilot: Any) -> None:
        await _ready(pilot)
        pilot.app.active_view.select_key(key)
        await pilot.press(*keys)
        await pilot.pause()

    return run


def test_nodes_screen(snap_compare: Any) -> None:
    # worker-2 cordoned with a FailedMount, worker-3 NotReady with a Multi-Attach error, a Terminating PV
    # under a running pod, and the Pending WaitForFirstConsumer claim on no node.
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_ready)


def test_binding_screen(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["2"], terminal_size=SIZE, run_before=_ready)


def test_attachments_screen(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["3"], terminal_size=SIZE, run_before=_ready)


def test_events_screen(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["4"], terminal_size=SIZE, run_before=_ready)


def test_describe_pending_claim(snap_compare: Any) -> None:
    assert snap_compare(
        _app(), terminal_size=SIZE, run_before=_select("unplaced/pvc/default/wffc-claim", "d")
    )


def test_describe_multi_attach_pod(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_select("pod/default/mover-b", "d"))


def test_yaml_of_terminating_pv(snap_compare: Any) -> None:
    async def run(pilot: Any) -> None:
        await _ready(pilot)
        await pilot.press("2")
        pilot.app.active_view.select_key("PersistentVolumeClaim/default/keep-claim")
        await pilot.press("y")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run)


def test_filter_failed_mount(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["slash", *"mountfailed"], terminal_size=SIZE, run_before=_ready)


def test_help(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["question_mark"], terminal_size=SIZE, run_before=_ready)


def test_chaos_preview_modal(snap_compare: Any) -> None:
    async def run(pilot: Any) -> None:
        await _ready(pilot)
        pilot.app.active_view.select_key("pod/default/web-0")
        await pilot.press("x", "enter")
        while getattr(pilot.app.screen, "preview", None) is None:
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(_app(chaos=FakeChaos()), terminal_size=SIZE, run_before=run)
