"""A drill runner killed with SIGKILL mid-drill leaves a journal; `kstor chaos restore` undoes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kstor.sim.testing import SimServerThread, wait_for

CRASH_DRILL = """\
title: outage that never ends (the runner gets killed)
target: sim:small
settle: 300
steady-state:
  model: false
  probes:
    - pods-running: {namespace: default, selector: app=web, count: 3}
method:
  - action: kill-nfs
  - action: cordon
    target: worker-2
  - pause: 100000
slos:
  - time-to-recover: 60
"""

NOT_STEADY_DRILL = """\
title: never steady
target: sim:small
steady-state:
  model: false
  probes:
    - pvc-bound: default/does-not-exist
method:
  - action: cordon
    target: worker-1
slos:
  - time-to-recover: 60
"""


@pytest.fixture(scope="module")
def small() -> Iterator[SimServerThread]:
    with SimServerThread(scenario="small", speed=20) as sim:
        yield sim


def kstor(*args: str) -> list[str]:
    return [sys.executable, "-m", "kstor", *args]


def env_for(tmp: Path) -> dict[str, str]:
    return {**os.environ, "KSTOR_CONFIG": str(tmp / "no-config.yaml")}


def replicas(sim: SimServerThread) -> int:
    return sim.call(sim.registry.get, "deployments", "nfs-server", "nfs")["spec"]["replicas"]


def cordoned(sim: SimServerThread) -> bool:
    return bool(sim.call(sim.registry.get, "nodes", "worker-2")["spec"].get("unschedulable"))


def web_pods_ready(sim: SimServerThread) -> int:
    pods = sim.call(sim.registry.list, "pods", "default", label_selector="app=web")["items"]
    ready = [c for p in pods for c in p.get("status", {}).get("conditions", []) if c.get("type") == "Ready"]
    return sum(c.get("status") == "True" for c in ready)


def journal_events(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["event"] for line in path.read_text().splitlines() if line.strip()]


def test_sigkill_mid_drill_then_restore_brings_the_cluster_back(
    small: SimServerThread, tmp_path: Path
) -> None:
    drill = tmp_path / "crash.yaml"
    drill.write_text(CRASH_DRILL)
    journal = tmp_path / "journal.jsonl"
    base = ["--kubeconfig", str(small.kubeconfig)]
    proc = subprocess.Popen(
        kstor(*base, "drill", "run", str(drill), "--yes", "--journal", str(journal)),
        env=env_for(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: journal_events(journal).count("done") == 2, timeout=90, message="both actions journalled"
        )
        wait_for(lambda: replicas(small) == 0 and cordoned(small), timeout=10, message="chaos applied")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # nothing ran the rollbacks: the cluster is still broken
    assert replicas(small) == 0 and cordoned(small)

    restore = subprocess.run(
        kstor(*base, "chaos", "restore", "--journal", str(journal)),
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert restore.returncode == 0, restore.stderr
    assert "node/worker-2 uncordoned" in restore.stdout
    assert "deployment.apps/nfs-server -n nfs scaled back to 1" in restore.stdout
    assert replicas(small) == 1 and not cordoned(small)

    again = subprocess.run(
        kstor(*base, "chaos", "restore", "--journal", str(journal)),
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "nothing to restore" in again.stdout
    assert replicas(small) == 1 and not cordoned(small)


def test_a_drill_that_is_not_steady_aborts_with_exit_2_and_touches_nothing(
    small: SimServerThread, tmp_path: Path
) -> None:
    drill = tmp_path / "never.yaml"
    drill.write_text(NOT_STEADY_DRILL)
    journal = tmp_path / "journal.jsonl"
    result = subprocess.run(
        kstor(
            "--kubeconfig",
            str(small.kubeconfig),
            "drill",
            "run",
            str(drill),
            "--yes",
            "--journal",
            str(journal),
            "--report-dir",
            str(tmp_path / "reports"),
        ),
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "not steady: pvc-bound(default/does-not-exist): pvc default/does-not-exist is Absent" in result.stdout
    )
    assert not journal.exists()
    assert not sim_node_cordoned(small, "worker-1")
    report = json.loads((tmp_path / "reports" / "never.json").read_text())
    assert report["status"] == "aborted" and report["steady_problems_before"]


def sim_node_cordoned(sim: SimServerThread, name: str) -> bool:
    return bool(sim.call(sim.registry.get, "nodes", name)["spec"].get("unschedulable"))


def test_drill_run_on_a_context_not_allowed_is_refused_before_anything(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: prod, context: {cluster: c, user: u}}]\n"
    )
    drill = tmp_path / "d.yaml"
    drill.write_text(NOT_STEADY_DRILL)
    journal = tmp_path / "journal.jsonl"
    result = subprocess.run(
        kstor(
            "--kubeconfig",
            str(kubeconfig),
            "drill",
            "run",
            str(drill),
            "--yes",
            "--journal",
            str(journal),
        ),
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "refusing chaos on context 'prod'" in result.stderr and "Traceback" not in result.stderr
    assert not journal.exists()


def test_sigterm_mid_drill_runs_the_rollbacks(small: SimServerThread, tmp_path: Path) -> None:
    drill = tmp_path / "crash.yaml"
    drill.write_text(CRASH_DRILL)
    journal = tmp_path / "journal.jsonl"
    proc = subprocess.Popen(
        kstor(
            "--kubeconfig",
            str(small.kubeconfig),
            "drill",
            "run",
            str(drill),
            "--yes",
            "--journal",
            str(journal),
        ),
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for(
            lambda: journal_events(journal).count("done") == 2, timeout=90, message="both actions journalled"
        )
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "restore cordon" in out and "node/worker-2 uncordoned" in out
    assert replicas(small) == 1 and not cordoned(small)
    assert journal_events(journal).count("restored") == 2


def test_drill_on_an_existing_cluster_without_yes_or_terminal_is_refused(
    small: SimServerThread, tmp_path: Path
) -> None:
    drill = tmp_path / "crash.yaml"
    drill.write_text(CRASH_DRILL)
    journal = tmp_path / "journal.jsonl"
    result = subprocess.run(
        kstor("--kubeconfig", str(small.kubeconfig), "drill", "run", str(drill), "--journal", str(journal)),
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stderr.strip().endswith("no terminal to confirm on; pass --yes")
    assert result.stderr.count("\n") == 1
    assert not journal.exists() and replicas(small) == 1 and not cordoned(small)


CORDON_DRILL = """\
title: cordon and uncordon
target: sim:small
steady-state:
  model: false
  probes:
    - pods-running: {namespace: default, selector: app=web, count: 3}
method:
  - action: cordon
    name: cordon
    target: worker-3
  - pause: 5
  - undo: cordon
slos:
  - time-to-recover: 60
"""


async def test_a_drill_runs_when_rbac_forbids_watching_events(small: SimServerThread, tmp_path: Path) -> None:
    from chaos.drill.loader import parse_drill
    from chaos.drill.runner import DrillRunner
    from chaos.journal import Journal

    statuses: list[str] = []
    # the drill refuses to inject unless steady: let the fresh scenario converge first
    wait_for(lambda: web_pods_ready(small) == 3, timeout=60, message="3 web pods Ready")
    small.faults.deny("events")
    try:
        runner = DrillRunner(
            parse_drill(CORDON_DRILL, "cordon.yaml"),
            kubeconfig=str(small.kubeconfig),
            journal=Journal(tmp_path / "journal.jsonl"),
            on_status=statuses.append,
        )
        result = await runner.run()
    finally:
        small.faults.clear()
    assert result.status == "passed", result.error
    assert any("cannot watch Event (forbidden)" in s for s in statuses)
    assert not sim_node_cordoned(small, "worker-3")
