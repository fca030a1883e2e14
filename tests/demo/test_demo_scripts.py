"""The shipped demo scripts, recorded on the embedded cluster as `kstor demo record` does it."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pyte
import pytest

from kstor.demo.asciicast import parse_cast
from kstor.demo.cli import SCRIPTS_DIR, load

SHIPPED = ["seed-walkthrough", "nfs-outage", "drain-node"]
RICH_CHAR_WIDTH = 12.2  # Rich's SVG export: one terminal cell is 12.2 units wide


def record(script: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kstor", "demo", "record", script, "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def replay(cast_text: str) -> list[str]:
    """What a terminal shows after playing the cast (pyte is a VT100 emulator)."""
    cast = parse_cast(cast_text)
    screen = pyte.Screen(cast.width, cast.height)
    stream = pyte.Stream(screen)
    for _, data in cast.events:
        stream.feed(data)
    return [line.rstrip() for line in screen.display]


def svg_lines(svg: str, height: int) -> list[str]:
    """The terminal text of a Rich SVG screenshot, placed back on its character grid."""
    grid: dict[int, dict[int, str]] = {}
    svg = svg[svg.index("-clip-terminal)") :]  # the terminal's cells, not the window title
    rows = sorted({float(y) for y in re.findall(r'<text [^>]*?y="([\d.]+)"', svg)})
    for x, y, text in re.findall(r'<text [^>]*?x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        row, col = rows.index(float(y)), round(float(x) / RICH_CHAR_WIDTH)
        for offset, char in enumerate(html.unescape(text).replace("\xa0", " ")):
            grid.setdefault(row, {})[col + offset] = char
    lines = []
    for row in range(height):
        cells = grid.get(row, {})
        lines.append("".join(cells.get(c, " ") for c in range(max(cells, default=-1) + 1)).rstrip())
    return lines


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scripts_load_with_valid_wait_conditions(name: str) -> None:
    script = load(name)
    assert script.path == SCRIPTS_DIR / f"{name}.yaml"
    assert sum(step.kind == "caption" for step in script.steps) >= 3


@pytest.fixture(scope="module")
def seed_recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    for out in (first, second):
        result = record("seed-walkthrough", out)
        assert result.returncode == 0, result.stderr
    return first, second


def test_seed_walkthrough_recording_is_valid_asciicast_with_svg_frames(
    seed_recordings: tuple[Path, Path],
) -> None:
    out, _ = seed_recordings
    cast = parse_cast((out / "seed-walkthrough.cast").read_text())
    assert (cast.width, cast.height) == (140, 42)
    times = [t for t, _ in cast.events]
    assert times == sorted(times) and len(times) > 10
    captions = sorted(out.glob("seed-walkthrough-[0-9]*.svg"))
    assert len(captions) == sum(s.kind == "caption" for s in load("seed-walkthrough").steps)
    final_screen = "\n".join(replay((out / "seed-walkthrough.cast").read_text()))
    # the walkthrough ends on the Nodes screen with the local-SSD volumes attached and mounted
    assert "Mounted" in final_screen and "Attached" in final_screen and "db-0" in final_screen


def test_cast_replays_to_the_same_final_screen_as_the_svg(seed_recordings: tuple[Path, Path]) -> None:
    out, _ = seed_recordings
    screen = replay((out / "seed-walkthrough.cast").read_text())
    svg = svg_lines((out / "seed-walkthrough-final.svg").read_text(), len(screen))
    assert [line for line in screen if line] and screen == svg


def test_two_recordings_are_byte_identical_but_for_the_header_timestamp(
    seed_recordings: tuple[Path, Path],
) -> None:
    first, second = seed_recordings
    a = (first / "seed-walkthrough.cast").read_text().splitlines()
    b = (second / "seed-walkthrough.cast").read_text().splitlines()
    drop_timestamp = re.compile(r'"timestamp": \d+, ')
    assert drop_timestamp.sub("", a[0]) == drop_timestamp.sub("", b[0])
    assert a[1:] == b[1:]
    for svg in first.glob("*.svg"):
        assert svg.read_bytes() == (second / svg.name).read_bytes(), svg.name


@pytest.mark.parametrize(
    ("name", "expected_text"),
    [("nfs-outage", "mount.nfs: Connection timed out"), ("drain-node", "cordoned")],
)
def test_chaos_demos_show_the_fault_on_screen(tmp_path: Path, name: str, expected_text: str) -> None:
    result = record(name, tmp_path)
    assert result.returncode == 0, result.stderr
    cast = parse_cast((tmp_path / f"{name}.cast").read_text())
    screens = []
    emulator = pyte.Screen(cast.width, cast.height)
    stream = pyte.Stream(emulator)
    for _, data in cast.events:
        stream.feed(data)
        screens.append("\n".join(emulator.display))
    assert any(expected_text in screen for screen in screens), f"{expected_text!r} never on screen"
    assert "Running" in screens[-1]


def test_malformed_script_gets_one_line_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "title: bad\nscenario: seed\nsteps:\n  - caption: hi\n  - wait: {until: {pvc-bound: nope}}\n"
    )
    result = record(str(bad), tmp_path / "out")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"{bad}:5: bad wait condition" in result.stderr
    assert not (tmp_path / "out").exists()
