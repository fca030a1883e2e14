"""`kstor sim serve`: run the embedded cluster behind its HTTPS API server until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from kstor.errors import KstorError


def register(subparsers: Any) -> None:
    sim = subparsers.add_parser("sim", help="the embedded cluster (kstor.sim)")
    commands = sim.add_subparsers(dest="sim_command", metavar="COMMAND", required=True)
    serve = commands.add_parser("serve", help="serve the embedded cluster over HTTPS for kubectl and kstor")
    serve.add_argument("--scenario", help="built-in scenario name or YAML path (default: an empty cluster)")
    serve.add_argument(
        "--kubeconfig-out",
        type=Path,
        default=Path("kstor-sim.kubeconfig"),
        help="where to write the kubeconfig (mode 0600; default ./kstor-sim.kubeconfig)",
    )
    serve.add_argument("--speed", type=float, default=1.0, help="sim seconds per real second (default 1)")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free port)")
    serve.add_argument(
        "--state",
        type=Path,
        help="restore from this file on start if it exists (instead of --scenario); save to it on shutdown",
    )
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    if args.speed <= 0:
        raise KstorError(f"--speed must be positive, got {args.speed}")
    if not 0 <= args.port <= 65535:
        raise KstorError(f"--port must be 0..65535, got {args.port}")
    return asyncio.run(_serve(args))


def _load_scenario(cluster: Any, scenario: str) -> None:
    try:
        cluster.load_scenario(scenario)
    except ModuleNotFoundError as exc:
        if exc.name != "kstor.sim.scenario":
            raise
        print(
            f"kstor sim: scenarios are not available in this build; serving an empty cluster instead of "
            f"{scenario!r}",
            file=sys.stderr,
        )
    except KstorError:
        raise
    except (OSError, ValueError, KeyError, LookupError) as exc:
        raise KstorError(f"scenario {scenario}: {exc}") from None


async def _serve(args: argparse.Namespace) -> int:
    from kstor.sim.apiserver.server import ApiServer
    from kstor.sim.apiserver.state import load_state, save_state
    from kstor.sim.cluster import SimCluster

    cluster = SimCluster(speed=args.speed)
    restored = args.state is not None and args.state.exists()
    if restored:
        load_state(cluster.registry, args.state)
    elif args.scenario:
        _load_scenario(cluster, args.scenario)
    server = ApiServer(cluster)
    try:
        await server.start(args.port)
    except OSError as exc:
        raise KstorError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    try:
        server.write_kubeconfig(args.kubeconfig_out)
    except OSError as exc:
        await server.stop()
        raise KstorError(f"{args.kubeconfig_out}: cannot write kubeconfig: {exc.strerror or exc}") from None
    await cluster.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    origin = f"state {args.state}" if restored else f"scenario {args.scenario or '(empty)'}"
    kubeconfig = args.kubeconfig_out.resolve()
    print(f"kstor sim: serving the embedded cluster at {server.url} ({origin}, speed {args.speed:g})")
    print(f"  export KUBECONFIG={kubeconfig}; kubectl get pv")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
        await cluster.stop()
        if args.state is not None:
            save_state(cluster.registry, args.state)
            print(f"kstor sim: state saved to {args.state}", flush=True)
    print("kstor sim: stopped", flush=True)
    return 0
