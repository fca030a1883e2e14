"""Drill files: the library validates; malformed files give one `file:line: what` line each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.drill.loader import library, load_drill, parse_drill
from chaos.errors import DrillFormatError

GOOD = """\
title: cordon a node
target: sim:small
method:
  - action: cordon
    target: node-1
  - wait-for: {pods-running: {namespace: default, selector: app=web}}
    timeout: 60
  - pause: 5
  - undo: cordon
slos:
  - time-to-recover: "<= 60s"
  - expect: {pv-phase: {claim: default/data, phase: Bound}}
    within: 30
"""


def error_of(text: str) -> str:
    with pytest.raises(DrillFormatError) as err:
        parse_drill(text, "d.yaml")
    return str(err.value)


def test_a_good_drill_parses_with_steps_and_slos() -> None:
    drill = parse_drill(GOOD, "d.yaml")
    assert drill.sim_scenario == "small"
    assert [s.describe() for s in drill.method] == [
        "cordon node-1",
        "wait for pods-running(namespace=default, selector=app=web) (up to 60s)",
        "pause 5s",
        "undo cordon",
    ]
    assert [s.title for s in drill.slos] == [
        "time-to-recover <= 60s",
        "expect pv-phase(claim=default/data, phase=Bound) within 30s",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: x\ntarget: sim:small\nmethod: [\n", "d.yaml:4: invalid YAML"),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: explode\n    target: n\n",
            "d.yaml:4: unknown action 'explode'",
        ),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n",
            "d.yaml:4: action cordon needs a target",
        ),
        ("title: x\ntarget: sim:small\nmethod:\n  - pause: 5\n", "d.yaml:3: the method has no action step"),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n    target: n\nbogus: 1\n",
            "d.yaml:6: bogus: unknown key (allowed: description, method, observe",
        ),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: drain\n    target: n\n"
            "    options:\n      forse: true\n",
            "d.yaml:6: drain: unknown option(s): forse",
        ),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n    target: n\n"
            "  - wait-for: {pvc-bound: no-slash}\n",
            "d.yaml:6: expected NAMESPACE/NAME, got 'no-slash'",
        ),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n    target: n\nslos:\n"
            "  - expect: {pv-phase: {name: a, phase: Gone}}\n    within: 5\n",
            "d.yaml:7: phase must be one of",
        ),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n    target: n\n  - undo: drain\n",
            "d.yaml:6: undo: no earlier action step named 'drain'",
        ),
        ("title: x\ntarget: sim:small\ntitle: y\nmethod: []\n", "d.yaml:3: duplicate key 'title'"),
        (
            "title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n    target: n\nslos:\n"
            "  - time-to-recover: soon\n",
            "d.yaml:7: ",
        ),
    ],
)
def test_malformed_drills_are_one_line_with_file_and_line(text: str, expected: str) -> None:
    message = error_of(text)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_every_library_drill_validates() -> None:
    drills = library()
    assert len(drills) >= 8
    for path in drills:
        drill = load_drill(path)
        assert drill.target.startswith("sim:"), path
        assert drill.slos, f"{path} asserts nothing"


def test_validate_cli_prints_one_line_per_bad_file_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\ntarget: sim:small\nmethod:\n  - action: cordon\n")
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    result = subprocess.run(
        [sys.executable, "-m", "kstor", "drill", "validate", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 1
    assert result.stderr == f"{bad}:4: action cordon needs a target (NAME)\n"
    assert f"{good}: ok (cordon a node)" in result.stdout
