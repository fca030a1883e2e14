"""`n`: pick the namespace every screen is limited to (or all)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

ALL = "(all namespaces)"


class NamespaceScreen(ModalScreen[str | None]):
    """Dismisses with the chosen namespace, "" for all, or None when cancelled."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, namespaces: tuple[str, ...], current: str | None) -> None:
        super().__init__()
        self.namespaces = namespaces
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(ALL, id="")] + [Option(ns, id=ns) for ns in self.namespaces]
        with Vertical(id="ns-box"):
            yield Static("[bold]Namespace[/]")
            yield OptionList(*options, id="ns-list")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        names = ["", *self.namespaces]
        picker.highlighted = names.index(self.current) if self.current in names else 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or "")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
