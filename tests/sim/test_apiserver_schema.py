"""What the server returns validates against the Kubernetes OpenAPI schema (strict: no unknown fields)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
import urllib3

from kstor.sim.testing import SimServerThread

K8S_VERSION = "1.32"  # the version the server reports (/version gitVersion v1.32.0)
SPEC = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": SPEC}
SELECTOR = {"matchLabels": {"app": "web"}}
OBJECTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
    (
        "/api/v1/nodes",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-1", "labels": {"zone": "a"}},
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                    }
                ]
            },
        },
    ),
    (
        "/api/v1/namespaces/default/pods",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0"}, "spec": SPEC},
    ),
    (
        "/api/v1/persistentvolumes",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv-1"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "nfs": {"server": "10.0.0.1", "path": "/exports"},
            },
        },
    ),
    (
        "/api/v1/namespaces/default/persistentvolumeclaims",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    ),
    (
        "/api/v1/namespaces/default/events",
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "data.1"},
            "reason": "FailedBinding",
            "message": "no persistent volumes available for this claim and no storage class is set",
            "type": "Normal",
            "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"},
            "source": {"component": "persistentvolume-controller"},
            "count": 1,
            "firstTimestamp": "2026-01-01T12:00:00Z",
            "lastTimestamp": "2026-01-01T12:00:00Z",
        },
    ),
    (
        "/apis/apps/v1/namespaces/default/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": SELECTOR, "template": TEMPLATE},
        },
    ),
    (
        "/apis/apps/v1/namespaces/default/replicasets",
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web-abc"},
            "spec": {"replicas": 1, "selector": SELECTOR, "template": TEMPLATE},
        },
    ),
    (
        "/apis/apps/v1/namespaces/default/statefulsets",
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 1,
                "serviceName": "db",
                "selector": SELECTOR,
                "template": TEMPLATE,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    ),
    (
        "/apis/storage.k8s.io/v1/storageclasses",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "nfs-client"},
            "provisioner": "k8s-sigs.io/nfs-subdir-external-provisioner",
            "parameters": {"archiveOnDelete": "false"},
        },
    ),
    (
        "/apis/storage.k8s.io/v1/volumeattachments",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "VolumeAttachment",
            "metadata": {"name": "csi-abc"},
            "spec": {
                "attacher": "disk.csi.example.com",
                "nodeName": "node-1",
                "source": {"persistentVolumeName": "pv-1"},
            },
        },
    ),
    (
        "/apis/storage.k8s.io/v1/csidrivers",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": "disk.csi.example.com"},
            "spec": {"attachRequired": True},
        },
    ),
    (
        "/apis/storage.k8s.io/v1/csinodes",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSINode",
            "metadata": {"name": "node-1"},
            "spec": {"drivers": [{"name": "disk.csi.example.com", "nodeID": "node-1"}]},
        },
    ),
    (
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"minAvailable": 1, "selector": SELECTOR},
        },
    ),
    (
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "node-1"},
            "spec": {
                "holderIdentity": "node-1",
                "leaseDurationSeconds": 40,
                "renewTime": "2026-01-01T12:00:00.000000Z",
            },
        },
    ),
]


@pytest.fixture(scope="module")
def bare() -> Iterator[SimServerThread]:
    with SimServerThread(with_controllers=False) as server:
        yield server


def request(sim: SimServerThread, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    http = urllib3.PoolManager(cert_reqs="CERT_NONE")
    urllib3.disable_warnings()
    resp = http.request(
        method,
        sim.server + path,
        body=json.dumps(body) if body is not None else None,
        headers={"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"},
    )
    return resp.status, json.loads(resp.data)


@pytest.mark.parametrize(("collection", "obj"), OBJECTS, ids=[o["kind"] for _, o in OBJECTS])
def test_created_object_validates(bare: SimServerThread, collection: str, obj: dict[str, Any]) -> None:
    code, created = request(bare, "POST", collection, obj)
    assert code == 201, created
    code, got = request(bare, "GET", f"{collection}/{obj['metadata']['name']}")
    assert code == 200
    kubernetes_validate.validate(got, K8S_VERSION, strict=True)
    code, listed = request(bare, "GET", collection)
    for item in listed["items"]:
        kubernetes_validate.validate(item, K8S_VERSION, strict=True)


def test_scale_validates(bare: SimServerThread) -> None:
    request(bare, "POST", OBJECTS[6][0], OBJECTS[6][1] | {"metadata": {"name": "scaled"}})
    code, scale = request(bare, "GET", "/apis/apps/v1/namespaces/default/deployments/scaled/scale")
    assert code == 200 and scale["spec"]["replicas"] == 2
    kubernetes_validate.validate(scale, K8S_VERSION, strict=True)
