"""Every object the embedded API server hands out validates against the Kubernetes OpenAPI schema
(kubernetes-validate, newest version it ships, strict: unknown fields are errors)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from kstor.sim.apiserver.registry import Registry
from kstor.sim.apiserver.resources import RESOURCES
from kstor.sim.clock import Clock
from kstor.sim.testing import SimServerThread, wait_for

VERSION = kubernetes_validate.latest_version()
FIXTURES = Path(__file__).parent / "fixtures"


def schema_errors(obj: dict[str, Any]) -> str | None:
    try:
        kubernetes_validate.validate(obj, VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"{obj['kind']} {obj['metadata'].get('name')}: {where}: {exc.message}"
    return None


MINIMAL: dict[str, dict[str, Any]] = {
    "namespaces": {"metadata": {"name": "team-a"}},
    "nodes": {"metadata": {"name": "node-x"}},
    "pods": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    "persistentvolumes": {
        "metadata": {"name": "pv-x"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/x"},
        },
    },
    "persistentvolumeclaims": {
        "metadata": {"name": "c"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    },
    "events": {
        "metadata": {"name": "p.1"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Tested",
        "message": "hello",
        "type": "Normal",
    },
    "deployments": {
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    },
    "replicasets": {
        "metadata": {"name": "r"},
        "spec": {
            "selector": {"matchLabels": {"app": "r"}},
            "template": {
                "metadata": {"labels": {"app": "r"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    },
    "statefulsets": {
        "metadata": {"name": "s"},
        "spec": {
            "serviceName": "s",
            "selector": {"matchLabels": {"app": "s"}},
            "template": {
                "metadata": {"labels": {"app": "s"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                }
            ],
        },
    },
    "storageclasses": {"metadata": {"name": "sc"}, "provisioner": "example.com/p"},
    "volumeattachments": {
        "metadata": {"name": "va"},
        "spec": {"attacher": "d.csi", "nodeName": "node-x", "source": {"persistentVolumeName": "pv-x"}},
    },
    "csidrivers": {"metadata": {"name": "d.csi"}, "spec": {}},
    "csinodes": {
        "metadata": {"name": "node-x"},
        "spec": {"drivers": [{"name": "d.csi", "nodeID": "node-x"}]},
    },
    "poddisruptionbudgets": {"metadata": {"name": "pdb"}, "spec": {"maxUnavailable": 1}},
    "leases": {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}},
}


def test_minimal_manifests_are_defaulted_into_valid_objects() -> None:
    assert set(MINIMAL) == set(RESOURCES)
    registry = Registry(Clock(manual=True))
    problems = []
    for plural, manifest in MINIMAL.items():
        namespace = "default" if RESOURCES[plural].namespaced else None
        created = registry.create(plural, json.loads(json.dumps(manifest)), namespace)
        problems.append(schema_errors(created))
    assert [p for p in problems if p] == []


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_every_object_of_a_running_cluster_validates() -> None:
    with SimServerThread(speed=100) as sim:
        base = ["kubectl", "--kubeconfig", str(sim.kubeconfig), "--request-timeout=10s"]

        def kubectl(*args: str) -> str:
            result = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return result.stdout

        for name in ("nodes", "storage", "workloads"):
            kubectl("create", "-f", str(FIXTURES / f"{name}.yaml"))

        def settled() -> bool:
            pods = json.loads(kubectl("get", "pods", "-A", "-o", "json"))["items"]
            attachments = json.loads(kubectl("get", "volumeattachments", "-o", "json"))["items"]
            running = [p for p in pods if p["status"].get("phase") == "Running"]
            attached = [a for a in attachments if a.get("status", {}).get("attached")]
            return len(running) == 4 and len(attached) == 1

        wait_for(settled, timeout=30, message="the fixture workloads never all ran")
        kubectl("delete", "pv", "task-pv-volume", "--wait=false")  # stays Terminating: still bound
        problems, empty = [], []
        for plural in RESOURCES:
            items = json.loads(kubectl("get", plural, "-A", "-o", "json"))["items"]
            if not items:
                empty.append(plural)
            problems += [schema_errors(obj) for obj in items]
        assert empty == []
        assert [p for p in problems if p] == []


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_every_object_the_seed_scenarios_controllers_write_validates() -> None:
    with SimServerThread(scenario="seed", speed=100) as sim:
        base = ["kubectl", "--kubeconfig", str(sim.kubeconfig), "--request-timeout=10s"]

        def kubectl(*args: str) -> str:
            result = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return result.stdout

        def items(plural: str) -> list[dict[str, Any]]:
            return json.loads(kubectl("get", plural, "-A", "-o", "json"))["items"]

        def settled() -> bool:
            claims = items("persistentvolumeclaims")
            pods = items("pods")
            return all(c["status"].get("phase") == "Bound" for c in claims) and all(
                p["status"].get("phase") == "Running" for p in pods
            )

        wait_for(settled, timeout=40, message="the seed scenario never settled")
        # A few more states: a claim held by its pod (Terminating), a cordoned node, a recreated pod.
        kubectl("delete", "pvc", "manual-pvc", "--wait=false")
        kubectl("cordon", "worker-2")
        kubectl("delete", "pod", "db-0", "--wait=false")
        problems, empty = [], []
        for plural in RESOURCES:
            found = items(plural)
            if not found:
                empty.append(plural)
            problems += [schema_errors(obj) for obj in found]
        assert empty == []
        assert [p for p in problems if p] == []
