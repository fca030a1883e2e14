"""The header: cluster, informer health, event-rate sparkline, findings and unhealthy volumes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from kstor.tui.frame import Frame

_HEALTH_MARK = {
    "synced": ("✓", "green"),
    "syncing": ("…", "yellow"),
    "reconnecting": ("⟳", "yellow"),
    "forbidden": ("⊘", "bold red"),
    "unavailable": ("✗", "bold red"),
}
_SHORT = {
    "StorageClass": "sc",
    "CSIDriver": "csi",
    "PersistentVolume": "pv",
    "PersistentVolumeClaim": "pvc",
    "VolumeAttachment": "va",
    "Pod": "pod",
    "Node": "node",
    "Event": "ev",
}


def health_text(frame: Frame) -> Text:
    text = Text()
    for kind, health in frame.health.items():
        mark, style = _HEALTH_MARK.get(health.state, ("?", "yellow"))
        text.append(f"{_SHORT.get(kind, kind)}", style="dim")
        text.append(f"{mark} ", style=style)
    return text


class StatusBar(Horizontal):
    """One line: `kstor ▸ context (server) │ pv✓ pvc✓ … │ events/s ▁▂▅ │ findings`."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    StatusBar > Static { width: auto; padding: 0 1 0 0; }
    StatusBar > #status-rate-label { width: 15; }
    StatusBar > #status-findings { width: 1fr; }
    StatusBar > Sparkline { width: 16; margin: 0 1 0 0; }
    """

    _shown: dict[str, object]

    def compose(self) -> ComposeResult:
        yield Static(Text("kstor", style="bold"), id="status-cluster")
        yield Static("", id="status-health")
        yield Static("events/s", id="status-rate-label")
        yield Sparkline([0], id="status-rate")
        yield Static("", id="status-findings")

    def _set(self, name: str, content: Text | str, *, layout: bool) -> None:
        """Update one part only when it changed: a layout pass repaints the whole screen."""
        shown = self.__dict__.setdefault("_shown", {})
        key = str(content) + (content.markup if isinstance(content, Text) else "")
        if shown.get(name) == key:
            return
        shown[name] = key
        for widget in self.query(f"#{name}").results(Static):  # none while the app shuts down
            widget.update(content, layout=layout)

    def show(self, frame: Frame) -> None:
        cluster = frame.cluster
        label = Text.assemble(
            ("kstor ", "bold"),
            ("▸ ", "dim"),
            (cluster.context, "bold cyan"),
            (" (sim)" if cluster.is_sim else "", "magenta"),
        )
        self._set("status-cluster", label, layout=True)
        self._set("status-health", health_text(frame), layout=True)
        rate = frame.event_rate[-30:] or (0.0,)
        for spark in self.query("#status-rate").results(Sparkline):
            if list(spark.data or []) != list(rate):
                spark.data = list(rate)
        self._set("status-rate-label", f"events/s {rate[-1]:.0f}", layout=False)
        findings = Text.assemble(
            (
                f"findings {len(frame.findings)}",
                "bold red" if frame.errors else ("yellow" if frame.findings else "green"),
            ),
            (f" ({frame.errors} errors)" if frame.errors else "", "red"),
            ("  unhealthy volumes ", "dim"),
            (str(frame.unhealthy), "bold red" if frame.unhealthy else "green"),
        )
        self._set("status-findings", findings, layout=False)
