"""`kstor demo record SCRIPT --out DIR`, `kstor demo play SCRIPT`, `kstor demo list`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from kstor.demo.script import DemoScript, load_script
from kstor.errors import KstorError

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "demo" / "scripts"


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="record or play a scripted demo on the embedded cluster")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    rec = demo_sub.add_parser("record", help="record SCRIPT headless: an asciicast + one SVG per caption")
    rec.add_argument("script", help="a script name (see `kstor demo list`) or a YAML file")
    rec.add_argument("--out", required=True, type=Path, help="directory for NAME.cast and NAME-NN.svg")
    rec.set_defaults(func=run_record)
    play = demo_sub.add_parser("play", help="run SCRIPT live in this terminal")
    play.add_argument("script", help="a script name (see `kstor demo list`) or a YAML file")
    play.set_defaults(func=run_play)
    listing = demo_sub.add_parser("list", help="the demo scripts that ship with kstor")
    listing.set_defaults(func=run_list)


def resolve(script: str) -> Path:
    path = Path(script)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        return path
    candidate = SCRIPTS_DIR / f"{script}.yaml"
    if not candidate.exists():
        known = ", ".join(p.stem for p in sorted(SCRIPTS_DIR.glob("*.yaml"))) or "none"
        raise KstorError(f"no demo script named {script!r}; known: {known}")
    return candidate


def load(script: str) -> DemoScript:
    from kstor.demo.probes import check_conditions

    loaded = load_script(resolve(script))
    check_conditions(loaded)
    return loaded


def _with_fixed_hash_seed() -> None:
    """Re-run this command with PYTHONHASHSEED=0 unless it already has it.

    The control loops keep work in sets of strings; with Python's per-process hash salt their
    iteration order — and so which pod is scheduled first — would differ between two recordings.
    """
    if os.environ.get("PYTHONHASHSEED") == "0":
        return
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "kstor", *sys.argv[1:]], env)


def run_record(args: argparse.Namespace) -> int:
    from kstor.demo.recorder import record
    from kstor.demo.stage import sim_stage

    script = load(args.script)
    _with_fixed_hash_seed()
    recording = asyncio.run(record(script, sim_stage))
    for path in recording.write(args.out, script.name):
        print(path)
    return 0


def run_play(args: argparse.Namespace) -> int:
    from kstor.demo.recorder import play
    from kstor.demo.stage import sim_stage

    asyncio.run(play(load(args.script), sim_stage))
    return 0


def run_list(args: argparse.Namespace) -> int:
    for path in sorted(SCRIPTS_DIR.glob("*.yaml")):
        print(f"{path.stem:20} {load_script(path).title}")
    return 0
