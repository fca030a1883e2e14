"""`kstor drill run|validate|list`: scripted, timed chaos with reports for CI."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from chaos.errors import ConfirmationRefused, DrillFormatError
from chaos.journal import Journal, default_journal_path


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "drill", help="run a chaos drill (YAML) and measure detection and recovery"
    )
    sub = parser.add_subparsers(dest="drill_command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run a drill file (or a library drill by name)")
    run.add_argument(
        "file", help="drill file, or the name of a drill in the library (see `kstor drill list`)"
    )
    run.add_argument(
        "--speed", type=float, default=None, help="sim clock speed when the drill starts the sim"
    )
    run.add_argument("--report-dir", help="write JSON, JUnit XML and Markdown reports here")
    run.add_argument("--journal", help=f"journal file (default {default_journal_path()})")
    run.add_argument("--dry-run", action="store_true", help="print each action's preview; touch nothing")
    run.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    run.set_defaults(func=_run_command)

    validate = sub.add_parser("validate", help="check drill files (schema and kstor's own checks)")
    validate.add_argument("files", nargs="+", help="drill files or library names")
    validate.set_defaults(func=_validate_command)

    listing = sub.add_parser("list", help="list the drills in the library")
    listing.set_defaults(func=_list_command)


def find_drill(name: str) -> Path:
    from chaos.drill.loader import library_path

    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name:
        return path
    candidate = library_path() / f"{name}.yaml"
    return candidate if candidate.exists() else path


def _validate_command(args: argparse.Namespace) -> int:
    from chaos.drill.loader import load_drill

    failed = 0
    for name in args.files:
        try:
            drill = load_drill(find_drill(name))
        except DrillFormatError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        print(f"{drill.path}: ok ({drill.title})")
    return 1 if failed else 0


def _list_command(args: argparse.Namespace) -> int:
    from chaos.drill.loader import library, load_drill

    for path in library():
        drill = load_drill(path)
        print(f"{path.stem:<28} {drill.target:<12} {drill.title}")
    return 0


def _confirm(lines: list[str]) -> bool:
    for line in lines:
        print(line)
    if not sys.stdin.isatty():
        raise ConfirmationRefused("drill: no terminal to confirm on; pass --yes")
    return input("Run this drill? [y/N] ").strip().lower() in {"y", "yes"}


def _print_step(record: Any) -> None:
    state = "ok" if record.ok else f"FAILED: {record.error}"
    print(f"  [{record.section} {record.index}] {record.description}: {state}")
    for line in record.output:
        print(f"      {line}")


def _run_command(args: argparse.Namespace) -> int:
    from chaos.drill.loader import load_drill
    from chaos.drill.runner import DrillRunner

    drill = load_drill(find_drill(args.file))
    own_sim = drill.sim_scenario is not None and not (args.kubeconfig or args.context)
    runner = DrillRunner(
        drill,
        kubeconfig=args.kubeconfig,
        context=args.context,
        speed=args.speed,
        journal=Journal(args.journal),
        dry_run=args.dry_run,
        # a sim this process starts itself touches nothing outside it: no need to ask
        confirm=None if (args.yes or args.dry_run or own_sim) else _confirm,
        on_status=lambda s: print(f"· {s}"),
        on_step=_print_step,
    )
    interrupted = False
    try:
        asyncio.run(_run_with_signals(runner))
    except KeyboardInterrupt:
        interrupted = True
        runner.result.status, runner.result.error = "error", "interrupted (rollbacks ran)"
    result = runner.result
    _print_summary(result)
    if args.report_dir and result.status != "dry-run":
        from chaos.drill.report import write_reports

        for path in write_reports(result, args.report_dir):
            print(f"report: {path}")
    if interrupted:
        return 130
    if result.status == "error" and result.error:
        print(f"kstor: error: {result.error}", file=sys.stderr)
    return result.exit_code


async def _run_with_signals(runner: Any) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await runner.run()
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _print_summary(result: Any) -> None:
    figures = result.figures
    print(f"drill {result.drill.title!r}: {result.status.upper()}")
    if result.status == "aborted":
        for problem in result.steady_problems:
            print(f"  not steady: {problem}")
    if figures is not None:
        detect = "—" if figures.detect is None else f"{figures.detect:.1f}s"
        recover = "—" if figures.recover is None else f"{figures.recover:.1f}s"
        print(f"  time to detect: {detect}   time to recover: {recover}")
    for slo in result.slos:
        print(f"  {'PASS' if slo.ok else 'FAIL'}  {slo.title}: {slo.detail}")
