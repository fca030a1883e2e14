"""The storage loops through the HTTPS server: the official `kubernetes` client and `kubectl describe`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import kubernetes
import pytest

from kstor.sim.testing import SimServerThread, wait_for


@pytest.fixture(scope="module")
def seed() -> Iterator[SimServerThread]:
    with SimServerThread(scenario="seed", speed=500) as server:
        yield server


@pytest.fixture(scope="module")
def core(seed: SimServerThread) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(seed.kubeconfig)))


def kubectl(sim: SimServerThread, *args: str) -> str:
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(sim.kubeconfig), "--request-timeout=10s", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def claim_phase(core: kubernetes.client.CoreV1Api, name: str) -> str:
    return core.read_namespaced_persistent_volume_claim(name, "default").status.phase


def test_seed_claims_bind_as_seen_by_the_official_client(core: kubernetes.client.CoreV1Api) -> None:
    for name in ("manual-pvc", "test-nfs-pvc2", "data-db-0", "data-db-1"):
        wait_for(lambda n=name: claim_phase(core, n) == "Bound", timeout=30, message=f"{name} Bound")
    manual = core.read_namespaced_persistent_volume_claim("manual-pvc", "default")
    assert manual.spec.volume_name == "manual-pv"
    assert manual.spec.storage_class_name == "manual"
    nfs = core.read_namespaced_persistent_volume_claim("test-nfs-pvc2", "default")
    volume = core.read_persistent_volume(nfs.spec.volume_name)
    assert volume.spec.nfs.path == f"/exports/default-test-nfs-pvc2-{nfs.spec.volume_name}"
    assert volume.spec.storage_class_name == "nfs-client-storageclass"  # from the beta class annotation
    assert volume.status.phase == "Bound"


def test_claim_created_over_https_binds_a_static_volume(core: kubernetes.client.CoreV1Api) -> None:
    body = {
        "metadata": {"name": "http-pv"},
        "spec": {"capacity": {"storage": "3Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "slow",
                 "hostPath": {"path": "/mnt/http"}},
    }  # fmt: skip
    core.create_persistent_volume(body)
    claim = {
        "metadata": {"name": "http-claim"},
        "spec": {"storageClassName": "slow", "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}},
    }  # fmt: skip
    core.create_namespaced_persistent_volume_claim("default", claim)
    wait_for(lambda: claim_phase(core, "http-claim") == "Bound", timeout=20, message="http-claim Bound")
    assert core.read_persistent_volume("http-pv").spec.claim_ref.name == "http-claim"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_kubectl_describe_pvc_shows_the_controllers_events(seed: SimServerThread, core) -> None:
    wait_for(lambda: claim_phase(core, "test-nfs-pvc2") == "Bound", timeout=30, message="Bound")
    out = kubectl(seed, "describe", "pvc", "test-nfs-pvc2")
    assert "Status:        Bound" in out
    assert "StorageClass:  nfs-client-storageclass" in out
    assert "volume.beta.kubernetes.io/storage-provisioner: k8s-sigs.io/nfs-subdir-external-provisioner" in out
    events = out[out.index("Events:") :]
    assert "ExternalProvisioning" in events and "persistentvolume-controller" in events
    assert "Provisioning" in events and "ProvisioningSucceeded" in events
    assert 'External provisioner is provisioning volume for claim "default/test-nfs-pvc2"' in events
    assert "k8s-sigs.io/nfs-subdir-external-provisioner_nfs-subdir-external-provisioner-" in events

    core.create_namespaced_persistent_volume_claim(
        "default",
        {"metadata": {"name": "no-such-volume"},
         "spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": "50Gi"}}}},
    )  # fmt: skip
    wait_for(lambda: "ProvisioningFailed" in kubectl(seed, "describe", "pvc", "no-such-volume"), timeout=20,
             message="ProvisioningFailed shown")  # fmt: skip
    out = kubectl(seed, "describe", "pvc", "no-such-volume")
    assert "Status:        Pending" in out
    assert 'storageclass.storage.k8s.io "manual" not found' in out
    assert "Warning  ProvisioningFailed" in out
