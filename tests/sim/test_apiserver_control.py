"""The `/_sim/` control endpoints another process uses to drive chaos, and serving a scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import urllib3

from kstor.sim.testing import SimServerThread, wait_for


def post(
    sim: SimServerThread,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    method: str = "POST",
    token: str | None = None,
) -> tuple[int, Any]:
    http = urllib3.PoolManager(cert_reqs="CERT_NONE")
    urllib3.disable_warnings()
    resp = http.request(
        method,
        sim.server + path,
        body=json.dumps(body or {}),
        headers={"Authorization": f"Bearer {token or sim.token}", "Content-Type": "application/json"},
    )
    return resp.status, json.loads(resp.data)


def test_clock_and_loops_over_http(sim: SimServerThread) -> None:
    code, clock = post(sim, "/_sim/clock", method="GET")
    assert code == 200 and clock["speed"] == 200.0 and clock["manual"] is False
    code, loops = post(sim, "/_sim/loops", method="GET")
    names = [loop["name"] for loop in loops["loops"]]
    assert code == 200 and names and all(loop["running"] for loop in loops["loops"])
    target = names[0]
    code, stopped = post(sim, f"/_sim/loops/{target}/stop")
    assert code == 200 and stopped == {"name": target, "running": False}
    assert sim.call(sim.cluster.controllers.running, target) is False
    code, started = post(sim, f"/_sim/loops/{target}/start")
    assert code == 200 and started["running"] is True
    code, missing = post(sim, "/_sim/loops/no-such-loop/stop")
    assert code == 404 and missing["kind"] == "Status"


def test_faults_over_http_and_auth(sim: SimServerThread) -> None:
    assert post(sim, "/_sim/faults/deny", {"resource": "nodes", "verb": "list"}, token="wrong")[0] == 401
    code, faults = post(sim, "/_sim/faults/deny", {"resource": "nodes", "verb": "list"})
    assert code == 200 and faults["denied"] == ["nodes:list"]
    code, status = post(sim, "/api/v1/nodes", method="GET")
    assert code == 403 and status["reason"] == "Forbidden"
    post(sim, "/_sim/faults/fail", {"resource": "nodes", "count": 1, "code": 500})
    post(sim, "/_sim/faults/clear")
    assert post(sim, "/api/v1/nodes", method="GET")[0] == 200
    code, result = post(sim, "/_sim/faults/fail", {"resource": "nodes", "count": 1, "code": 404})
    assert code == 400 and "bad fault request" in result["message"]


def test_sim_server_thread_with_a_scenario_and_manual_clock() -> None:
    with SimServerThread(scenario="seed", manual_clock=True, with_controllers=False) as sim:
        nodes = sim.call(sim.registry.list, "nodes")["items"]
        assert nodes, "the seed scenario has nodes"
        before = sim.call(sim.registry.clock.elapsed)
        code, _ = post(sim, "/_sim/clock/advance", {"seconds": 30})
        assert code == 200 and sim.call(sim.registry.clock.elapsed) == before + 30


def test_serve_unknown_scenario_is_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kstor",
            "sim",
            "serve",
            "--scenario",
            "no-such-scenario",
            "--kubeconfig-out",
            str(tmp_path / "kc"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "no-such-scenario" in result.stderr


def test_serve_a_scenario_for_kubectl(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kstor",
            "sim",
            "serve",
            "--scenario",
            "seed",
            "--speed",
            "20",
            "--kubeconfig-out",
            str(tmp_path / "kc"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: (tmp_path / "kc").exists(), 30, "no kubeconfig written")
        out = wait_for(
            lambda: (
                subprocess.run(
                    [
                        "kubectl",
                        "--kubeconfig",
                        str(tmp_path / "kc"),
                        "--request-timeout=5s",
                        "get",
                        "nodes",
                        "-o",
                        "name",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=30,
                ).stdout
            ),
            30,
            "kubectl saw no nodes",
        )
        assert out.startswith("node/")
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
