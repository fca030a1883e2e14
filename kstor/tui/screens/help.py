"""`?`: the keys, k9s style."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("1 2 3 4 / tab", "Nodes, Binding, Attachments, Events"),
    ("↑ ↓  j k  PgUp PgDn  g G", "move the cursor"),
    ("/", "filter rows (name, namespace, node, state); Esc clears"),
    ("n", "choose a namespace"),
    ("d  Enter", "describe the selected object (chain + events)"),
    ("y", "YAML of the selected object"),
    ("Esc", "close the detail pane / clear the filter"),
    ("x", "chaos: actions for the selected object (preview, confirm, drill view)"),
    ("ctrl+p", "command palette: jump to an object, switch screen, run a chaos action"),
    ("?", "this help"),
    ("q", "quit"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(title="kstor keys", show_header=False, box=None, padding=(0, 2))
        for key, what in KEYS:
            table.add_row(f"[bold cyan]{key}[/]", what)
        with VerticalScroll(id="help-box"):
            yield Static(table)
            yield Static("[dim]Esc or ? closes this help[/]")
