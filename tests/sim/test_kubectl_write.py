"""kubectl's write verbs against the embedded cluster: create/delete, label/annotate, the three patch
types, scale, cordon/uncordon, drain (eviction refused by a PodDisruptionBudget, then allowed), `get -w`.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kstor.sim.testing import SimServerThread, wait_for

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")

FIXTURES = Path(__file__).parent / "fixtures"


class Kubectl:
    def __init__(self, sim: SimServerThread, cache: Path) -> None:
        self.sim = sim
        self.base = [
            "kubectl",
            "--kubeconfig",
            str(sim.kubeconfig),
            "--request-timeout=10s",
            f"--cache-dir={cache}",
        ]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], input=stdin, capture_output=True, text=True, timeout=60)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout

    def json(self, *args: str) -> dict:
        return json.loads(self.ok("get", *args, "-o", "json"))

    def column(self, kind: str, name: str, column: str, *more: str) -> str:
        """One cell of `kubectl get` for one object."""
        lines = self.ok("get", kind, name, *more).splitlines()
        header = re.split(r"\s{2,}", lines[0].strip())
        return re.split(r"\s{2,}", lines[1].strip())[header.index(column)]


@pytest.fixture(scope="module")
def k() -> Iterator[Kubectl]:
    with SimServerThread(speed=100) as sim, tempfile.TemporaryDirectory(prefix="kstor-kubectl-") as cache:
        kubectl = Kubectl(sim, Path(cache))
        for name in ("nodes", "storage", "workloads"):
            kubectl.ok("create", "-f", str(FIXTURES / f"{name}.yaml"))
        wait_for(
            lambda: kubectl.column("statefulset", "db", "READY") == "1/1",
            timeout=30,
            message="db never ready",
        )
        yield kubectl


def test_label_and_annotate(k: Kubectl) -> None:
    assert k.ok("label", "pv", "pv-csi-a", "tier=gold").strip() == "persistentvolume/pv-csi-a labeled"
    assert k.ok("annotate", "pvc", "fast", "team=storage").strip() == "persistentvolumeclaim/fast annotated"
    assert k.ok("get", "pv", "-l", "tier=gold", "-o", "name").split() == ["persistentvolume/pv-csi-a"]
    assert k.json("pvc", "fast")["metadata"]["annotations"]["team"] == "storage"
    assert k.ok("label", "pv", "pv-csi-a", "tier-").strip() == "persistentvolume/pv-csi-a unlabeled"
    assert "tier" not in (k.json("pv", "pv-csi-a")["metadata"].get("labels") or {})


def test_patch_merge_strategic_and_json(k: Kubectl) -> None:
    assert k.ok("patch", "pvc", "fast", "-p", '{"metadata":{"labels":{"app":"db"}}}').strip() == (
        "persistentvolumeclaim/fast patched"
    )
    assert k.json("pvc", "fast")["metadata"]["labels"] == {"app": "db"}
    image = '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}'
    assert (
        k.ok("patch", "deployment", "web", "--type=strategic", "-p", image).strip()
        == "deployment.apps/web patched"
    )
    containers = k.json("deployment", "web")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"], c["imagePullPolicy"]) for c in containers] == [
        ("nginx", "nginx:1.28", "IfNotPresent")
    ]
    policy = '[{"op":"replace","path":"/spec/persistentVolumeReclaimPolicy","value":"Delete"}]'
    assert (
        k.ok("patch", "pv", "pv-csi-a", "--type=json", "-p", policy).strip()
        == "persistentvolume/pv-csi-a patched"
    )
    assert k.column("pv", "pv-csi-a", "RECLAIM POLICY") == "Delete"
    unchanged = k.ok("patch", "pv", "pv-csi-a", "--type=json", "-p", policy).strip()
    assert unchanged == "persistentvolume/pv-csi-a patched (no change)"


def test_patch_that_breaks_immutability_is_invalid(k: Kubectl) -> None:
    result = k.run("patch", "pvc", "fast", "--type=merge", "-p", '{"spec":{"storageClassName":"other"}}')
    assert result.returncode == 1
    assert result.stderr.startswith(
        'The PersistentVolumeClaim "fast" is invalid: spec: Forbidden: spec is immutable after creation '
        "except resources.requests and volumeAttributesClassName for bound claims"
    )
    moved = k.run("patch", "pod", "task-pv-pod", "-p", '{"spec":{"restartPolicy":"Never"}}')
    assert moved.returncode == 1
    assert moved.stderr.startswith(
        'The Pod "task-pv-pod" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`,"
    )


def test_expanding_a_bound_claim_is_allowed(k: Kubectl) -> None:
    k.ok("patch", "pvc", "task-pv-claim", "-p", '{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}')
    assert k.json("pvc", "task-pv-claim")["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_scale_deployment_and_statefulset(k: Kubectl) -> None:
    assert k.ok("scale", "deployment", "web", "--replicas=3").strip() == "deployment.apps/web scaled"
    wait_for(lambda: k.column("deployment", "web", "READY") == "3/3", timeout=30, message="web never 3/3")
    assert k.ok("scale", "statefulset", "db", "--replicas=2").strip() == "statefulset.apps/db scaled"
    wait_for(lambda: k.column("statefulset", "db", "READY") == "2/2", timeout=30, message="db never 2/2")
    assert k.column("pod", "db-1", "STATUS") == "Running"
    k.ok("scale", "statefulset", "db", "--replicas=1")
    wait_for(lambda: k.run("get", "pod", "db-1").returncode == 1, timeout=30, message="db-1 never went away")


def test_create_and_delete_from_stdin(k: Kubectl) -> None:
    manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n"
    assert k.ok("create", "-f", "-", stdin=manifest).strip() == "namespace/scratch created"
    assert k.column("namespace", "scratch", "STATUS") == "Active"
    assert k.ok("delete", "namespace", "scratch").strip() == 'namespace "scratch" deleted'
    gone = k.run("get", "namespace", "scratch")
    assert gone.stderr.strip() == 'Error from server (NotFound): namespaces "scratch" not found'


class Watcher:
    """`kubectl get ... -w` in the background; lines arrive on a queue."""

    def __init__(self, k: Kubectl, *args: str) -> None:
        self.process = subprocess.Popen([*k.base, "get", *args, "-w"], stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, predicate: object, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if callable(predicate) and predicate(line):
                return line
        raise AssertionError(f"no matching line within {timeout}s; saw: {seen}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_get_watch_streams_a_claim_from_pending_to_bound(k: Kubectl) -> None:
    watcher = Watcher(k, "pvc")
    try:
        header = watcher.wait_line(lambda line: line.startswith("NAME"))
        assert re.split(r"\s{2,}", header.strip())[:3] == ["NAME", "STATUS", "VOLUME"]
        k.ok(
            "create",
            "-f",
            "-",
            stdin="""apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-watch}
