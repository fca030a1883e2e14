"""`kubectl get/describe` against the embedded cluster print what a real v1.32 cluster prints.

One cluster per module: the fixtures in tests/sim/fixtures (two nodes, a static `manual` PV and claim,
a CSI driver with attach and a CSI volume pinned to node-a, a pod using both, a Deployment, a StatefulSet
with a PodDisruptionBudget, a Lease) are created with `kubectl create -f` and the control loops run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kstor.sim.testing import SimServerThread, wait_for

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")

FIXTURES = Path(__file__).parent / "fixtures"


class Kubectl:
    """Runs kubectl against one embedded cluster with a private discovery cache."""

    def __init__(self, sim: SimServerThread, cache: Path) -> None:
        self.sim = sim
        self.cache = cache

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = ["kubectl", "--kubeconfig", str(self.sim.kubeconfig), "--request-timeout=10s"]
        command += [f"--cache-dir={self.cache}", *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout

    def fails(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode != 0, f"kubectl {' '.join(args)} succeeded: {result.stdout}"
        return result.stderr.strip()

    def table(self, *args: str) -> list[dict[str, str]]:
        """`kubectl get` output as rows keyed by header (columns split where kubectl pads)."""
        lines = self.ok("get", *args).splitlines()
        header = re.split(r"\s{2,}", lines[0].strip())
        starts: list[int] = []
        for name in header:  # search left to right: "CLAIM" is also inside "RECLAIM POLICY"
            starts.append(lines[0].index(name, starts[-1] + 1 if starts else 0))
        rows = []
        for line in lines[1:]:
            cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
            rows.append(dict(zip(header, cells, strict=True)))
        return rows

    def headers(self, *args: str) -> list[str]:
        return re.split(r"\s{2,}", self.ok("get", *args).splitlines()[0].strip())


def pod_running(k: Kubectl, name: str) -> bool:
    return any(row["NAME"] == name and row["STATUS"] == "Running" for row in k.table("pods"))


@pytest.fixture(scope="module")
def k() -> Iterator[Kubectl]:
    with SimServerThread(speed=100) as sim, tempfile.TemporaryDirectory(prefix="kstor-kubectl-") as cache:
        kubectl = Kubectl(sim, Path(cache))
        for name in ("nodes", "storage", "workloads"):
            kubectl.ok("create", "-f", str(FIXTURES / f"{name}.yaml"))
        wait_for(lambda: pod_running(kubectl, "task-pv-pod"), timeout=30, message="task-pv-pod never ran")
        wait_for(lambda: pod_running(kubectl, "db-0"), timeout=30, message="db-0 never ran")
        wait_for(
            lambda: [r["ATTACHED"] for r in kubectl.table("volumeattachments")] == ["true"],
            timeout=30,
            message="the CSI volume was never attached",
        )
        yield kubectl


# What `kubectl get <kind>` and `kubectl get <kind> -o wide` print as headers on a v1.32 cluster.
HEADERS = {
    "pv": (
        [
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    "pvc": (
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    "pods": (
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
    ),
    "nodes": (
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
    ),
    "storageclasses": (
        ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
        [],
    ),
    "volumeattachments": (["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"], []),
    "csidrivers": (
        [
            "NAME",
            "ATTACHREQUIRED",
            "PODINFOONMOUNT",
            "STORAGECAPACITY",
            "TOKENREQUESTS",
            "REQUIRESREPUBLISH",
            "MODES",
            "AGE",
        ],
        [],
    ),
    "csinodes": (["NAME", "DRIVERS", "AGE"], []),
    "events": (
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        None,  # wide inserts SUBOBJECT and SOURCE before MESSAGE: checked below
    ),
    "deployments": (
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    "replicasets": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"]),
    "statefulsets": (["NAME", "READY", "AGE"], ["CONTAINERS", "IMAGES"]),
    "pdb": (["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], []),
    "namespaces": (["NAME", "STATUS", "AGE"], []),
    "leases": (["NAME", "HOLDER", "AGE"], []),
}


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_headers_match_a_real_cluster(k: Kubectl, kind: str) -> None:
    narrow, wide = HEADERS[kind]
    assert k.headers(kind) == narrow
    if wide is not None:
        assert k.headers(kind, "-o", "wide") == narrow + wide


def test_event_wide_headers(k: Kubectl) -> None:
    assert k.headers("events", "-o", "wide") == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
    ]


def test_storage_rows(k: Kubectl) -> None:
    pv = {row["NAME"]: row for row in k.table("pv", "-o", "wide")}
    assert pv["task-pv-volume"] | {"AGE": ""} == {
        "NAME": "task-pv-volume",
        "CAPACITY": "10Gi",
        "ACCESS MODES": "RWO",
        "RECLAIM POLICY": "Retain",
        "STATUS": "Bound",
        "CLAIM": "default/task-pv-claim",
        "STORAGECLASS": "manual",
        "VOLUMEATTRIBUTESCLASS": "<unset>",
        "REASON": "",
        "AGE": "",
        "VOLUMEMODE": "Filesystem",
    }
    pvc = {row["NAME"]: row for row in k.table("pvc")}
    assert [pvc["fast"][c] for c in ("STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS")] == [
        "Bound",
        "pv-csi-a",
        "1Gi",
        "RWO",
        "csi-hostpath-sc",
    ]
    (sc,) = k.table("storageclasses")
    assert sc | {"AGE": ""} == {
        "NAME": "csi-hostpath-sc (default)",
        "PROVISIONER": "hostpath.csi.k8s.io",
        "RECLAIMPOLICY": "Delete",
        "VOLUMEBINDINGMODE": "WaitForFirstConsumer",
        "ALLOWVOLUMEEXPANSION": "true",
        "AGE": "",
    }
    (driver,) = k.table("csidrivers")
    assert [
        driver[c]
        for c in (
            "ATTACHREQUIRED",
            "PODINFOONMOUNT",
            "STORAGECAPACITY",
            "TOKENREQUESTS",
            "REQUIRESREPUBLISH",
            "MODES",
        )
    ] == [
        "true",
        "true",
        "false",
        "<unset>",
        "false",
        "Persistent,Ephemeral",
    ]
    (va,) = k.table("volumeattachments")
    assert va["NAME"].startswith("csi-") and len(va["NAME"]) == 68
    assert [va[c] for c in ("ATTACHER", "PV", "NODE", "ATTACHED")] == [
        "hostpath.csi.k8s.io",
        "pv-csi-a",
        "node-a",
        "true",
    ]
    assert [(r["NAME"], r["DRIVERS"]) for r in k.table("csinodes")] == [("node-a", "1")]


def test_workload_and_node_rows(k: Kubectl) -> None:
    nodes = {row["NAME"]: row for row in k.table("nodes", "-o", "wide")}
    assert [nodes["node-a"][c] for c in ("STATUS", "ROLES", "VERSION", "INTERNAL-IP", "EXTERNAL-IP")] == [
        "Ready",
        "worker",
        "v1.32.0",
        "172.18.0.2",
        "<none>",
    ]
    assert nodes["node-b"]["ROLES"] == "<none>"
    assert nodes["node-b"]["CONTAINER-RUNTIME"] == "containerd://1.7.24"
    pods = {row["NAME"]: row for row in k.table("pods", "-o", "wide")}
    task = pods["task-pv-pod"]
    assert [
        task[c] for c in ("READY", "STATUS", "RESTARTS", "NODE", "NOMINATED NODE", "READINESS GATES")
    ] == [
        "1/1",
        "Running",
        "0",
        "node-a",
        "<none>",
        "<none>",
    ]
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", task["IP"])
    wait_for(lambda: k.table("deployments", "-o", "wide")[0]["READY"] == "2/2", message="web never 2/2")
    (deploy,) = k.table("deployments", "-o", "wide")
    assert deploy | {"AGE": ""} == {
        "NAME": "web",
        "READY": "2/2",
        "UP-TO-DATE": "2",
        "AVAILABLE": "2",
        "AGE": "",
        "CONTAINERS": "nginx",
        "IMAGES": "nginx:1.27",
        "SELECTOR": "app=web",
    }
    (rs,) = k.table("replicasets", "-o", "wide")
    assert re.fullmatch(r"app=web,pod-template-hash=[0-9a-z]+", rs["SELECTOR"])
    assert [rs[c] for c in ("DESIRED", "CURRENT", "READY")] == ["2", "2", "2"]
    assert [(r["NAME"], r["READY"]) for r in k.table("statefulsets")] == [("db", "1/1")]
    (pdb,) = k.table("pdb")
    assert [pdb[c] for c in ("MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS")] == ["1", "N/A", "0"]
    leases = {row["NAME"]: row["HOLDER"] for row in k.table("leases", "-A")}
    assert leases["kstor-leader"] == "kstor-0" and leases["node-a"] == "node-a"


def test_events_name_the_object_they_are_about(k: Kubectl) -> None:
    rows = k.table("events")
    assert {"pod/task-pv-pod", "deployment/web", "statefulset/db"} <= {r["OBJECT"] for r in rows}
    attach = [r for r in rows if r["REASON"] == "SuccessfulAttachVolume"]
    assert attach and attach[0]["MESSAGE"] == 'AttachVolume.Attach succeeded for volume "pv-csi-a"'
    wide = [r for r in k.table("events", "-o", "wide") if r["REASON"] == "Scheduled"]
    assert wide and wide[0]["SOURCE"] == "default-scheduler" and wide[0]["COUNT"] == "1"


KINDS = [
    "pv",
    "pvc",
    "pods",
    "nodes",
    "storageclasses",
    "volumeattachments",
    "csidrivers",
    "csinodes",
    "events",
    "deployments",
    "replicasets",
    "statefulsets",
    "pdb",
    "namespaces",
    "leases",
]


@pytest.mark.parametrize("kind", KINDS)
def test_yaml_and_json_output(k: Kubectl, kind: str) -> None:
    listed = json.loads(k.ok("get", kind, "-A", "-o", "json"))
    assert listed["kind"] == "List" and listed["items"]
    first = listed["items"][0]
    name, namespace = first["metadata"]["name"], first["metadata"].get("namespace")
    args = ["get", kind, name, "-o", "yaml"] + (["-n", namespace] if namespace else [])
    single = yaml.safe_load(k.ok(*args))
    assert (single["kind"], single["apiVersion"], single["metadata"]["uid"]) == (
        first["kind"],
        first["apiVersion"],
        first["metadata"]["uid"],
    )
    assert single["metadata"]["resourceVersion"] and single["metadata"]["creationTimestamp"]


DESCRIBE = {
    "pv task-pv-volume": [
        "Name:            task-pv-volume",
        "Claim:           default/task-pv-claim",
        "StorageClass:    manual",
        "    Type:          HostPath (bare host directory volume)",
    ],
    "pvc task-pv-claim": [
        "Status:        Bound",
        "Volume:        task-pv-volume",
        "Used By:       task-pv-pod",
    ],
    "pod task-pv-pod": [
        "Node:             node-a/172.18.0.2",
        "Status:           Running",
        "    ClaimName:  task-pv-claim",
        "QoS Class:       BestEffort",
    ],
    "node node-a": ["Roles:              worker", "Unschedulable:      false"],
    "storageclass csi-hostpath-sc": [
        "IsDefaultClass:        Yes",
        "VolumeBindingMode:     WaitForFirstConsumer",
    ],
    "csidriver hostpath.csi.k8s.io": ["  Attach Required:     true"],
    "csinode node-a": ["    hostpath.csi.k8s.io:", "      Node ID:        node-a"],
    "deployment web": [
        "Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable"
    ],
    "statefulset db": ["Replicas:           1 desired | 1 total"],
    "pdb db": ["Min available:  1", "    Allowed disruptions:  0"],
    "namespace default": ["Status:       Active"],
    "lease kstor-leader": ["  Holder Identity:         kstor-0"],
}


@pytest.mark.parametrize("target", sorted(DESCRIBE))
def test_describe(k: Kubectl, target: str) -> None:
    if target.startswith("deployment"):
        wait_for(
            lambda: "2 available" in k.ok("describe", "deployment", "web"), message="web never available"
        )
    text = k.ok("describe", *target.split())
    for line in DESCRIBE[target]:
        assert line in text.splitlines(), f"{line!r} not in:\n{text}"


def test_describe_replicaset_names_its_owner_and_events(k: Kubectl) -> None:
    text = k.ok("describe", "replicaset", "-l", "app=web")
    lines = text.splitlines()
    assert "Controlled By:  Deployment/web" in lines
    assert "Replicas:       2 current / 2 desired" in lines
    assert any(
        re.search(r"SuccessfulCreate .* replicaset-controller +Created pod: web-", line) for line in lines
    )


def test_describe_volumeattachment(k: Kubectl) -> None:
    (va,) = k.table("volumeattachments")
    text = k.ok("describe", "volumeattachment", va["NAME"])
    assert "Attacher:   hostpath.csi.k8s.io" in text and "Attached:  true" in text


def test_describe_pvc_shows_the_recorded_events(k: Kubectl) -> None:
    claim = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: orphan, namespace: default}
spec:
  storageClassName: ""
  accessModes: [ReadWriteMany]
  resources: {requests: {storage: 100Gi}}
"""
    k.ok("create", "-f", "-", stdin=claim)
    wanted = "no persistent volumes available for this claim and no storage class is set"

    def described() -> str:
        text = k.ok("describe", "pvc", "orphan")
        return text if wanted in text else ""

    text = wait_for(described, timeout=20, message="no FailedBinding event on the claim")
    lines = text.splitlines()
    events = lines.index("Events:")
    assert re.split(r"\s{2,}", lines[events + 1].strip()) == ["Type", "Reason", "Age", "From", "Message"]
    row = next(line for line in lines[events + 3 :] if "FailedBinding" in line)
    cells = re.split(r"\s{2,}", row.strip())
    assert cells[:2] == ["Normal", "FailedBinding"] and cells[3:] == ["persistentvolume-controller", wanted]


