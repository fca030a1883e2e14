"""Where frames come from. The app only knows this protocol; tests use FrozenFeed / ScriptedFeed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kstor.tui.frame import ClusterLabel, Frame

FrameSink = Callable[[Frame], None]
FailureSink = Callable[[str], None]


class Feed(Protocol):
    cluster: ClusterLabel

    def start(self, on_frame: FrameSink, on_failure: FailureSink) -> None:
        """Begin delivering frames (from any thread); must not block."""
        ...

    def observe(self, observer: FrameSink) -> Callable[[], None]:
        """Also call `observer` with *every* frame, on the feed's thread, before the UI may coalesce
        it away (the drill view must not miss a short deviation). Returns the remover."""
        ...

    async def stop(self) -> None: ...


class Observers:
    """Frame observers, shared by the feeds."""

    def __init__(self) -> None:
        self._observers: list[FrameSink] = []

    def observe(self, observer: FrameSink) -> Callable[[], None]:
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def notify(self, frame: Frame) -> None:
        for observer in list(self._observers):
            observer(frame)


class ScriptedFeed(Observers):
    """Frames pushed by a test (or a demo script): `push(frame)` delivers at once."""

    def __init__(self, *frames: Frame, cluster: ClusterLabel | None = None) -> None:
        super().__init__()
        self.cluster = cluster or (frames[0].cluster if frames else ClusterLabel("test"))
        self._pending = list(frames)
        self._sink: FrameSink | None = None
        self._failure: FailureSink | None = None

    def start(self, on_frame: FrameSink, on_failure: FailureSink) -> None:
        self._sink, self._failure = on_frame, on_failure
        for frame in self._pending:
            on_frame(frame)
        self._pending.clear()

    def push(self, frame: Frame) -> None:
        self.notify(frame)
        if self._sink is None:
            self._pending.append(frame)
        else:
            self._sink(frame)

    def fail(self, error: str) -> None:
        if self._failure is not None:
            self._failure(error)

    async def stop(self) -> None:
        self._sink = None


FrozenFeed = ScriptedFeed