spec:
  storageClassName: manual
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /mnt/watch}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: watched, namespace: default}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
""",
        )
        watcher.wait_line(lambda line: line.split()[:2] == ["watched", "Pending"])
        bound = watcher.wait_line(lambda line: line.split()[:2] == ["watched", "Bound"])
        assert bound.split()[2:5] == ["pv-watch", "1Gi", "RWO"]
    finally:
        watcher.stop()


def test_cordon_drain_refused_by_budget_then_allowed(k: Kubectl) -> None:
    db_node = k.column("pod", "db-0", "NODE", "-o", "wide")
    other = "node-a" if db_node == "node-b" else "node-b"
    assert k.ok("cordon", db_node).strip() == f"node/{db_node} cordoned"
    assert k.column("node", db_node, "STATUS") == "Ready,SchedulingDisabled"
    refused = k.run(
        "drain", db_node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=3s"
    )
    assert refused.returncode == 1
    assert (
        'error when evicting pods/"db-0" -n "default" (will retry after 5s): '
        "Cannot evict pod as it would violate the pod's disruption budget."
    ) in refused.stderr
    assert k.column("pod", "db-0", "STATUS") == "Running"
    k.ok("patch", "pdb", "db", "--type=merge", "-p", '{"spec":{"minAvailable":0}}')
    drained = k.run(
        "drain", db_node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=60s"
    )
    assert drained.returncode == 0, drained.stderr
    assert drained.stdout.splitlines()[-3:] == [
        "evicting pod default/db-0",
        "pod/db-0 evicted",
        f"node/{db_node} drained",
    ]
    wait_for(
        lambda: (
            k.column("pod", "db-0", "NODE", "-o", "wide") == other
            and k.column("pod", "db-0", "STATUS") == "Running"
        ),
        timeout=30,
        message="db-0 never came back on the other node",
    )
    assert k.ok("uncordon", db_node).strip() == f"node/{db_node} uncordoned"
    assert k.column("node", db_node, "STATUS") == "Ready"
