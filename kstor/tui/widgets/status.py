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
    StatusBar > Sparkline { width: 16; margin: 0 1 0 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("kstor", style="bold"), id="status-cluster")
        yield Static("", id="status-health")
        yield Static("events/s", id="status-rate-label")
        yield Sparkline([0], id="status-rate")
        yield Static("", id="status-findings")

    def show(self, frame: Frame) -> None:
        cluster = frame.cluster
        label = Text.assemble(
            ("kstor ", "bold"),
            ("▸ ", "dim"),
            (cluster.context, "bold cyan"),
            (" (sim)" if cluster.is_sim else "", "magenta"),
        )
        self.query_one("#status-cluster", Static).update(label)
        self.query_one("#status-health", Static).update(health_text(frame))
        rate = frame.event_rate[-30:] or (0.0,)
        self.query_one("#status-rate", Sparkline).data = list(rate)
        self.query_one("#status-rate-label", Static).update(f"events/s {rate[-1]:.0f}")
        findings = Text.assemble(
            (
                f"findings {len(frame.findings)}",
                "bold red" if frame.errors else ("yellow" if frame.findings else "green"),
            ),
            (f" ({frame.errors} errors)" if frame.errors else "", "red"),
            ("  unhealthy volumes ", "dim"),
            (str(frame.unhealthy), "bold red" if frame.unhealthy else "green"),
        )
        self.query_one("#status-findings", Static).update(findings)
