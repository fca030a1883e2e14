"""`kstor chaos ...`: one action at a time, its preview, `restore` and `list`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from chaos.actions import ACTIONS, ActionEnv, Preview
from chaos.config import load_config
from chaos.errors import ConfirmationRefused
from chaos.journal import Journal, default_journal_path


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("chaos", help="break something on purpose (guarded, journalled, undoable)")
    sub = parser.add_subparsers(dest="chaos_command", metavar="ACTION", required=True)
    for name, cls in ACTIONS.items():
        p = sub.add_parser(name, help=cls.summary, description=cls.summary)
        _add_action_arguments(p, cls)
        p.add_argument(
            "--dry-run", action="store_true", help="print the preview and what would be done; touch nothing"
        )
        p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        p.add_argument("--journal", help=f"journal file (default {default_journal_path()})")
        p.set_defaults(func=_run_action_command, action_name=name)

    preview = sub.add_parser("preview", help="show what an action would touch and affect")
    psub = preview.add_subparsers(dest="preview_action", metavar="ACTION", required=True)
    for name, cls in ACTIONS.items():
        p = psub.add_parser(name, help=cls.summary)
        _add_action_arguments(p, cls)
        p.set_defaults(func=_preview_command, action_name=name)

    restore = sub.add_parser("restore", help="undo what earlier chaos left (uncordon, scale back, ...)")
    restore.add_argument("--journal", help=f"journal file (default {default_journal_path()})")
    restore.add_argument("--dry-run", action="store_true", help="list what would be restored")
    restore.set_defaults(func=_restore_command)

    listing = sub.add_parser("list", help="list the actions and what the journal still has to undo")
    listing.add_argument("--journal", help=f"journal file (default {default_journal_path()})")
    listing.set_defaults(func=_list_command)


def _add_action_arguments(parser: argparse.ArgumentParser, cls: Any) -> None:
    parser.add_argument(
        "target", nargs="?" if cls.target_optional else None, metavar=cls.target_help, default=""
    )
    cls.add_arguments(parser)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    defaults = ACTIONS[args.action_name].defaults()
    return {k: getattr(args, k) for k in defaults if hasattr(args, k)}


def _target(args: argparse.Namespace) -> str:
    target = args.target or ""
    cls = ACTIONS[args.action_name]
    # `-n NS` from the top level applies to namespaced targets given as a bare name
    if cls.target_help == "NAMESPACE/NAME" and target and "/" not in target and args.namespace:
        target = f"{args.namespace[0]}/{target}"
    return target


def _print_preview(preview: Preview) -> None:
    for line in preview.lines():
        print(line)


def _confirm(preview: Preview) -> bool:
    if not sys.stdin.isatty():
        raise ConfirmationRefused(f"{preview.action} {preview.target}: no terminal to confirm on; pass --yes")
    answer = input("Proceed? [y/N] ").strip().lower()
    return answer in {"y", "yes"}


def _run_action_command(args: argparse.Namespace) -> int:
    return asyncio.run(_run_action(args, preview_only=False))


def _preview_command(args: argparse.Namespace) -> int:
    return asyncio.run(_run_action(args, preview_only=True))


async def _run_action(args: argparse.Namespace, *, preview_only: bool) -> int:
    from chaos.runner import make_action, plan_action, run_action
    from chaos.session import open_session

    action = make_action(args.action_name, _target(args), _options(args))
    config = load_config()
    session = await open_session(args.kubeconfig, args.context, config=config)
    try:
        env = ActionEnv(api=session.api, clock=session.clock, sim=session.sim, say=print)
        if preview_only:
            _print_preview((await plan_action(env, action, config=config)).preview)
            return 0
        dry_run = bool(args.dry_run)
        result = await run_action(
            env,
            action,
            context=session.info.context,
            kubeconfig=session.kubeconfig,
            journal=Journal(args.journal),
            dry_run=dry_run,
            confirm=None if (args.yes or dry_run) else _preview_then_confirm,
            config=config,
        )
        if dry_run:
            _print_preview(result.plan.preview)
            print(f"dry run: would {action.name} {result.plan.preview.target}; nothing was changed")
            return 0
        for line in result.done:
            print(line)
        return 0
    finally:
        await session.close()


def _preview_then_confirm(preview: Preview) -> bool:
    _print_preview(preview)
    return _confirm(preview)


def _restore_command(args: argparse.Namespace) -> int:
    return asyncio.run(_restore(args))


async def _restore(args: argparse.Namespace) -> int:
    from chaos.restore import restore_journal

    return await restore_journal(
        Journal(args.journal), kubeconfig=args.kubeconfig, context=args.context, dry_run=args.dry_run
    )


def _list_command(args: argparse.Namespace) -> int:
    width = max(len(n) for n in ACTIONS)
    for name, cls in ACTIONS.items():
        sim = " (embedded cluster only)" if cls.sim_only else ""
        print(f"{name:<{width}}  {cls.target_help:<15} {cls.summary}{sim}")
    pending = Journal(args.journal).pending()
    print(f"\njournal: {len(pending)} action(s) to restore")
    for entry in pending:
        print(f"  {entry.action} {entry.target} on {entry.context} ({entry.status})")
    return 0
