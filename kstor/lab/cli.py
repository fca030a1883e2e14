"""`kstor lab up | down | status`: a kind cluster ready for storage drills (needs Docker)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import TextIO

from kstor.errors import KstorError
from kstor.lab.plan import CLUSTER_NAME, CONTEXT, TOOLS, Step, down_plan, status_plan, up_plan


def register(sub: argparse._SubParsersAction) -> None:
    lab = sub.add_parser("lab", help="create, inspect or delete the kind lab cluster (needs Docker)")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    for name, help_text in (
        ("up", "create the cluster with NFS, the CSI hostpath driver and sample workloads"),
        ("down", "delete the lab cluster"),
        ("status", "show the lab's nodes, classes, volumes, claims and attachments"),
    ):
        cmd = lab_sub.add_parser(name, help=help_text)
        cmd.add_argument(
            "--dry-run", action="store_true", help="print every command and manifest; run nothing"
        )
        cmd.set_defaults(func=run_lab)


def missing_tools(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    return [tool for tool in TOOLS if which(tool) is None]


def require_tools(which: Callable[[str], str | None] = shutil.which) -> None:
    missing = missing_tools(which)
    if missing:
        hints = "; ".join(f"{tool}: {TOOLS[tool]}" for tool in missing)
        raise KstorError(f"kstor lab needs {', '.join(missing)} on PATH — {hints}")


def require_docker_engine() -> None:
    result = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        raise KstorError(f"Docker is installed but its engine is not reachable (docker info: {detail})")


def cluster_exists() -> bool:
    result = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, check=False)
    return CLUSTER_NAME in result.stdout.split()


def print_plan(steps: Iterable[Step], out: TextIO) -> None:
    for number, step in enumerate(steps, 1):
        out.write(f"# {number}. {step.description}\n$ {' '.join(step.argv)}\n")
        if step.manifest is not None:
            out.write(f"--- {step.manifest.name}\n{step.manifest.read_text().rstrip()}\n---\n")


def execute(steps: Iterable[Step], out: TextIO) -> None:
    for step in steps:
        out.write(f"kstor lab: {step.description}\n")
        out.flush()
        result = subprocess.run(step.argv, capture_output=True, text=True, check=False)
        if (
            result.stdout.strip()
            and step.argv[:3] == ["kubectl", "--context", CONTEXT]
            and "get" in step.argv
        ):
            out.write(result.stdout)
        if result.returncode != 0 and not step.tolerate_failure:
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise KstorError(f"`{' '.join(step.argv)}` failed (exit {result.returncode}): {detail}")


def run_lab(args: argparse.Namespace) -> int:
    action = args.lab_command
    if args.dry_run:
        steps = up_plan() if action == "up" else down_plan() if action == "down" else status_plan()
        print_plan(steps, sys.stdout)
        return 0
    require_tools()
    require_docker_engine()
    if action == "up":
        execute(up_plan(cluster_exists=cluster_exists()), sys.stdout)
        print(f"kstor lab: ready — open the dashboard with `kstor --context {CONTEXT}`")
    elif action == "down":
        execute(down_plan(), sys.stdout)
    else:
        if not cluster_exists():
            raise KstorError(f"no kind cluster named {CLUSTER_NAME}: run `kstor lab up` first")
        execute(status_plan(), sys.stdout)
    return 0