def test_deleting_a_bound_pv_leaves_it_terminating(k: Kubectl) -> None:
    assert (
        k.ok("delete", "pv", "task-pv-volume", "--wait=false").strip()
        == 'persistentvolume "task-pv-volume" deleted'
    )
    row = next(r for r in k.table("pv") if r["NAME"] == "task-pv-volume")
    assert (row["STATUS"], row["CLAIM"]) == ("Terminating", "default/task-pv-claim")
    assert "Status:          Terminating (lasts " in k.ok("describe", "pv", "task-pv-volume")


def test_status_errors_print_like_a_real_server(k: Kubectl) -> None:
    assert k.fails("get", "pv", "nope") == 'Error from server (NotFound): persistentvolumes "nope" not found'
    assert k.fails("get", "sc", "nope") == (
        'Error from server (NotFound): storageclasses.storage.k8s.io "nope" not found'
    )
    again = k.fails("create", "-f", str(FIXTURES / "nodes.yaml"))
    assert 'Error from server (AlreadyExists): error when creating "' in again
    assert 'nodes "node-a" already exists' in again
    bad = k.fails(
        "create", "-f", "-", stdin="apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: code-pv}\n"
    )
    assert bad.splitlines() == [
        'The PersistentVolume "code-pv" is invalid: ',
        "* spec.accessModes: Required value",
        "* spec.capacity: Required value",
        '* spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
        "* spec: Required value: must specify a volume type",
    ]
    typo = (
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: typo, namespace: default}\n"
        "spec: {storageClasName: manual, accessModes: [ReadWriteOnce],\n"
        "       resources: {requests: {storage: 1Gi}}}\n"
    )
    assert k.fails("create", "-f", "-", stdin=typo) == (
        'Error from server (BadRequest): error when creating "STDIN": PersistentVolumeClaim in version "v1" '
        "cannot be handled as a PersistentVolumeClaim: strict decoding error: "
        'unknown field "spec.storageClasName"'
    )
    one = k.fails("create", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: Team_A}\n")
    assert one.startswith(
        'The Namespace "Team_A" is invalid: metadata.name: Invalid value: "Team_A": a lowercase RFC'
    )


