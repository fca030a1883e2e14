"""`kstor chaos` as a user runs it (subprocess): guardrails, confirmation, dry-run, restore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from chaos_fakes import node, pod

from kstor.sim.testing import SimServerThread


def kstor(
    *args: str, env_extra: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "kstor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def foreign_kubeconfig(path: Path, context: str) -> Path:
    # a closed loopback port: if the guardrail let it through, the error would be "cannot reach"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_context_not_allowed_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    kubeconfig = foreign_kubeconfig(tmp_path / "kubeconfig", "prod-eu")
    journal = tmp_path / "state" / "journal.jsonl"
    env = {"KSTOR_CONFIG": str(tmp_path / "absent.yaml")}
    result = kstor(
        "--kubeconfig",
        str(kubeconfig),
        "chaos",
        "cordon",
        "node-1",
        "--yes",
        "--journal",
        str(journal),
        env_extra=env,
    )
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "refusing chaos on context 'prod-eu'" in result.stderr
    assert not journal.exists() and not journal.parent.exists()


def test_an_allow_listed_context_passes_the_guardrail(tmp_path: Path) -> None:
    kubeconfig = foreign_kubeconfig(tmp_path / "kubeconfig", "prod-eu")
    config = tmp_path / "config.yaml"
    config.write_text("chaos:\n  allowed_contexts: [prod-eu]\n")
    journal = tmp_path / "journal.jsonl"
    result = kstor(
        "--kubeconfig",
        str(kubeconfig),
        "chaos",
        "cordon",
        "node-1",
        "--yes",
        "--journal",
        str(journal),
        env_extra={"KSTOR_CONFIG": str(config)},
    )
    assert result.returncode != 0
    assert "refusing" not in result.stderr  # it got as far as connecting (to a closed port)
    assert "127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr
    assert not journal.exists()


def test_a_broken_config_file_is_one_line_with_its_line_number(tmp_path: Path) -> None:
    kubeconfig = foreign_kubeconfig(tmp_path / "kubeconfig", "kind-x")
    config = tmp_path / "config.yaml"
    config.write_text("chaos:\n  allowed_contexts: [a\n  b: c\n")
    result = kstor(
        "--kubeconfig",
        str(kubeconfig),
        "chaos",
        "cordon",
        "node-1",
        "--yes",
        env_extra={"KSTOR_CONFIG": str(config)},
    )
    assert result.returncode == 1
    assert f"{config}:" in result.stderr and result.stderr.count("\n") == 1


def _all_objects(sim: SimServerThread) -> dict[str, list[dict]]:
    plurals = (
        "nodes",
        "pods",
        "persistentvolumes",
        "persistentvolumeclaims",
        "volumeattachments",
        "deployments",
    )
    return {p: sim.call(lambda p=p: sim.registry.list(p)["items"]) for p in plurals}


def test_without_yes_and_without_a_terminal_the_action_is_refused(tmp_path: Path) -> None:
    with SimServerThread(with_controllers=False) as sim:
        sim.call(sim.registry.create, "nodes", node("node-1"))
        journal = tmp_path / "journal.jsonl"
        result = kstor(
            "--kubeconfig", str(sim.kubeconfig), "chaos", "cordon", "node-1", "--journal", str(journal)
        )
        assert result.returncode == 4, result.stderr
        assert "pass --yes" in result.stderr and result.stderr.count("\n") == 1
        assert not journal.exists()
        assert not sim.call(sim.registry.get, "nodes", "node-1")["spec"].get("unschedulable")


def test_dry_run_prints_the_preview_and_changes_no_object(tmp_path: Path) -> None:
    with SimServerThread(with_controllers=False) as sim:
        sim.call(sim.registry.create, "nodes", node("node-1"))
        sim.call(sim.registry.create, "pods", pod("web-0", node_name="node-1"), "default")
        before = _all_objects(sim)
        rv = sim.call(lambda: sim.registry.resource_version)
        journal = tmp_path / "journal.jsonl"
        result = kstor(
            "--kubeconfig",
            str(sim.kubeconfig),
            "chaos",
            "drain",
            "node-1",
            "--dry-run",
            "--journal",
            str(journal),
        )
        assert result.returncode == 0, result.stderr
        assert "Pod default/web-0: evict" in result.stdout
        assert "dry run: would drain node-1" in result.stdout
        assert _all_objects(sim) == before
        assert sim.call(lambda: sim.registry.resource_version) == rv
        assert not journal.exists()


def test_cordon_then_restore_through_the_cli(tmp_path: Path) -> None:
    with SimServerThread(with_controllers=False) as sim:
        sim.call(sim.registry.create, "nodes", node("node-1"))
        journal = tmp_path / "journal.jsonl"
        base = ("--kubeconfig", str(sim.kubeconfig), "chaos")
        done = kstor(*base, "cordon", "node-1", "--yes", "--journal", str(journal))
        assert done.returncode == 0, done.stderr
        assert sim.call(sim.registry.get, "nodes", "node-1")["spec"]["unschedulable"] is True
        listed = kstor(*base, "list", "--journal", str(journal))
        assert "cordon node-1 on kstor-sim" in listed.stdout
        first = kstor(*base, "restore", "--journal", str(journal))
        assert first.returncode == 0 and "node/node-1 uncordoned" in first.stdout
        second = kstor(*base, "restore", "--journal", str(journal))
        assert second.returncode == 0 and "nothing to restore" in second.stdout
        assert not sim.call(sim.registry.get, "nodes", "node-1")["spec"].get("unschedulable")


def test_drill_dry_run_previews_each_action_and_changes_no_object(tmp_path: Path) -> None:
    with SimServerThread(scenario="small", with_controllers=False) as sim:
        before = _all_objects(sim)
        rv = sim.call(lambda: sim.registry.resource_version)
        journal = tmp_path / "journal.jsonl"
        result = kstor(
            "--kubeconfig",
            str(sim.kubeconfig),
            "drill",
            "run",
            "provisioner-down",
            "--dry-run",
            "--journal",
            str(journal),
            env_extra={"KSTOR_CONFIG": str(tmp_path / "none.yaml")},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Deployment nfs/nfs-subdir-external-provisioner: scale 1 -> 0" in result.stdout
        assert "PersistentVolumeClaim default/late-claim: create" in result.stdout
        assert _all_objects(sim) == before
        assert sim.call(lambda: sim.registry.resource_version) == rv
        assert not journal.exists()


def test_drill_list_and_chaos_preview(tmp_path: Path) -> None:
    listed = kstor("drill", "list")
    assert listed.returncode == 0 and "nfs-outage" in listed.stdout and "sim:small" in listed.stdout
    with SimServerThread(with_controllers=False) as sim:
        sim.call(sim.registry.create, "nodes", node("node-1"))
        preview = kstor("--kubeconfig", str(sim.kubeconfig), "chaos", "preview", "cordon", "node-1")
        assert preview.returncode == 0, preview.stderr
        assert "Node node-1: spec.unschedulable: true" in preview.stdout
        assert "reversible: yes" in preview.stdout
        assert not sim.call(sim.registry.get, "nodes", "node-1")["spec"].get("unschedulable")
