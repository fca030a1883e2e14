"""Pilot tests: every key and flow of the dashboard, asserting what a person sees."""

from __future__ import annotations

from kstor.model.types import KINDS
from kstor.tui.app import KstorApp
from kstor.tui.frame import Health
from kstor.tui.screens.chaos import ChaosMenuScreen, ConfirmScreen, DrillScreen
from kstor.tui.screens.help import HelpScreen
from kstor.tui.screens.namespace import NamespaceScreen
from kstor.tui.widgets.status import StatusBar
from tests.tui.conftest import FakeChaos, FrameMaker, make_app, wait_for
from tests.tui.factory import pod

SIZE = (160, 48)


def shown(app: KstorApp, screen: str | None = None) -> str:
    view = app.view(screen) if screen else app.active_view
    return "\n".join(view.visible_text())


def status_text(app: KstorApp) -> str:
    bar = app.query_one(StatusBar)
    return " ".join(str(w.content) for w in bar.query("Static"))


async def test_home_is_nodes_with_volumes_and_header(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        assert app.current_screen_name == "nodes"
        text = shown(app)
        assert "worker-1" in text and "pvc data-web-0" in text and " Mounted " in text
        header = status_text(app)
        assert "kstor-sim" in header and "(sim)" in header and "findings" in header
        assert "pv✓" in header and "pvc✓" in header


async def test_number_keys_switch_screens(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        for key, name, word in (
            ("2", "binding", "StorageClasses"),
            ("3", "attachments", "VolumeAttachments"),
            ("4", "events", "FailedMount"),
            ("1", "nodes", "worker-1"),
        ):
            await pilot.press(key)
            assert app.current_screen_name == name
            assert word in shown(app)
            assert app.focused is app.active_view


async def test_cursor_moves_with_arrows_and_jk(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        view = app.active_view
        assert view.cursor == 0
        await pilot.press("j", "j", "down")
        assert view.cursor == 3
        await pilot.press("k", "up")
        assert view.cursor == 1
        await pilot.press("G")
        assert view.cursor == len(view.rows) - 1


async def test_describe_and_yaml_in_the_detail_pane(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        assert app.active_view.select_key("use/default/nfs-busybox/nfs")
        await pilot.press("d")
        assert app.detail.display
        text = app.detail.plain_text()
        assert "PersistentVolumeClaim default/nfs-claim" in text
        assert "pod default/nfs-busybox" in text and "pv pvc-nfs-1" in text
        assert "class nfs-client-storageclass" in text
        assert "Events (" in text
        await pilot.press("y")
        yaml_text = app.detail.plain_text()
        assert "kind: PersistentVolumeClaim" in yaml_text and "name: nfs-claim" in yaml_text
        await pilot.press("escape")
        assert not app.detail.display


async def test_describe_pod_shows_its_events(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        assert app.active_view.select_key("pod/default/mover-b")
        await pilot.press("enter")
        text = app.detail.plain_text()
        assert "FailedAttachVolume" in text and "Multi-Attach error" in text
        assert "MultiAttach" in text


async def test_detail_follows_the_cursor(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("4")
        await pilot.press("j", "d")
        first = app.detail.plain_text()
        await pilot.press("j")
        await wait_for(pilot, lambda: app.detail.plain_text() != first)
        assert "Pod default/nfs-busybox" in app.detail.plain_text()


async def test_slash_filters_rows_and_escape_clears(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("slash")
        await pilot.press(*"mover-b")
        text = shown(app)
        assert "mover-b" in text and "worker-3" in text and "web-0" not in text
        await pilot.press("enter")
        assert app.focused is app.active_view
        await pilot.press("escape")
        assert "web-0" in shown(app)


async def test_filter_by_state_word(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("slash", *"mountfailed")
        text = shown(app)
        assert "nfs-busybox" in text and "web-0" not in text


async def test_namespace_selector_limits_rows(maker: FrameMaker) -> None:
    maker.source.put("Pod", pod("other-pod", "team-b", node_name="worker-1", claims={"x": "x-claim"}))
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        assert "team-b/other-pod" in shown(app)
        await pilot.press("n")
        assert isinstance(app.screen, NamespaceScreen)
        await pilot.press("down", "enter")  # (all), default, team-b -> default
        assert app.namespace == "default"
        text = shown(app)
        assert "team-b/other-pod" not in text and "default/web-0" in text
        await pilot.press("n", "home", "enter")
        assert app.namespace is None
        assert "team-b/other-pod" in shown(app)


async def test_help_opens_and_closes(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running or app._exit_renderables is not None)
    assert app.return_code in (None, 0)


async def test_new_frames_update_rows_without_a_key_press(maker: FrameMaker) -> None:
    app, feed = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        assert "default/web-0" in shown(app)
        maker.source.remove("Pod", {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "default"}})
        feed.push(maker.frame(changed={"Pod"}))
        await wait_for(pilot, lambda: "default/web-0" not in shown(app))


async def test_forbidden_informer_and_server_down_keep_the_last_state(maker: FrameMaker) -> None:
    app, feed = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        maker.health = {kind: Health("synced") for kind in KINDS} | {
            "Event": Health(
                "forbidden", 'events is forbidden: User "kstor-sim" cannot list resource "events"'
            )
        }
        feed.push(maker.frame(changed=set(), banner="⚠ Event: forbidden — showing the last known state"))
        await wait_for(pilot, lambda: "ev⊘" in status_text(app))
        banner = str(app.query_one("#banner").content)
        assert "forbidden" in banner and "last known state" in banner
        assert "worker-1" in shown(app)
        feed.fail("cannot reach https://127.0.0.1:6443: connection refused")
        await wait_for(pilot, lambda: "connection refused" in str(app.query_one("#banner").content))
        assert "last known state" in str(app.query_one("#banner").content)
        assert "worker-1" in shown(app)


async def test_command_palette_jumps_to_an_object(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("ctrl+p")
        await pilot.press(*"go to pvc default/wffc")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                app.selected is not None
                and app.selected.ref is not None
                and app.selected.ref.name == "wffc-claim"
            ),
        )


async def test_command_palette_switches_screen(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("ctrl+p", *"switch to events")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_screen_name == "events")


async def test_mouse_click_selects_a_row(maker: FrameMaker) -> None:
    app, _ = make_app(maker)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        view = app.active_view
        await pilot.click(view, offset=(5, 4))
        assert view.cursor == 4


async def test_chaos_flow_preview_confirm_and_drill_view(maker: FrameMaker) -> None:
    chaos = FakeChaos()
    app, feed = make_app(maker, chaos=chaos)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        assert app.active_view.select_key("pod/default/web-0")
        await pilot.press("x")
        assert isinstance(app.screen, ChaosMenuScreen)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen.preview is not None
        )
        body = str(app.screen.query_one("#preview-body").content)
        assert "delete-pod default/web-0" in body and "reversible: no" in body
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen) and app.screen.watch is not None)
        drill = app.screen
        assert chaos.ran[0].label == "delete-pod default/web-0"
        # The pod's volume goes unmounted (deviation), then the cluster heals (recovery).
        maker.source.put(
            "Pod",
            pod(
                "web-0",
                node_name="worker-1",
                claims={"data": "data-web-0"},
                phase="Pending",
                waiting="ContainerCreating",
                mounts={"data": "mounting"},
            ),
        )
        feed.push(maker.frame(changed={"Pod"}))
        await wait_for(pilot, lambda: drill.watch.deviation_at is not None)
        maker.source.put(
            "Pod",
            pod("web-0", node_name="worker-1", claims={"data": "data-web-0"}, mounts={"data": "mounted"}),
        )
        feed.push(maker.frame(changed={"Pod"}))
        await wait_for(pilot, lambda: "recovered in" in str(drill.query_one("#drill-verdict").content))
        timeline = str(drill.query_one("#drill-timeline").content)
        assert "deviation" in timeline and "recovered" in timeline and "done: delete-pod" in timeline
        await pilot.press("escape")
        assert not isinstance(app.screen, DrillScreen)


async def test_chaos_cancel_runs_nothing(maker: FrameMaker) -> None:
    chaos = FakeChaos()
    app, _ = make_app(maker, chaos=chaos)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("x", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen.preview is not None
        )
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        assert chaos.ran == []


async def test_command_palette_runs_a_chaos_action_on_an_object(maker: FrameMaker) -> None:
    app, _ = make_app(maker, chaos=FakeChaos())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        await pilot.press("ctrl+p", *"chaos on pod default/web-0")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChaosMenuScreen))
        assert app.screen.ref is not None and app.screen.ref.name == "web-0"
