"""`kstor` with no sub-command: open the dashboard on a kube context or on the embedded cluster."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kstor.errors import KstorError

SIM_READY_TIMEOUT = 30.0


class SimChild:
    """`kstor sim serve` in a child process with a temporary kubeconfig; stopped on exit.

    A child, not a thread: the dashboard's event loop never competes with the sim's control loops,
    and the dashboard connects exactly as it would to any cluster.
    """

    def __init__(self, scenario: str, *, speed: float = 1.0) -> None:
        self.scenario, self.speed = scenario, speed
        self.dir = tempfile.TemporaryDirectory(prefix="kstor-sim-")
        self.kubeconfig = Path(self.dir.name) / "kubeconfig"
        self.log = Path(self.dir.name) / "sim.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = SIM_READY_TIMEOUT) -> str:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the child without waiting, so the caller can do its own start-up meanwhile."""
        cmd = [
            sys.executable,
            "-m",
            "kstor",
            "sim",
            "serve",
            "--scenario",
            self.scenario,
            "--kubeconfig-out",
            str(self.kubeconfig),
            "--speed",
            str(self.speed),
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )

    def wait_ready(self, timeout: float = SIM_READY_TIMEOUT) -> str:
        """Block until the child has written its kubeconfig; return its path."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise KstorError(f"embedded cluster exited ({self.proc.returncode}): {self._last_line()}")
            if self.kubeconfig.exists() and self.kubeconfig.stat().st_size > 0:
                return str(self.kubeconfig)
            time.sleep(0.01)
        self.stop()
        raise KstorError(f"embedded cluster not ready after {timeout:g}s: {self._last_line()}")

    def _last_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
            if lines:
                return lines[-1].strip()
        return "no output"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.dir.cleanup()


def _die_with_parent() -> None:
    """Linux: the sim child gets SIGTERM if the dashboard dies without cleaning up (kill -9, lost tty)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run_dashboard(args: argparse.Namespace) -> int:
    # A closed terminal (SIGHUP) or a kill (SIGTERM) still stops the embedded cluster via `finally`.
    for sig in (signal.SIGHUP, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, _exit_on_signal)
    sim: SimChild | None = None
    kubeconfig, context = args.kubeconfig, args.context
    try:
        if args.sim:
            sim = SimChild(args.sim, speed=args.speed)
            sim.launch()
        # Importing Textual, the app and the kube client (~1 s together) takes about as long as the sim
        # child's own start-up: overlap them. The feed thread would otherwise import the client only once
        # the sim is ready.
        import kstor.kube.cluster
        import kstor.model.builder  # noqa: F401
        from kstor.tui.app import KstorApp
        from kstor.tui.live import LiveFeed

        if sim is not None:
            kubeconfig, context = sim.wait_ready(), None
        feed = LiveFeed(kubeconfig=kubeconfig, context=context, namespaces=args.namespace)
        feed.connect()

        app = KstorApp(feed, chaos=_chaos_bridge(kubeconfig=kubeconfig, context=context, feed=feed))
        app.run()
        if app.return_code not in (None, 0):
            return int(app.return_code)
        return 0
    finally:
        if sim is not None:
            sim.stop()


def _chaos_bridge(*, kubeconfig: str | None, context: str | None, feed: object) -> object | None:
    """Chaos from the dashboard, when the chaos package is installed (see screens/chaos.py)."""
    if os.environ.get("KSTOR_NO_CHAOS"):
        return None
    try:
        from kstor.tui.chaos_bridge import ChaosBridge
    except ImportError:
        return None
    return ChaosBridge(kubeconfig=kubeconfig, context=context, feed=feed)
