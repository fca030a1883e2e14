"""The Registry's request path, in-process: what control loops and the HTTP layer both rely on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.registry import Registry
from kstor.sim.clock import Clock


@pytest.fixture
def reg() -> Registry:
    return Registry(Clock(100.0, manual=True))


def pv(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/data/{name}"},
            **spec,
        },
    }


def pod(
    name: str, ns: str = "default", labels: dict[str, str] | None = None, node: str = ""
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "spec": spec,
    }


def test_default_namespaces_are_active(reg: Registry) -> None:
    names = {n["metadata"]["name"]: n["status"]["phase"] for n in reg.list("namespaces")["items"]}
    assert names == dict.fromkeys(["default", "kube-node-lease", "kube-public", "kube-system"], "Active")


def test_create_sets_metadata_and_protection_finalizer(reg: Registry) -> None:
    created = reg.create("persistentvolumes", pv("pv1"))
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and int(meta["resourceVersion"]) > 0
    assert meta["finalizers"] == ["kubernetes.io/pv-protection"]
    with pytest.raises(ApiError) as err:
        reg.create("persistentvolumes", pv("pv1"))
    assert err.value.code == 409 and err.value.message == 'persistentvolumes "pv1" already exists'


def test_generate_name_and_missing_namespace(reg: Registry) -> None:
    obj = pod("")
    obj["metadata"] = {"generateName": "web-", "namespace": "default"}
    created = reg.create("pods", obj)
    assert created["metadata"]["name"].startswith("web-") and len(created["metadata"]["name"]) == 9
    with pytest.raises(ApiError) as err:
        reg.create("pods", pod("p", ns="nope"))
    assert err.value.code == 404 and err.value.message == 'namespaces "nope" not found'


def test_stale_update_conflicts_and_status_is_separate(reg: Registry) -> None:
    created = reg.create("persistentvolumes", pv("pv1"))
    first = dict(created, metadata=dict(created["metadata"], labels={"a": "1"}))
    reg.update("persistentvolumes", first)
    with pytest.raises(ApiError) as err:
        reg.update("persistentvolumes", dict(created, metadata=dict(created["metadata"], labels={"a": "2"})))
    assert err.value.code == 409 and "the object has been modified" in err.value.message
    current = reg.get("persistentvolumes", "pv1")
    current["status"] = {"phase": "Available"}
    assert (
        reg.update("persistentvolumes", current)["status"]["phase"] == "Pending"
    )  # main resource ignores status
    current = reg.get("persistentvolumes", "pv1")
    current["status"] = {"phase": "Available"}
    current["spec"]["capacity"] = {"storage": "9Gi"}
    updated = reg.update("persistentvolumes", current, subresource="status")
    assert updated["status"]["phase"] == "Available" and updated["spec"]["capacity"] == {"storage": "1Gi"}


def test_finalizer_holds_deletion_until_removed(reg: Registry) -> None:
    reg.create("persistentvolumes", pv("pv1"))
    held = reg.delete("persistentvolumes", "pv1")
    assert held["metadata"]["deletionTimestamp"]
    assert reg.get("persistentvolumes", "pv1")["metadata"]["deletionTimestamp"]
    reg.patch("persistentvolumes", "pv1", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiError) as err:
        reg.get("persistentvolumes", "pv1")
    assert err.value.code == 404


def test_default_storage_class_filled_only_without_key(reg: Registry) -> None:
    reg.create(
        "storageclasses",
        {
            "metadata": {
                "name": "fast",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "x",
        },
    )
    claim = {
        "metadata": {"name": "c1"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    assert reg.create("persistentvolumeclaims", claim, "default")["spec"]["storageClassName"] == "fast"
    claim["metadata"]["name"] = "c2"
    claim["spec"]["storageClassName"] = ""
    assert reg.create("persistentvolumeclaims", claim, "default")["spec"]["storageClassName"] == ""


def test_selectors_and_pagination(reg: Registry) -> None:
    for i in range(5):
        reg.create("pods", pod(f"p{i}", labels={"app": "web" if i % 2 else "db", "i": str(i)}))
    names = [p["metadata"]["name"] for p in reg.list("pods", label_selector="app in (web),i!=3")["items"]]
    assert names == ["p1"]
    assert len(reg.list("pods", label_selector="!app")["items"]) == 0
    assert [p["metadata"]["name"] for p in reg.list("pods", field_selector="metadata.name=p2")["items"]] == [
        "p2"
    ]
    page = reg.list("pods", limit=2)
    seen = [p["metadata"]["name"] for p in page["items"]]
    reg.create("pods", pod("p0a"))  # not in the snapshot the pages come from
    while page["metadata"].get("continue"):
        page = reg.list("pods", limit=2, continue_token=page["metadata"]["continue"])
        seen += [p["metadata"]["name"] for p in page["items"]]
    assert seen == ["p0", "p1", "p2", "p3", "p4"]


async def test_watch_from_rv_and_too_old(reg: Registry) -> None:
    start = reg.resource_version
    reg.create("persistentvolumes", pv("a"))
    reg.patch("persistentvolumes", "a", {"metadata": {"labels": {"x": "y"}}})
    watch = reg.watch("persistentvolumes", resource_version=str(start))
    events = [(t, o["metadata"]["name"]) for t, o in [await anext(watch), await anext(watch)]]
    assert events == [("ADDED", "a"), ("MODIFIED", "a")]
    reg.delete("persistentvolumes", "a", grace_period_seconds=0)
    assert (await anext(watch))[0] == "MODIFIED"  # finalizer: deletionTimestamp set
    watch.close()
    reg.compact()
    stale = reg.watch("persistentvolumes", resource_version=str(start))
    kind, status = await anext(stale)
    assert kind == "ERROR" and status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(f"too old resource version: {start} (")


async def test_watch_bookmarks_when_idle(reg: Registry) -> None:
    watch = reg.watch(
        "nodes", resource_version=str(reg.resource_version), bookmarks=True, bookmark_interval=0.05
    )
    kind, obj = await asyncio.wait_for(anext(watch), 5)
    assert kind == "BOOKMARK" and obj["metadata"]["resourceVersion"] == str(reg.resource_version)


def owned(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    obj = pod(name)
    obj["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "controller": True,
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "blockOwnerDeletion": True,
        }
    ]
    return obj


def rs(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
            },
        },
    }


@pytest.mark.parametrize("policy", ["Background", "Foreground", "Orphan"])
def test_propagation_policies(reg: Registry, policy: str) -> None:
    owner = reg.create("replicasets", rs("web"))
    reg.create("pods", owned("web-1", owner))
    reg.delete("replicasets", "web", "default", propagation_policy=policy)
    names = [p["metadata"]["name"] for p in reg.list("pods", "default")["items"]]
    assert not reg.list("replicasets", "default")["items"]
    if policy == "Orphan":
        assert names == ["web-1"] and "ownerReferences" not in reg.get("pods", "web-1", "default")["metadata"]
    else:
        assert names == []


def test_foreground_waits_for_graceful_dependent(reg: Registry) -> None:
    owner = reg.create("replicasets", rs("web"))
    reg.create("pods", owned("web-1", owner) | {"spec": pod("x", node="n1")["spec"]})
    reg.delete("replicasets", "web", "default", propagation_policy="Foreground")
    held = reg.get("replicasets", "web", "default")
    assert "foregroundDeletion" in held["metadata"]["finalizers"] and held["metadata"]["deletionTimestamp"]
    assert reg.get("pods", "web-1", "default")["metadata"]["deletionTimestamp"]  # kubelet's turn
    reg.delete("pods", "web-1", "default", grace_period_seconds=0)
    assert not reg.list("replicasets", "default")["items"]


def test_namespace_deletion_empties_then_goes(reg: Registry) -> None:
    reg.create("namespaces", {"metadata": {"name": "team"}})
    reg.create("pods", pod("p", ns="team", node="n1"))
    reg.delete("namespaces", "team")
    assert reg.get("namespaces", "team")["status"]["phase"] == "Terminating"
    with pytest.raises(ApiError) as err:
        reg.create("pods", pod("q", ns="team"))
    assert err.value.code == 403 and "because it is being terminated" in err.value.message
    reg.delete("pods", "p", "team", grace_period_seconds=0)
    assert "team" not in [n["metadata"]["name"] for n in reg.list("namespaces")["items"]]


def test_eviction_blocked_by_pdb(reg: Registry) -> None:
    for i in range(2):
        p = reg.create("pods", pod(f"db-{i}", labels={"app": "db"}, node="n1"))
        p["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        reg.update("pods", p, subresource="status")
    reg.create(
        "poddisruptionbudgets",
        {
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
        },
    )
    assert reg.evict("db-0", "default", {})["code"] == 201
    with pytest.raises(ApiError) as err:
        reg.evict("db-1", "default", {})
    assert err.value.code == 429
    assert err.value.message == "Cannot evict pod as it would violate the pod's disruption budget."
    assert err.value.details["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget db needs 1 healthy pods and has 1 currently",
        }
    ]


def test_patch_types(reg: Registry) -> None:
    reg.create("pods", pod("p"))
    reg.patch(
        "pods",
        "p",
        {"spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]}},
        "default",
        patch_type="strategic",
    )
    got = reg.get("pods", "p", "default")
    assert [c["image"] for c in got["spec"]["containers"]] == ["busybox:1.37"]
    reg.patch(
        "pods", "p", [{"op": "add", "path": "/metadata/labels/x", "value": "1"}], "default", patch_type="json"
    )
    assert reg.get("pods", "p", "default")["metadata"]["labels"] == {"x": "1"}


def test_events_in_a_terminating_namespace_are_dropped_not_raised(reg: Registry) -> None:
    from kstor.sim.events import EventRecorder

    reg.create("namespaces", {"metadata": {"name": "team"}})
    held = reg.create("pods", pod("p", ns="team", node="n1"))
    reg.delete("namespaces", "team")
    recorder = EventRecorder(reg, "kubelet", "n1")
    recorder.warning(held, "FailedMount", "MountVolume.SetUp failed")  # 403 from the server: dropped
    assert reg.list("events", "team")["items"] == []


def test_watch_that_falls_behind_is_closed_and_unregistered() -> None:
    reg = Registry(Clock(100.0, manual=True), history_size=5)
    watch = reg.watch("persistentvolumes", resource_version=str(reg.resource_version))
    for i in range(20):  # nobody reads: more than history_size + 10_000 would be needed in real use
        reg.create("persistentvolumes", pv(f"pv-{i}"))
    assert watch.max_pending == 10_005 and not watch.closed
    watch.max_pending = 3
    reg.create("persistentvolumes", pv("one-more"))
    assert watch.closed and reg._watchers["persistentvolumes"] == []
