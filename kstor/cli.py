"""The `kstor` command line.

`kstor` opens the dashboard on the current kube context, `kstor --sim [SCENARIO]` on the embedded
cluster. Sub-commands live next to the code they drive; each module exposes
`register(subparsers)` and is imported only when the sub-command is used, so `kstor sim serve`
never loads Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kstor.errors import KstorError

# sub-command -> module exposing register(subparsers)
SUBCOMMANDS: dict[str, str] = {
    "sim": "kstor.sim.cli",
    "chaos": "chaos.cli",
    "drill": "chaos.drill_cli",
    "lab": "kstor.lab.cli",
    "demo": "kstor.demo.cli",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kstor",
        description="Terminal dashboard and chaos tester for Kubernetes storage.",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kube context to use (default: the current context)")
    parser.add_argument(
        "--sim",
        nargs="?",
        const="small",
        metavar="SCENARIO",
        help="open the dashboard on the embedded cluster (default scenario: small)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="embedded cluster clock speed (with --sim)")
    parser.add_argument("-n", "--namespace", action="append", help="limit to namespace(s)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=f"see `kstor {name} --help`")
            continue
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise
            sub.add_parser(name, help="(not available in this build)")
    return parser


def _wanted_subcommand(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in SUBCOMMANDS:
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_wanted_subcommand(argv) or "")
    args = parser.parse_args(argv)
    try:
        func = getattr(args, "func", None)
        if func is None:
            from kstor.tui.cli import run_dashboard

            return run_dashboard(args)
        return int(func(args) or 0)
    except KstorError as exc:
        print(f"kstor: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
