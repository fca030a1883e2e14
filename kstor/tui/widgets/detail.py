"""The detail pane: describe (chain + events) or YAML of the selected object."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kstor.tui.frame import Frame
from kstor.tui.rows import ObjRef
from kstor.tui.views.detail import describe, yaml_text


class DetailPane(VerticalScroll):
    """Shows `ref` from the latest frame; `mode` is "describe" or "yaml"."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.mode = "describe"
        self.ref: ObjRef | None = None
        self._shown: tuple[int, ObjRef | None, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-body")

    @property
    def body(self) -> Static:
        return self.query_one("#detail-body", Static)

    def show(self, frame: Frame | None, ref: ObjRef | None, *, mode: str | None = None) -> None:
        if mode is not None:
            self.mode = mode
        self.ref = ref
        key = (frame.version if frame else -1, ref, self.mode)
        if key == self._shown:
            return
        self._shown = key
        if frame is None or ref is None:
            self.body.update(Text("Select a row to see its chain, events and YAML.", style="dim"))
            return
        if self.mode == "yaml":
            self.body.update(Syntax(yaml_text(frame, ref), "yaml", theme="ansi_dark", word_wrap=True))
            return
        text = Text()
        for line in describe(frame, ref):
            for part, style in line:
                text.append(part, style=style or None)
            text.append("\n")
        self.body.update(text)

    def plain_text(self) -> str:
        """What the pane shows, as text (for tests)."""
        content = self.body.content
        if isinstance(content, Syntax):
            return content.code
        return str(content)
