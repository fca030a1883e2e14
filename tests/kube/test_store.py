"""Store: objects by kind/namespace/name, the indexes kstor.model reads, batched changes."""

from __future__ import annotations

import asyncio

from kstor.kube.store import Store
from kstor.model import Change, ChangeType, ObjectSource
from tests.kube.helpers import obj


def pod(name: str, node: str | None = None, claims: tuple[str, ...] = (), rv: str = "1") -> dict:
    volumes = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    p = obj(name, "ns", spec={"volumes": volumes})
    p["metadata"]["resourceVersion"] = rv
    if node:
        p["spec"]["nodeName"] = node
    return p


def test_store_has_every_method_of_the_model_protocol() -> None:
    wanted = [n for n in vars(ObjectSource) if not n.startswith("_")]
    assert wanted and all(callable(getattr(Store(), n, None)) for n in wanted)


def test_indexes_follow_updates_and_deletes() -> None:
    store = Store()
    store.apply("Pod", "ADDED", pod("a", node="n1", claims=("data",)))
    store.apply("Pod", "ADDED", pod("b", node="n1"))
    assert {p["metadata"]["name"] for p in store.pods_on_node("n1")} == {"a", "b"}
    assert [p["metadata"]["name"] for p in store.pods_using_claim("ns", "data")] == ["a"]
    store.apply("Pod", "MODIFIED", pod("a", node="n2", claims=("other",), rv="2"))
    assert [p["metadata"]["name"] for p in store.pods_on_node("n1")] == ["b"]
    assert store.pods_using_claim("ns", "data") == []
    assert [p["metadata"]["name"] for p in store.pods_using_claim("ns", "other")] == ["a"]
    store.apply("Pod", "DELETED", pod("a"))
    assert store.pods_on_node("n2") == [] and store.get("Pod", "ns", "a") is None


def test_pv_attachment_and_event_indexes() -> None:
    store = Store()
    store.apply("PersistentVolume", "ADDED", obj("pv1", spec={"claimRef": {"namespace": "ns", "name": "c"}}))
    store.apply("VolumeAttachment", "ADDED", obj("va", spec={"nodeName": "n1",
                                                             "source": {"persistentVolumeName": "pv1"}}))
    node_event = obj("e1", "default", involvedObject={"kind": "Node", "namespace": "default", "name": "n1"})
    store.apply("Event", "ADDED", node_event)
    assert [v["metadata"]["name"] for v in store.volumes_for_claim("ns", "c")] == ["pv1"]
    assert [v["metadata"]["name"] for v in store.attachments_for_volume("pv1")] == ["va"]
    assert [v["metadata"]["name"] for v in store.attachments_on_node("n1")] == ["va"]
    # Events about cluster-scoped objects are found with namespace "" as the model asks.
    assert [e["metadata"]["name"] for e in store.events_for("Node", "", "n1")] == ["e1"]


def test_replace_emits_only_the_differences() -> None:
    store = Store()
    batches: list[list[Change]] = []
    store.subscribe(batches.append)
    store.replace("Pod", [pod("a"), pod("b"), pod("c")])
    store.flush()
    store.replace("Pod", [pod("a"), pod("b", rv="2"), pod("d")])
    store.flush()
    assert len(batches) == 2
    assert {(c.type, c.obj["metadata"]["name"]) for c in batches[1]} == {
        (ChangeType.MODIFIED, "b"), (ChangeType.DELETED, "c"), (ChangeType.ADDED, "d")}
    assert sorted(k for (_, k) in store.snapshot()["Pod"]) == ["a", "b", "d"]


def test_replace_within_a_namespace_leaves_other_namespaces() -> None:
    store = Store()
    store.apply("Pod", "ADDED", pod("a"))
    store.apply("Pod", "ADDED", obj("x", "other"))
    store.replace("Pod", [], namespace="ns")
    assert store.get("Pod", "other", "x") is not None and store.get("Pod", "ns", "a") is None


def test_changes_to_one_object_coalesce_within_a_batch() -> None:
    store = Store()
    batches: list[list[Change]] = []
    store.subscribe(batches.append)
    store.apply("Pod", "ADDED", pod("a"))
    store.apply("Pod", "MODIFIED", pod("a", rv="2"))
    store.apply("Pod", "ADDED", pod("gone"))
    store.apply("Pod", "DELETED", pod("gone"))
    store.flush()
    [batch] = batches
    assert [(c.type, c.obj["metadata"]["resourceVersion"]) for c in batch] == [(ChangeType.ADDED, "2")]


async def test_batches_are_delivered_after_the_window_and_by_async_iterator() -> None:
    store = Store(batch_window=0.01)
    received: list[list[Change]] = []

    async def consume() -> None:
        async for batch in store.changes():
            received.append(batch)
            if sum(map(len, received)) >= 100:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    for i in range(100):
        store.apply("Pod", "ADDED", pod(f"p{i}"))
    await asyncio.wait_for(task, 5)
    assert sum(map(len, received)) == 100 and len(received) < 100  # batched, nothing lost


def test_a_full_batch_flushes_at_once() -> None:
    store = Store(batch_max=10)
    got: list[int] = []
    store.subscribe(lambda b: got.append(len(b)))
    for i in range(25):
        store.apply("Pod", "ADDED", pod(f"p{i}"))
    assert got == [10, 10]
