"""kubectl (client-go) against the embedded HTTPS server: the basics H1 owns (H2 tests output in depth)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from kstor.sim.testing import SimServerThread, wait_for

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")

PV = """apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
  labels: {{tier: gold}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  hostPath: {{path: /data/{name}}}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env: [{{name: MODE, value: "{mode}"}}]
"""


@pytest.fixture(scope="module")
def bare() -> Iterator[SimServerThread]:
    with SimServerThread(with_controllers=False) as server:
        yield server


def kubectl(sim: SimServerThread, *args: str, stdin: str | None = None, ok: bool = True) -> str:
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(sim.kubeconfig), "--request-timeout=10s", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert result.returncode == 0, result.stderr
        return result.stdout
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_get_namespaces(bare: SimServerThread) -> None:
    lines = kubectl(bare, "get", "ns").splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE"]
    assert {line.split()[0]: line.split()[1] for line in lines[1:]} == dict.fromkeys(
        ["default", "kube-node-lease", "kube-public", "kube-system"], "Active"
    )


def test_create_without_disabling_validation_then_get_json_and_delete(bare: SimServerThread) -> None:
    assert (
        kubectl(bare, "create", "-f", "-", stdin=PV.format(name="pv-k1")).strip()
        == "persistentvolume/pv-k1 created"
    )
    obj = json.loads(kubectl(bare, "get", "pv", "pv-k1", "-o", "json"))
    assert obj["kind"] == "PersistentVolume" and obj["spec"]["capacity"] == {"storage": "1Gi"}
    assert obj["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    err = kubectl(bare, "create", "-f", "-", stdin=PV.format(name="pv-k1"), ok=False)
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": '
        'persistentvolumes "pv-k1" already exists' in err
    )
    assert (
        kubectl(bare, "delete", "pv", "pv-k1", "--wait=false").strip() == 'persistentvolume "pv-k1" deleted'
    )
    assert "Terminating" in kubectl(bare, "get", "pv", "pv-k1")  # held by pv-protection, as on a real cluster
    bare.call(bare.registry.patch, "persistentvolumes", "pv-k1", {"metadata": {"finalizers": None}})
    err = kubectl(bare, "get", "pv", "pv-k1", ok=False)
    assert 'Error from server (NotFound): persistentvolumes "pv-k1" not found' in err


def test_apply_twice_scale_label_and_patch(bare: SimServerThread) -> None:
    assert "deployment.apps/web created" in kubectl(
        bare, "apply", "-f", "-", stdin=DEPLOYMENT.format(replicas=2, mode="a")
    )
    assert "deployment.apps/web configured" in kubectl(
        bare, "apply", "-f", "-", stdin=DEPLOYMENT.format(replicas=3, mode="b")
    )
    out = kubectl(
        bare,
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].env}",
    )
    assert out == '3 [{"name":"MODE","value":"b"}]'
    kubectl(bare, "scale", "deploy", "web", "--replicas=5")
    kubectl(bare, "label", "deploy", "web", "team=storage")
    kubectl(
        bare,
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/annotations","value":{"note":"json"}}]',
    )
    kubectl(bare, "patch", "deploy", "web", "--type=merge", "-p", '{"metadata":{"labels":{"tier":"web"}}}')
    got = bare.call(bare.registry.get, "deployments", "web", "default")
    assert got["spec"]["replicas"] == 5
    assert got["metadata"]["labels"] == {"team": "storage", "tier": "web"}
    assert got["metadata"]["annotations"]["note"] == "json"
    assert kubectl(bare, "delete", "deploy", "web").strip() == 'deployment.apps "web" deleted'


def test_get_watch_receives_a_change(bare: SimServerThread) -> None:
    proc = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(bare.kubeconfig), "get", "pv", "-w", "--request-timeout=30s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        # kubectl has listed once it printed the header (or "No resources found" on stderr)
        def listed() -> bool:
            created = bare.call(bare.registry.list, "persistentvolumes", label_selector="watch=1")["items"]
            if not created:
                bare.call(
                    bare.registry.create,
                    "persistentvolumes",
                    {
                        "metadata": {"name": "pv-watch", "labels": {"watch": "1"}},
                        "spec": {
                            "capacity": {"storage": "2Gi"},
                            "accessModes": ["ReadWriteOnce"],
                            "hostPath": {"path": "/w"},
                        },
                    },
                )
            return any(line.startswith("pv-watch") for line in lines)

        wait_for(listed, 20, "kubectl get -w never printed pv-watch")
        bare.call(
            bare.registry.patch,
            "persistentvolumes",
            "pv-watch",
            {"status": {"phase": "Available"}},
            subresource="status",
        )
        wait_for(
            lambda: any(line.startswith("pv-watch") and "Available" in line for line in lines),
            20,
            f"kubectl get -w did not print the status change; got {lines!r}",
        )
    finally:
        proc.kill()
        proc.wait(10)
