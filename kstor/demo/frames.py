"""Frames of a running Textual app: the full screen as ANSI text (for asciicast) and as SVG.

Both come from the same compositor render, so a recording's last cast frame and its last SVG
show exactly the same screen.
"""

from __future__ import annotations

import io
import re

from rich.console import Console
from textual.app import App

CLEAR = "\x1b[H\x1b[2J\x1b[3J"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _render(app: App, console: Console) -> None:
    screen_render = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(screen_render)


def ansi_frame(app: App) -> str:
    """The whole screen as one terminal write: clear, home, then every line with its colours."""
    width, height = app.size
    buffer = io.StringIO()
    console = Console(
        width=width,
        height=height,
        file=buffer,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    _render(app, console)
    return CLEAR + buffer.getvalue()


def svg_frame(app: App, *, title: str) -> str:
    return app.export_screenshot(title=title)


def screen_text(app: App) -> list[str]:
    """The visible characters of the screen, line by line (what a person reads)."""
    return plain_lines(ansi_frame(app), app.size.width)


def plain_lines(ansi: str, width: int) -> list[str]:
    """Strip a frame written by `ansi_frame` down to its text lines (cursor moves become newlines)."""
    text = ansi[len(CLEAR) :] if ansi.startswith(CLEAR) else ansi
    text = re.sub(r"\x1b\[\d+;\d+H", "\n", text)
    text = _ANSI.sub("", text)
    return [line.rstrip() for line in text.split("\n")]
