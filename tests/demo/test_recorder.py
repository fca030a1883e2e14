"""The recorder on a toy stage: valid asciicast, deterministic frames, SVG per caption, line-named errors."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from kstor.demo.asciicast import parse_cast
from kstor.demo.frames import plain_lines
from kstor.demo.recorder import DemoFailed, record
from kstor.demo.script import DemoScript, ScriptError, load_script


class ClockApp(App):
    """Shows a simulated clock and the last key pressed."""

    BINDINGS = [("a", "mark('a')", "mark a"), ("b", "mark('b')", "mark b")]

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.last = "-"

    def compose(self) -> ComposeResult:
        yield Static(id="clock")

    def refresh_clock(self) -> None:
        self.query_one("#clock", Static).update(f"sim time {self.seconds:.0f}s  last key {self.last}")

    def action_mark(self, key: str) -> None:
        self.last = key
        self.refresh_clock()


class ToyStage:
    def __init__(self) -> None:
        self.app = ClockApp()
        self.chaos_log: list[dict] = []

    async def settle(self) -> None:
        self.app.refresh_clock()

    async def advance(self, seconds: float) -> None:
        self.app.seconds += seconds

    async def check(self, condition: str) -> bool:
        name, _, value = condition.partition(">=")
        if name.strip() != "time":
            raise ScriptError(f"unknown condition {condition!r}")
        return self.app.seconds >= float(value)

    async def chaos(self, action: dict) -> None:
        self.chaos_log.append(action)
        self.app.last = f"chaos:{action['action']}"


@asynccontextmanager
async def toy_stage(script: DemoScript):
    yield ToyStage()


SCRIPT = """\
title: Toy demo
size: [60, 20]
steps:
  - caption: First the clock
    hold: 3
  - press: [a, b]
  - advance: 3
  - caption: Then we wait
  - wait: {until: "time >= 6", timeout: 10}
  - chaos: {action: kill-nfs}
  - caption: Done
"""


def write(tmp_path: Path, text: str, name: str = "toy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


async def test_recording_is_a_valid_cast_with_one_svg_per_caption(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    recording = await record(script, toy_stage)
    files = recording.write(tmp_path / "out", script.name)
    cast = parse_cast((tmp_path / "out" / "toy.cast").read_text())
    assert (cast.width, cast.height) == (60, 20)
    times = [t for t, _ in cast.events]
    assert times == sorted(times) and len(times) >= 6
    assert [p.name for p in files[1:]] == ["toy-01.svg", "toy-02.svg", "toy-03.svg", "toy-final.svg"]
    assert recording.captions == ["First the clock", "Then we wait", "Done"]
    last = "\n".join(plain_lines(cast.events[-1][1], cast.width))
    assert "sim time 6s" in last and "last key chaos:kill-nfs" in last and "Done" in last
    # the final SVG shows the same screen as the cast's last frame
    svg = (tmp_path / "out" / "toy-03.svg").read_text()
    svg_text = re.sub(r"&#160;", " ", svg)
    assert "sim&#160;time&#160;6s" in svg or "sim time 6s" in svg_text


async def test_two_recordings_are_identical_apart_from_the_header_timestamp(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    first = (await record(script, toy_stage)).cast.dumps().splitlines()
    second = (await record(script, toy_stage)).cast.dumps().splitlines()
    assert first[1:] == second[1:]
    strip = re.compile(r'"timestamp": \d+, ')
    assert strip.sub("", first[0]) == strip.sub("", second[0])


async def test_a_wait_that_never_holds_names_its_line(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, "title: t\nsteps:\n  - wait: {until: 'time >= 99', timeout: 2}\n"))
    with pytest.raises(DemoFailed, match=r"toy.yaml:3: `time >= 99` still false after 2 s"):
        await record(script, toy_stage)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: t\nsteps: []\n", r"toy.yaml:2: steps must be a non-empty list"),
        ("steps:\n  - press: a\n", r"toy.yaml:1: missing `title`"),
        ("title: t\nsteps:\n  - press: a\n  - jump: 3\n", r"toy.yaml:4: a step needs exactly one of"),
        ("title: t\nsteps:\n  - advance: soon\n", r"toy.yaml:3: advance must be a float"),
        ("title: t\nsteps:\n  - wait: {timeout: 3}\n", r"toy.yaml:3: wait needs `until"),
        ("title: t\nsize: [10, 5]\nsteps:\n  - press: a\n", r"toy.yaml:2: size must be"),
        ("title: t\nsteps:\n  - caption: hi\n    colour: red\n", r"toy.yaml:4: caption step: unknown field"),
        ("title: [unclosed\n", r"toy.yaml:2: not valid YAML"),
        ("title: t\ncolour: x\nsteps:\n  - press: a\n", r"toy.yaml:2: unknown field 'colour'"),
    ],
)
def test_malformed_scripts_get_one_line_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ScriptError, match=expected) as err:
        load_script(write(tmp_path, text))
    assert "\n" not in str(err.value)
