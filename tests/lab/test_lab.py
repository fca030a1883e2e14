"""The kind lab: manifests valid for Kubernetes 1.32, the plan complete and ordered, tools checked."""

from __future__ import annotations

import shutil
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

from kstor.errors import KstorError
from kstor.lab import plan
from kstor.lab.cli import require_tools

K8S_VERSION = "1.32"


def documents() -> list[tuple[str, dict]]:
    return [
        (path.name, doc) for path in plan.manifests() for doc in yaml.safe_load_all(path.read_text()) if doc
    ]


def test_every_manifest_validates_against_the_kubernetes_schema() -> None:
    docs = documents()
    assert len(docs) >= 20
    for name, doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {exc.message}")


def test_every_image_is_pinned_to_a_version() -> None:
    images = [
        container["image"]
        for _, doc in documents()
        if doc["kind"] in {"Deployment", "StatefulSet"}
        for container in doc["spec"]["template"]["spec"]["containers"]
    ]
    cluster = yaml.safe_load((plan.manifest_dir() / plan.CLUSTER_CONFIG).read_text())
    images += [node["image"] for node in cluster["nodes"]]
    assert images
    for image in images:
        tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest", f"{image} is not pinned"


def test_lab_has_what_drills_expect() -> None:
    by_kind: dict[str, list[dict]] = {}
    for _, doc in documents():
        by_kind.setdefault(doc["kind"], []).append(doc)
    cluster = yaml.safe_load((plan.manifest_dir() / plan.CLUSTER_CONFIG).read_text())
    assert [n["role"] for n in cluster["nodes"]] == ["control-plane", "worker", "worker", "worker"]
    nfs = next(d for d in by_kind["Deployment"] if d["metadata"]["name"] == "nfs-server")
    assert nfs["metadata"]["namespace"] == "nfs" and nfs["metadata"]["labels"]["app"] == "nfs-server"
    classes = {sc["metadata"]["name"]: sc for sc in by_kind["StorageClass"]}
    assert classes["nfs-client"]["volumeBindingMode"] == "Immediate"
    assert classes["nfs-client"]["provisioner"] == "k8s-sigs.io/nfs-subdir-external-provisioner"
    assert classes["csi-hostpath-sc"]["volumeBindingMode"] == "WaitForFirstConsumer"
    (driver,) = by_kind["CSIDriver"]
    assert driver["metadata"]["name"] == "hostpath.csi.k8s.io" and driver["spec"]["attachRequired"] is True
    attacher = [
        c
        for sts in by_kind["StatefulSet"]
        for c in sts["spec"]["template"]["spec"]["containers"]
        if c["name"] == "csi-attacher"
    ]
    assert attacher, "VolumeAttachments need the external attacher"
    manual = next(pv for pv in by_kind["PersistentVolume"] if pv["spec"]["storageClassName"] == "manual")
    assert "manual" not in classes and manual
    pvcs = {c["metadata"]["name"]: c for c in by_kind["PersistentVolumeClaim"]}
    assert pvcs["test-nfs-pvc2"]["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"] == (
        "nfs-client-storageclass"
    )
    assert pvcs["shared-data"]["spec"]["accessModes"] == ["ReadWriteMany"]
    sts = next(s for s in by_kind["StatefulSet"] if s["metadata"]["name"] == "db")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_up_plan_creates_cluster_then_applies_in_order_and_waits() -> None:
    steps = plan.up_plan()
    assert steps[0].argv[:3] == ["kind", "create", "cluster"]
    applied = [s.manifest.name for s in steps if s.argv[-2:-1] == ["-f"] and s.manifest]
    assert applied == [p.name for p in plan.manifests()]
    # every rollout wait comes right after the manifest that creates the workload
    for i, step in enumerate(steps):
        if "rollout" in step.argv:
            assert steps[i - 1].manifest is not None
    assert all(
        s.argv[:3] == ["kubectl", "--context", "kind-kstor-lab"] for s in steps if s.argv[0] == "kubectl"
    )
    nfs_steps = [s for s in steps if s.argv[0] == "docker"]
    assert [s.argv[2] for s in nfs_steps] == ["kstor-lab-worker", "kstor-lab-worker2", "kstor-lab-worker3"]
    assert plan.up_plan(cluster_exists=True)[0].argv[0] != "kind"


def test_dry_run_prints_every_command_and_manifest_and_runs_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kstor", "lab", "up", "--dry-run"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for step in plan.up_plan():
        assert "$ " + " ".join(step.argv) in result.stdout
    for path in plan.manifests():
        assert path.read_text().strip().splitlines()[-1] in result.stdout


def test_missing_tools_get_one_line_naming_what_to_install() -> None:
    with pytest.raises(KstorError) as err:
        require_tools(which=lambda tool: None if tool in {"kind", "docker"} else "/usr/bin/" + tool)
    message = str(err.value)
    assert "\n" not in message
    assert "docker" in message and "kind" in message and "kubectl:" not in message
    assert "kind.sigs.k8s.io" in message


def test_cli_exits_nonzero_with_one_line_when_tools_are_missing(tmp_path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "kstor", "lab", "up"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "needs docker, kind, kubectl" in result.stderr


def docker_engine_running() -> bool:
    if not (shutil.which("docker") and shutil.which("kind")):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.docker
@pytest.mark.skipif(not docker_engine_running(), reason="needs a running Docker engine and kind")
def test_lab_up_then_status_then_down() -> None:  # pragma: no cover - needs Docker
    for action in ("up", "status", "down"):
        result = subprocess.run(
            [sys.executable, "-m", "kstor", "lab", action], capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, result.stderr
