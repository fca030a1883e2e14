"""Messages the background feed and the chaos worker send the app (past tense, typed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from kstor.tui.frame import Frame


@dataclass
class FrameUpdated(Message):
    """A new frame is ready. Only the newest matters: a queued older one is dropped."""

    frame: Frame

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FrameUpdated)


@dataclass
class FeedFailed(Message):
    """The feed could not start (bad kubeconfig, unreachable server...): one line for the user."""

    error: str


@dataclass
class DrillProgressed(Message):
    """A chaos run moved on: a timeline entry, a status change, or a new unhealthy count."""

    entry: Any


@dataclass
class DrillFinished(Message):
    summary: str
    ok: bool