def test_seed_scenario_as_kubectl_shows_it() -> None:
    with SimServerThread(scenario="seed", speed=100) as sim, tempfile.TemporaryDirectory() as cache:
        k = Kubectl(sim, Path(cache))

        def claims() -> dict[str, dict[str, str]]:
            rows = {row["NAME"]: row for row in k.table("pvc")}
            return rows if rows and all(r["STATUS"] == "Bound" for r in rows.values()) else {}

        rows = wait_for(claims, timeout=40, message="seed claims never all bound")
        # The beta annotation names the class when spec.storageClassName is absent.
        assert rows["test-nfs-pvc2"]["STORAGECLASS"] == "nfs-client-storageclass"
        assert (rows["manual-pvc"]["VOLUME"], rows["manual-pvc"]["STORAGECLASS"]) == ("manual-pv", "manual")
        claim = json.loads(k.ok("get", "pvc", "test-nfs-pvc2", "-o", "json"))
        volume = {row["NAME"]: row for row in k.table("pv")}[f"pvc-{claim['metadata']['uid']}"]
        assert [volume[c] for c in ("CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM")] == [
            "1Mi",
            "RWX",
            "Delete",
            "Bound",
            "default/test-nfs-pvc2",
        ]
        classes = [row["NAME"] for row in k.table("storageclasses")]
        assert classes == ["csi-hostpath-sc", "nfs-client", "nfs-client-storageclass"]
        nodes = {row["NAME"]: row["ROLES"] for row in k.table("nodes")}
        assert nodes["control-plane"] == "control-plane"
