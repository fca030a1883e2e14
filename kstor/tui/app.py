"""The kstor dashboard: four screens over one live frame, a detail pane, k9s-style keys.

The app never talks to the cluster: a Feed delivers Frames (built off the UI loop) as
`FrameUpdated` messages that replace each other when the UI is busy, so a watch storm costs at most
one repaint per frame the feed emits (the feed coalesces to ≤ 20 Hz).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from kstor.tui.feed import Feed
from kstor.tui.frame import SCREENS, Frame
from kstor.tui.messages import FeedFailed, FrameUpdated
from kstor.tui.rows import ObjRef, Row
from kstor.tui.screens.chaos import DrillScreen
from kstor.tui.screens.help import HelpScreen
from kstor.tui.screens.namespace import NamespaceScreen
from kstor.tui.widgets.detail import DetailPane
from kstor.tui.widgets.rowview import RowView
from kstor.tui.widgets.status import StatusBar

TITLES = {"nodes": "1 Nodes", "binding": "2 Binding", "attachments": "3 Attachments", "events": "4 Events"}


class KstorApp(App[None]):
    # Absolute, so subclasses defined elsewhere (demos, benchmarks) find it too.
    CSS_PATH = Path(__file__).with_name("kstor.tcss")
    TITLE = "kstor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_screen('nodes')", "Nodes", show=False),
        Binding("2", "show_screen('binding')", "Binding", show=False),
        Binding("3", "show_screen('attachments')", "Attach", show=False),
        Binding("4", "show_screen('events')", "Events", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("n", "namespace", "Namespace"),
        Binding("d,enter", "detail('describe')", "Describe"),
        Binding("y", "detail('yaml')", "YAML"),
        Binding("x", "chaos", "Chaos"),
        Binding("escape", "back", "Back", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, feed: Feed, *, chaos: Any = None, screen: str = "nodes") -> None:
        super().__init__()
        self.feed = feed
        self.chaos = chaos
        self.frame: Frame | None = None
        self.query_text = ""
        self.namespace: str | None = None
        self.initial_screen = screen
        self.failure = ""
        from kstor.tui.commands import KstorCommands

        self.COMMANDS = App.COMMANDS | {KstorCommands}

    # -- layout ---------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(f"Connecting to {self.feed.cluster.context}…", id="banner")
        with Horizontal(id="body"):
            with TabbedContent(id="screens", initial=self.initial_screen):
                for name in SCREENS:
                    with TabPane(TITLES[name], id=name):
                        yield RowView(id=f"view-{name}")
            yield DetailPane(id="detail")
        yield Input(placeholder="filter: words match name, namespace, node, state (Esc clears)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        # Widgets live on the default screen; keep handles so modals on top do not hide them.
        self._tabs = self.query_one("#screens", TabbedContent)
        self._views = {name: self.query_one(f"#view-{name}", RowView) for name in SCREENS}
        self._detail = self.query_one("#detail", DetailPane)
        self._status = self.query_one(StatusBar)
        self._banner_widget = self.query_one("#banner", Static)
        self._filter_box = self.query_one("#filter", Input)
        self.active_view.focus()
        self._want(self.initial_screen)
        self.feed.start(self._deliver, self._failed)

    async def on_unmount(self) -> None:
        await self.feed.stop()

    def _want(self, *screens: str) -> None:
        want = getattr(self.feed, "want", None)  # only a live feed builds screens on demand
        if want is not None:
            want(screens)

    def _deliver(self, frame: Frame) -> None:
        self.post_message(FrameUpdated(frame))

    def _failed(self, error: str) -> None:
        self.post_message(FeedFailed(error))

    # -- accessors --------------------------------------------------------------
    @property
    def tabs(self) -> TabbedContent:
        return self._tabs

    @property
    def current_screen_name(self) -> str:
        return self.tabs.active or self.initial_screen

    @property
    def active_view(self) -> RowView:
        return self.view(self.current_screen_name)

    def view(self, name: str) -> RowView:
        return self._views[name]

    @property
    def detail(self) -> DetailPane:
        return self._detail

    @property
    def selected(self) -> Row | None:
        return self.active_view.selected

    # -- frames -------------------------------------------------------------------
    def on_frame_updated(self, message: FrameUpdated) -> None:
        if self._closing or not hasattr(self, "_views"):
            return  # a frame that arrives while the app shuts down has nowhere to go
        frame = message.frame
        self.frame = frame
        with self.batch_update():
            self._status.show(frame)
            self._banner(frame.banner or self.failure)
            for name in SCREENS:
                if name in frame.screens:  # a live feed builds a screen once it is shown
                    self.view(name).set_rows(frame.rows(name), frame.now)
            if self.detail.display:
                self.detail.show(frame, self.detail.ref)
        for screen in self.screen_stack:
            if isinstance(screen, DrillScreen):
                screen.observe(frame)

    def on_feed_failed(self, message: FeedFailed) -> None:
        self.failure = message.error
        self._banner(message.error + ("  — showing the last known state" if self.frame else ""))

    def _banner(self, text: str) -> None:
        banner = self._banner_widget
        if text == getattr(self, "_banner_text", None):
            return  # unchanged: no layout pass (it would repaint the whole screen)
        self._banner_text = text
        banner.update(text)
        banner.display = bool(text)

    @on(RowView.Highlighted)
    def _highlighted(self, message: RowView.Highlighted) -> None:
        if not hasattr(self, "_views"):
            return
        if message.view is self.active_view and self.detail.display:
            self.detail.show(self.frame, message.row.ref if message.row else None)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._want(self.current_screen_name)
        view = self.active_view
        view.focus()
        if self.detail.display:
            self.detail.show(self.frame, view.selected.ref if view.selected else None)

    # -- actions ----------------------------------------------------------------
    def action_show_screen(self, name: str) -> None:
        self.tabs.active = name
        self.active_view.focus()

    def action_filter(self) -> None:
        box = self._filter_box
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._apply_filter()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.active_view.focus()

    def _apply_filter(self) -> None:
        for name in SCREENS:
            self.view(name).set_filter(self.query_text, self.namespace)

    def action_namespace(self) -> None:
        names = self.frame.namespaces if self.frame else ()

        def chosen(value: str | None) -> None:
            if value is None:
                return
            self.namespace = value or None
            self._apply_filter()
            self.sub_title = f"namespace {value}" if value else ""

        self.push_screen(NamespaceScreen(names, self.namespace), chosen)

    def action_detail(self, mode: str) -> None:
        pane = self.detail
        row = self.selected
        if pane.display and pane.mode == mode and row is not None and pane.ref == row.ref:
            pane.display = False
            return
        pane.display = True
        pane.show(self.frame, row.ref if row else None, mode=mode)

    def action_back(self) -> None:
        box = self._filter_box
        if box.has_focus or box.value:
            box.value = ""
            box.display = False
            self.active_view.focus()
        elif self.detail.display:
            self.detail.display = False

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_chaos(self) -> None:
        from kstor.tui.screens.chaos import open_chaos

        open_chaos(self, self.selected.ref if self.selected else None)

    def jump_to(self, screen: str, key: str) -> None:
        """Show `screen` with the cursor on the row `key` (the command palette's "go to")."""
        self.action_show_screen(screen)
        self.active_view.select_key(key)

    def object_refs(self) -> list[tuple[str, Row]]:
        """(screen, row) for every row that names an object, for the palette."""
        self._want(*SCREENS)  # later frames bring the screens not built yet
        if self.frame is None:
            return []
        return [(name, row) for name in SCREENS for row in self.frame.rows(name) if row.ref is not None]


def ref_of(row: Row | None) -> ObjRef | None:
    return row.ref if row else None
