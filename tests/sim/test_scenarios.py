"""Scenario files: built-ins load into the registry as described; a broken file is one `file:line` error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kstor.errors import KstorError
from kstor.sim.cluster import SimCluster
from kstor.sim.scenario import ScenarioError, load_scenario, scenario_names


def loaded(name: str | Path) -> SimCluster:
    cluster = SimCluster(speed=500)
    load_scenario(cluster, name)
    return cluster


def names(cluster: SimCluster, plural: str, namespace: str | None = None) -> list[str]:
    return sorted(o["metadata"]["name"] for o in cluster.registry.list(plural, namespace)["items"])


def test_built_in_scenarios_are_listed() -> None:
    assert {"seed", "small", "large"} <= set(scenario_names())


def test_seed_has_the_walkthrough_objects() -> None:
    cluster = loaded("seed")
    reg = cluster.registry
    assert names(cluster, "nodes") == ["control-plane", "worker-1", "worker-2", "worker-3"]
    assert "manual" not in names(cluster, "storageclasses")  # the class name with no object
    assert {"nfs-client-storageclass", "csi-hostpath-sc"} <= set(names(cluster, "storageclasses"))
    assert reg.get("storageclasses", "csi-hostpath-sc")["volumeBindingMode"] == "WaitForFirstConsumer"
    assert reg.get("persistentvolumes", "manual-pv")["spec"]["storageClassName"] == "manual"
    pvc2 = reg.get("persistentvolumeclaims", "test-nfs-pvc2", "default")
    assert (
        pvc2["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"]
        == "nfs-client-storageclass"
    )
    assert pvc2["spec"]["accessModes"] == ["ReadWriteMany"]
    assert names(cluster, "deployments", "nfs") == ["nfs-server", "nfs-subdir-external-provisioner"]
    assert "csi-hostpathplugin" in names(cluster, "deployments", "kube-system")
    assert names(cluster, "statefulsets", "default") == ["db"]
    assert cluster.world["nfs_exports"] == {"/exports": set()}


def test_nodes_look_like_kubelet_registered_nodes() -> None:
    cluster = loaded("small")
    reg = cluster.registry
    cp = reg.get("nodes", "control-plane")
    assert cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in cp["spec"]["taints"]
    worker = reg.get("nodes", "worker-2")
    labels = worker["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "worker-2"
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["topology.kubernetes.io/zone"] == "zone-b"
    assert labels["topology.hostpath.csi/node"] == "worker-2"
    assert (
        worker["metadata"]["annotations"]["volumes.kubernetes.io/controller-managed-attach-detach"] == "true"
    )
    ready = {c["type"]: c["status"] for c in worker["status"]["conditions"]}
    assert ready["Ready"] == "True" and ready["MemoryPressure"] == "False"
    info = worker["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.32.0" and info["containerRuntimeVersion"].startswith(
        "containerd://1.7."
    )
    assert worker["status"]["allocatable"]["pods"] == "110"
    assert {a["type"] for a in worker["status"]["addresses"]} == {"InternalIP", "Hostname"}
    csinode = reg.get("csinodes", "worker-2")
    assert csinode["spec"]["drivers"][0]["topologyKeys"] == ["topology.hostpath.csi/node"]
    assert reg.get("csinodes", "control-plane")["spec"]["drivers"] == []
    assert reg.get("csidrivers", "hostpath.csi.k8s.io")["spec"]["attachRequired"] is True


def test_large_scenario_loads_at_benchmark_scale() -> None:
    cluster = loaded("large")
    reg = cluster.registry
    assert len(reg.list("nodes")["items"]) == 1001
    loaded_claims = sum(
        len(reg.list("persistentvolumeclaims", ns)["items"]) for ns in ("static", "web", "scratch")
    )
    assert loaded_claims == 5000  # the other 5,000 come from the StatefulSets' claim templates
    assert len(reg.list("statefulsets", "db")["items"]) == 1000
    assert reg.get("persistentvolumes", "static-pv-999")["spec"]["nfs"]["path"] == "/exports/static-999"


GOOD_HEADER = "name: broken\nnodes:\n  - prefix: worker\n    count: 2\n"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("nodes: [\n  - prefix: w\n", 2, "invalid YAML"),
        (GOOD_HEADER + "storageclasses: []\n", 5, "unknown key 'storageclasses'"),
        (GOOD_HEADER + "    zones: zone-a\n", 5, "zones must be a list"),
        ("nodes:\n  - prefix: w\n    count: many\n", 3, "count must be an integer"),
        ("nodes:\n  - prefix: w\n    role: master\n", 3, "role must be worker or control-plane"),
        (
            GOOD_HEADER + "workloads:\n  - kind: Job\n    metadata: {name: j}\n",
            6,
            "kind 'Job' is not allowed",
        ),
        (GOOD_HEADER + "persistentVolumeClaims:\n  - spec: {}\n", 6, "needs metadata.name"),
        (
            GOOD_HEADER
            + "persistentVolumes:\n  - metadata: {name: bad}\n    spec:\n      capacity: {storage: 1Gi}\n",
            6,
            "PersistentVolume 'bad'",
        ),
        ("nodes:\n  - prefix: w\n    count: -2\n", 3, "count must not be negative"),
        ("objects:\n  - kind: Namespace\n    copies: 0\n", 3, "copies must be at least 1"),
        ("- just\n- a list\n", 1, "a scenario must be a mapping"),
        ("", 1, "the scenario is empty"),
    ],
)
def test_malformed_scenario_is_one_line_with_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        loaded(path)
    message = str(caught.value)
    assert isinstance(caught.value, KstorError)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: "), message
    assert needle in message


def test_unknown_scenario_name_lists_the_built_ins() -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'nope' \(built-in: .*seed"):
        loaded("nope")


def test_copies_expand_with_their_index(tmp_path: Path) -> None:
    path = tmp_path / "copies.yaml"
    path.write_text(
        "persistentVolumeClaims:\n"
        "  - copies: 3\n"
        "    metadata: {name: 'claim-{i}', namespace: team}\n"
        "    spec: {storageClassName: manual, accessModes: [ReadWriteOnce],\n"
        "           resources: {requests: {storage: 1Gi}}}\n"
    )
    cluster = loaded(path)
    assert names(cluster, "persistentvolumeclaims", "team") == ["claim-0", "claim-1", "claim-2"]
    assert "team" in names(cluster, "namespaces")


def test_serve_cli_reports_a_broken_scenario_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("nodes:\n  - prefix: w\n    count: lots\n")
    result = subprocess.run(
        [sys.executable, "-m", "kstor", "sim", "serve", "--scenario", str(path), "--kubeconfig-out",
         str(tmp_path / "kc")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{path}:3: count must be an integer" in result.stderr + result.stdout
