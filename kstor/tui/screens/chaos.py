"""`x`: chaos on the selected object — choose an action, confirm its preview, watch the drill."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from kstor.tui.chaos_bridge import ChaosChoice, PreviewText
from kstor.tui.drillwatch import DrillWatch
from kstor.tui.frame import Frame
from kstor.tui.rows import ObjRef

if TYPE_CHECKING:
    from kstor.tui.app import KstorApp


def open_chaos(app: KstorApp, ref: ObjRef | None) -> None:
    if app.chaos is None:
        app.notify("chaos is not available here", severity="warning")
        return
    choices = app.chaos.choices(ref)
    if not choices:
        app.notify("no chaos action applies", severity="warning")
        return
    app.push_screen(ChaosMenuScreen(ref, choices))


class ChaosMenuScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Cancel")]

    def __init__(self, ref: ObjRef | None, choices: list[ChaosChoice]) -> None:
        super().__init__()
        self.ref, self.choices = ref, choices

    def compose(self) -> ComposeResult:
        title = f"Chaos on {self.ref.label()}" if self.ref else "Chaos"
        with Vertical(classes="modal-box"):
            yield Static(Text(title, style="bold"))
            yield OptionList(
                *[Option(f"{c.label}  — {c.summary}", id=str(i)) for i, c in enumerate(self.choices)],
                id="chaos-actions",
            )
            yield Static("[dim]Enter: preview   Esc: cancel[/]")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = self.choices[int(event.option.id or 0)]
        self.app.switch_screen(ConfirmScreen(choice))


class ConfirmScreen(ModalScreen[None]):
    """Shows the action's preview (what it touches and affects, whether it can be undone); `y` runs it."""

    BINDINGS = [Binding("escape,n", "app.pop_screen", "Cancel"), Binding("y", "run", "Run it")]

    def __init__(self, choice: ChaosChoice) -> None:
        super().__init__()
        self.choice = choice
        self.preview: PreviewText | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(Text(f"Preview: {self.choice.label}", style="bold"))
            with VerticalScroll(id="preview-scroll"):
                yield Static("planning…", id="preview-body")
            with Horizontal(id="confirm-buttons"):
                yield Button("Run (y)", id="run", variant="error", disabled=True)
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        self.load_preview()

    @work(exclusive=True, group="chaos-preview")
    async def load_preview(self) -> None:
        body = self.query_one("#preview-body", Static)
        try:
            self.preview = await self._bridge().preview(self.choice)
        except Exception as exc:  # guardrail refusals and API errors are one line for the user
            body.update(Text(f"refused: {exc}", style="bold red"))
            return
        body.update(Text("\n".join(self.preview.lines)))
        self.query_one("#run", Button).disabled = False

    def _bridge(self) -> Any:
        return self.app.chaos  # type: ignore[attr-defined]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "run":
            self.action_run()
        else:
            self.app.pop_screen()

    def action_run(self) -> None:
        if self.preview is None:
            return
        self.app.switch_screen(DrillScreen(self.choice))


class DrillScreen(Screen[None]):
    """Stopwatch, deviation/recovery marks, timeline and a sparkline of unhealthy volumes."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back to the dashboard")]

    def __init__(self, choice: ChaosChoice, *, timeout: float = 300.0) -> None:
        super().__init__()
        self.choice = choice
        self.timeout = timeout
        self.watch: DrillWatch | None = None
        self.done: list[str] = []
        self.error = ""
        self.finished = False

    def compose(self) -> ComposeResult:
        with Vertical(id="drill"):
            yield Static(Text(f"Drill: {self.choice.label}", style="bold"), id="drill-title")
            yield Static("running the action…", id="drill-clock")
            yield Static("", id="drill-marks")
            yield Static("unhealthy volumes", classes="dim")
            yield Sparkline([0], id="drill-spark")
            yield Static("", id="drill-verdict")
            with VerticalScroll(id="drill-timeline-box"):
                yield Static("", id="drill-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.execute()
        self.set_interval(0.1, self.tick)

    @work(exclusive=True, group="chaos-run")
    async def execute(self) -> None:
        app = self.app
        # The baseline is the state just before acting: frames that arrive while the action runs count.
        # Every frame is observed on the feed's thread (the UI may coalesce a short deviation away).
        self.watch = DrillWatch.begin(app.frame, monotonic=time.monotonic())  # type: ignore[attr-defined]
        self._unobserve = app.feed.observe(self._observed)  # type: ignore[attr-defined]
        try:
            self.done = await app.chaos.execute(self.choice)  # type: ignore[attr-defined]
        except Exception as exc:
            self.error = str(exc) or exc.__class__.__name__
            self.query_one("#drill-verdict", Static).update(Text(f"failed: {self.error}", style="bold red"))
            self.finished = True
            return
        t = time.monotonic() - self.watch.started
        for line in self.done:
            self.watch.timeline.append((t, f"done: {line}"))
        self.tick()

    def _observed(self, frame: Frame) -> None:
        """Feed thread: record the frame (DrillWatch only appends; the UI reads it on tick)."""
        if self.watch is not None and not self.finished:
            self.watch.observe(frame, monotonic=time.monotonic())

    def on_unmount(self) -> None:
        unobserve = getattr(self, "_unobserve", None)
        if unobserve is not None:
            unobserve()

    def observe(self, frame: Frame) -> None:
        """UI thread, on each (coalesced) frame: repaint the sparkline and timeline."""
        if self.watch is None:
            return
        self.query_one("#drill-spark", Sparkline).data = list(self.watch.unhealthy[-120:]) or [0]
        lines = list(self.watch.timeline)[-200:]
        self.query_one("#drill-timeline", Static).update(
            Text("\n".join(f"+{t:6.1f}s  {line}" for t, line in lines))
        )

    def tick(self) -> None:
        watch = self.watch
        if watch is None or self.finished:
            return
        now = time.monotonic()
        elapsed = now - watch.started
        self.query_one("#drill-clock", Static).update(Text(f"⏱ {elapsed:6.1f} s", style="bold"))
        marks = []
        if watch.deviation_at is not None:
            marks.append(f"▼ deviation at +{watch.deviation_at:.1f} s")
        if watch.recovered_at is not None:
            marks.append(f"▲ recovered at +{watch.recovered_at:.1f} s")
        self.query_one("#drill-marks", Static).update("   ".join(marks) or "waiting for a deviation…")
        timed_out = elapsed >= self.timeout
        verdict = watch.verdict(monotonic=now, finished=timed_out)
        style = "bold green" if watch.recovered_at is not None else ("bold red" if timed_out else "yellow")
        self.query_one("#drill-verdict", Static).update(Text(verdict, style=style))
        if watch.recovered_at is not None or timed_out:
            self.finished = True
