"""Run a demo script against an app on a stage, and record it: one asciicast + one SVG per caption.

Determinism: the stage runs the embedded cluster on a *manual* clock and `settle()`s (waits until
the screen shows the cluster's current state) before every frame, and cast times are derived from
the script (caption holds, fixed key and tick intervals), never from the wall clock. So the same
script gives the same frames, byte for byte, apart from the header's timestamp.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from kstor.demo.asciicast import Cast
from kstor.demo.frames import ansi_frame, svg_frame
from kstor.demo.script import DemoScript, ScriptError, Step
from kstor.errors import KstorError

KEY_INTERVAL = 0.4  # cast seconds between two key presses
TICK_INTERVAL = 0.5  # cast seconds per simulated second while waiting or advancing
CAPTION_ID = "demo-caption"


class Stage(Protocol):
    """What a recording runs on: an app plus the cluster behind it."""

    app: App

    async def settle(self) -> None:
        """Return once the app's screen shows the cluster's current state."""

    async def advance(self, seconds: float) -> None:
        """Move the cluster's clock (and let its control loops act)."""

    async def check(self, condition: str) -> bool:
        """Evaluate a `wait` condition; raise KstorError for an unknown one."""

    async def chaos(self, action: dict) -> None:
        """Run a chaos action on the cluster."""


StageFactory = Callable[[DemoScript], AbstractAsyncContextManager[Stage]]


class DemoFailed(KstorError):
    """A step could not be carried out (e.g. a wait timed out); names the script line."""


@dataclass
class Recording:
    cast: Cast
    svgs: list[tuple[str, str]] = field(default_factory=list)  # (file name, svg)
    captions: list[str] = field(default_factory=list)

    def write(self, out_dir: Path, name: str) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        cast_path = out_dir / f"{name}.cast"
        self.cast.write(cast_path)
        written = [cast_path]
        for file_name, svg in self.svgs:
            path = out_dir / file_name
            path.write_text(svg, encoding="utf-8")
            written.append(path)
        return written


class _Session:
    def __init__(self, script: DemoScript, stage: Stage, pilot: Pilot, *, live: bool) -> None:
        self.script = script
        self.stage = stage
        self.pilot = pilot
        self.live = live
        self.cast = Cast(script.size[0], script.size[1], title=script.title, timestamp=int(time.time()))
        self.recording = Recording(self.cast)
        self.at = 0.0
        self.caption = ""
        self._last_frame = ""
        self._shown_at = 0.0

    async def frame(self) -> None:
        await self.stage.settle()
        self._show_caption()
        await self.pilot.pause()
        if self.live:  # pace a live run like the recording would replay
            await asyncio.sleep(max(0.0, self.at - self._shown_at))
            self._shown_at = self.at
            return
        frame = ansi_frame(self.stage.app)
        if frame != self._last_frame:
            self.cast.output(self.at, frame)
            self._last_frame = frame

    def _show_caption(self) -> None:
        screen = self.stage.app.screen
        found = screen.query(f"#{CAPTION_ID}")
        widget = found.first(Static) if found else None
        if widget is None:
            if not self.caption:
                return
            widget = Static(id=CAPTION_ID)
            widget.styles.dock = "bottom"
            widget.styles.height = "auto"
            widget.styles.padding = (0, 1)
            widget.styles.background = "ansi_bright_blue"
            widget.styles.color = "white"
            widget.styles.text_style = "bold"
            screen.mount(widget)
        widget.update(self.caption)
        widget.display = bool(self.caption)

    async def run(self) -> Recording:
        await self.frame()
        for number, step in enumerate(self.script.steps, 1):
            await self.step(number, step)
        self.at += 1.0
        await self.frame()
        if not self.live:  # the screen the cast ends on, from the same render as its last frame
            svg = svg_frame(self.stage.app, title=f"{self.script.title} — end")
            self.recording.svgs.append((f"{self.script.name}-final.svg", svg))
        return self.recording

    async def step(self, number: int, step: Step) -> None:
        if step.kind == "caption":
            self.caption = step.caption
            await self.frame()
            shot = f"{self.script.name}-{len(self.recording.svgs) + 1:02d}.svg"
            if not self.live:
                svg = svg_frame(self.stage.app, title=f"{self.script.title} — {number}")
                self.recording.svgs.append((shot, svg))
            self.recording.captions.append(step.caption)
            self.at += step.hold
        elif step.kind == "press":
            for key in step.keys:
                await self.pilot.press(key)
                self.at += KEY_INTERVAL
                await self.frame()
        elif step.kind == "advance":
            await self._tick_for(step.seconds)
        elif step.kind == "wait":
            await self._wait(step)
        elif step.kind == "chaos":
            await self.stage.chaos(step.action)
            self.at += KEY_INTERVAL
            await self.frame()
        elif step.kind == "screen":
            raise ScriptError(f"{self.script.path}:{step.line}: `screen` steps are not supported")

    async def _tick_for(self, seconds: float) -> None:
        remaining = seconds
        while remaining > 0:
            tick = min(1.0, remaining)
            await self.stage.advance(tick)
            remaining -= tick
            self.at += TICK_INTERVAL * tick
            await self.frame()

    async def _wait(self, step: Step) -> None:
        waited = 0.0
        while not await self.stage.check(step.until):
            if waited >= step.timeout:
                raise DemoFailed(
                    f"{self.script.path}:{step.line}: `{step.until}` still false "
                    f"after {step.timeout:g} s of sim time"
                )
            await self._tick_for(1.0)
            waited += 1.0


async def record(script: DemoScript, stage_factory: StageFactory) -> Recording:
    """Run `script` headless on a fresh stage and return its recording."""
    async with stage_factory(script) as stage:
        async with stage.app.run_test(size=script.size) as pilot:
            return await _Session(script, stage, pilot, live=False).run()


async def play(script: DemoScript, stage_factory: StageFactory) -> None:
    """Run `script` live in this terminal, paced like its recording."""
    failure: list[BaseException] = []

    async def autopilot(pilot: Pilot) -> None:
        try:
            await _Session(script, stage, pilot, live=True).run()
            await asyncio.sleep(2.0)
        except BaseException as exc:  # reported after the app has restored the terminal
            failure.append(exc)
        finally:
            stage.app.exit()

    async with stage_factory(script) as stage:
        await stage.app.run_async(auto_pilot=autopilot)
    if failure:
        raise failure[0]
