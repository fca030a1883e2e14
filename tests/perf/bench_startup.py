"""Start-up benchmark: `kstor --sim small` in a terminal until a person sees the nodes with their volumes.

    python tests/perf/bench_startup.py [--quick] [--runs N]

The dashboard runs in a pseudo-terminal (160x50) exactly as the README's quickstart starts it; its output is
fed to a VT emulator (pyte), and the clock stops when the screen first shows a worker node, then a mounted
volume, then every volume it will show as mounted (the count it then holds). The baseline, measured
on the same machine just before: the embedded cluster alone
(`kstor sim serve --scenario small`) from launch until its API reports every pod Running with its volumes
mounted — the earliest moment any client could show them. Reported: the medians and the ratio
dashboard ÷ sim alone. Target (issue #5): a person sees the nodes with their volumes within 2 s of start.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import urllib.request
from pathlib import Path

import pyte
import yaml

COLUMNS, LINES = 160, 50
TIMEOUT = 30.0
SETTLE = 1.5


def _env() -> dict[str, str]:
    return {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}


def dashboard_run() -> tuple[float, float, float]:
    """Seconds from launch to (a worker node, the first Mounted badge, the final count of Mounted badges).

    The final count is the one the screen holds for SETTLE seconds; the time is when it was first reached.
    """
    screen = pyte.Screen(COLUMNS, LINES)
    stream = pyte.ByteStream(screen)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kstor", "--sim", "small"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=_env(),
        start_new_session=True,
    )
    os.close(follower)
    node_at = mounted_at = None
    count, count_at = 0, 0.0
    try:
        while time.monotonic() - start < TIMEOUT:
            if mounted_at is not None and time.monotonic() - start - count_at > SETTLE:
                break
            ready, _, _ = select.select([leader], [], [], 0.05)
            if not ready:
                continue
            try:
                stream.feed(os.read(leader, 1 << 16))
            except OSError:
                break
            text = "\n".join(screen.display)
            now = time.monotonic() - start
            if node_at is None and "worker-1" in text:
                node_at = now
            if node_at is not None and "Mounted" in text and mounted_at is None:
                mounted_at = now
            if text.count("Mounted") != count:
                count, count_at = text.count("Mounted"), now
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(leader)
    if node_at is None or mounted_at is None:
        raise SystemExit(f"dashboard never showed a mounted volume within {TIMEOUT:g}s")
    return node_at, mounted_at, count_at


def _get(kubeconfig: dict, path: str) -> dict:
    cluster = kubeconfig["clusters"][0]["cluster"]
    token = kubeconfig["users"][0]["user"]["token"]
    ctx = ssl.create_default_context(cadata=_ca(cluster))
    request = urllib.request.Request(cluster["server"] + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, context=ctx, timeout=5) as response:
        return json.load(response)


def _ca(cluster: dict) -> str:
    import base64

    return base64.b64decode(cluster["certificate-authority-data"]).decode()


def sim_alone_run() -> float:
    """Seconds from launching the sim to every pod Running with its volumes mounted (read over the API)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kubeconfig"
        start = time.monotonic()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kstor",
                "sim",
                "serve",
                "--scenario",
                "small",
                "--kubeconfig-out",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while time.monotonic() - start < TIMEOUT:
                if path.exists() and path.stat().st_size > 0:
                    pods = _get(yaml.safe_load(path.read_text()), "/api/v1/pods")["items"]
                    with_claims = [
                        p
                        for p in pods
                        if any(v.get("persistentVolumeClaim") for v in p["spec"].get("volumes", []))
                    ]
                    if with_claims and all(
                        p.get("status", {}).get("phase") == "Running"
                        and "kstor.io/mounts" in p["metadata"].get("annotations", {})
                        for p in with_claims
                    ):
                        return time.monotonic() - start
                time.sleep(0.01)
        finally:
            proc.terminate()
            proc.wait(10)
    raise SystemExit(f"the sim alone did not run every pod within {TIMEOUT:g}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each instead of five")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    sim_alone, nodes, mounted, settled = [], [], [], []
    for _ in range(runs):  # interleaved, so a change in machine load hits both alike
        sim_alone.append(sim_alone_run())
        node_at, mounted_at, settled_at = dashboard_run()
        nodes.append(node_at)
        mounted.append(mounted_at)
        settled.append(settled_at)
    figures = {
        "runs": runs,
        "sim_alone_all_mounted_s": round(statistics.median(sim_alone), 3),
        "dashboard_nodes_s": round(statistics.median(nodes), 3),
        "dashboard_first_mounted_s": round(statistics.median(mounted), 3),
        "dashboard_all_mounted_s": round(statistics.median(settled), 3),
        "dashboard_all_mounted_max_s": round(max(settled), 3),
    }
    figures["ratio_all_mounted_vs_sim_alone"] = round(
        figures["dashboard_all_mounted_s"] / figures["sim_alone_all_mounted_s"], 2
    )
    figures["target_2s_met"] = figures["dashboard_all_mounted_s"] < 2.0
    print(f"{'figure':34} {'value':>10}")
    for key, value in figures.items():
        print(f"{key:34} {value!s:>10}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
