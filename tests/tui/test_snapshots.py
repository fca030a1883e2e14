"""Snapshot tests of every screen on the `seed` scenario as the embedded cluster left it after four
injected faults (tests/tui/seed_cluster.json, see make_seed_fixture.py), frozen at the sim's clock so
ages never move: a Pending WaitForFirstConsumer claim, a Terminating PV, a Multi-Attach error and a
FailedMount.

Plain sync functions: snap_compare runs the app itself. Regenerate with `pytest --snapshot-update`.
"""

from __future__ import annotations

from typing import Any

from kstor.tui.app import KstorApp
from tests.tui.conftest import FakeChaos, SeedMaker, make_app

SIZE = (160, 44)


def _app(**kwargs: Any) -> KstorApp:
    app, _ = make_app(SeedMaker(), **kwargs)
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
    # worker-2: a Multi-Attach error and a FailedMount (NFS server down); worker-3: a Terminating PV under
    # a running pod; the Pending WaitForFirstConsumer claim on no node.
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
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_select("pod/default/db-0-reader", "d"))


def test_describe_claim_of_terminating_pv(snap_compare: Any) -> None:
    async def run(pilot: Any) -> None:
        await _ready(pilot)
        await pilot.press("2")
        pilot.app.active_view.select_key("PersistentVolumeClaim/default/manual-pvc")
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run)


def test_yaml_of_pending_claim(snap_compare: Any) -> None:
    assert snap_compare(
        _app(), terminal_size=SIZE, run_before=_select("unplaced/pvc/default/wffc-claim", "y")
    )


def test_filter_failed_mount(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["slash", *"mountfailed"], terminal_size=SIZE, run_before=_ready)


def test_help(snap_compare: Any) -> None:
    assert snap_compare(_app(), press=["question_mark"], terminal_size=SIZE, run_before=_ready)


def test_chaos_preview_modal(snap_compare: Any) -> None:
    async def run(pilot: Any) -> None:
        await _ready(pilot)
        pilot.app.active_view.select_key("pod/default/db-0")
        await pilot.press("x", "enter")
        while getattr(pilot.app.screen, "preview", None) is None:
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(_app(chaos=FakeChaos()), terminal_size=SIZE, run_before=run)
