"""`kstor sim serve` as a user runs it: prints how to connect, serves, saves state, exits 0 on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kubernetes import client, config

from kstor.sim.apiserver.registry import Registry
from kstor.sim.apiserver.state import load_state, save_state
from kstor.sim.clock import Clock
from kstor.sim.testing import wait_for


def serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kstor",
            "sim",
            "serve",
            "--kubeconfig-out",
            str(tmp_path / "kc"),
            "--speed",
            "50",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    return proc, lines


def stop(proc: subprocess.Popen[str], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()


def pv(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/x"},
        },
    }


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_hint_serves_and_saves_state(tmp_path: Path, sig: int) -> None:
    state = tmp_path / "state.json"
    proc, lines = serve(tmp_path, "--state", str(state))
    try:
        wait_for(
            lambda: any("export KUBECONFIG=" in line for line in lines), 30, "no kubeconfig hint printed"
        )
        hint = next(line for line in lines if "export KUBECONFIG=" in line)
        assert hint.strip() == f"export KUBECONFIG={tmp_path / 'kc'}; kubectl get pv"
        v1 = client.CoreV1Api(config.new_client_from_config(config_file=str(tmp_path / "kc")))
        v1.create_persistent_volume(pv("kept"))
    finally:
        code = stop(proc, sig)
    assert code == 0, proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    names = [
        o["metadata"]["name"]
        for o in json.loads(state.read_text())["objects"]
        if o["kind"] == "PersistentVolume"
    ]
    assert names == ["kept"]

    proc, lines = serve(tmp_path, "--state", str(state))
    try:
        wait_for(lambda: any("export KUBECONFIG=" in line for line in lines), 30, "restart printed no hint")
        v1 = client.CoreV1Api(config.new_client_from_config(config_file=str(tmp_path / "kc")))
        assert [p.metadata.name for p in v1.list_persistent_volume().items] == ["kept"]
    finally:
        assert stop(proc, signal.SIGTERM) == 0


def test_corrupt_state_file_is_one_line_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"format": "kstor.sim/state-v1", "objects": [\n  {broken')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kstor",
            "sim",
            "serve",
            "--kubeconfig-out",
            str(tmp_path / "kc"),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"kstor: error: {state}: line 2: corrupt state file")


def test_state_round_trip_keeps_objects_and_resource_version(tmp_path: Path) -> None:
    source = Registry(Clock(10.0, manual=True))
    source.create("persistentvolumes", pv("a"))
    source.create("namespaces", {"metadata": {"name": "team"}})
    path = save_state(source, tmp_path / "s.json")
    target = Registry(Clock(10.0, manual=True))
    assert load_state(target, path) == len(source.dump()["objects"])
    assert target.get("persistentvolumes", "a") == source.get("persistentvolumes", "a")
    assert target.resource_version == source.resource_version
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temp file left behind
