"""Informer behaviour against a fake API server that controls every byte of the stream."""

from __future__ import annotations

import json

import pytest

from kstor.kube.informer import GarbageLine, HealthState, Informer
from kstor.kube.kinds import KINDS
from kstor.kube.store import Store
from tests.kube.conftest import open_fake_cluster
from tests.kube.fakeapi import FakeApi
from tests.kube.helpers import eventually, obj


def names(cluster, kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in cluster.store.objects(kind)}


def server_state(fake: FakeApi, plural: str) -> dict:
    return {key: o["metadata"]["resourceVersion"] for key, o in fake.objects[plural].items()}


def store_state(cluster, kind: str) -> dict:
    return {
        key: o["metadata"]["resourceVersion"] for key, o in cluster.store.snapshot().get(kind, {}).items()
    }


async def test_sync_paginates_and_then_follows_live_changes(fake: FakeApi, fake_kubeconfig: str) -> None:
    for i in range(1200):
        await fake.put("pods", obj(f"p{i}", "ns"))
    cluster = await open_fake_cluster(fake_kubeconfig)
    try:
        await cluster.wait_synced(10)
        assert cluster.store.count("Pod") == 1200
        assert fake.requests["pods list"] == 3  # limit=500: three pages
        assert cluster.store.get("Pod", "ns", "p7")["kind"] == "Pod"  # list items get their kind back
        await fake.put("pods", obj("new", "ns"))
        await fake.delete("pods", "p0", "ns")
        await eventually(lambda: "new" in names(cluster, "Pod") and "p0" not in names(cluster, "Pod"))
    finally:
        await cluster.close()


async def test_garbage_on_the_stream_restarts_the_watch_without_losing_state(
    fake: FakeApi, fake_kubeconfig: str
) -> None:
    await fake.put("pods", obj("a", "ns"))
    fake.junk = [b"this is not json", b'{"type": "WHAT", "object": {}}']
    cluster = await open_fake_cluster(fake_kubeconfig)
    try:
        await eventually(lambda: cluster.informers[0].stats.garbage >= 1, what="garbage counted")
        await fake.put("pods", obj("b", "ns"))
        await eventually(lambda: names(cluster, "Pod") == {"a", "b"}, what="recovered")
        await eventually(lambda: cluster.health()["Pod"].state == HealthState.SYNCED)
        assert cluster.informers[0].stats.lists == 1  # resumed from its resourceVersion, no relist
    finally:
        await cluster.close()


async def test_compacted_history_relists_and_emits_what_the_gap_hid(
    fake: FakeApi, fake_kubeconfig: str
) -> None:
    for name in ("keep", "vanish", "change"):
        await fake.put("pods", obj(name, "ns"))
    cluster = await open_fake_cluster(fake_kubeconfig)
    seen: list = []
    cluster.store.subscribe(seen.extend)
    try:
        await cluster.wait_synced(10)
        # While no watch is open, objects change and history is compacted: the resumed watch gets 410.
        await fake.drop_watches()
        fake.delete_silently("pods", "vanish", "ns")
        fake.objects["pods"][("ns", "change")]["metadata"]["resourceVersion"] = "999"
        fake.compact("pods")
        await fake.drop_watches()
        await eventually(
            lambda: store_state(cluster, "Pod") == server_state(fake, "pods"), what="store == server"
        )
        assert ("DELETED", "vanish") in {(c.type, c.obj["metadata"]["name"]) for c in seen}
        assert cluster.informers[0].stats.lists >= 2
    finally:
        await cluster.close()


async def test_forbidden_kind_does_not_block_the_others(fake: FakeApi, fake_kubeconfig: str) -> None:
    fake.forbidden.add("persistentvolumes")
    await fake.put("pods", obj("a", "ns"))
    cluster = await open_fake_cluster(fake_kubeconfig)
    try:
        await cluster.wait_synced(10, allow={HealthState.FORBIDDEN})
        health = cluster.health()
        assert health["PersistentVolume"].state == HealthState.FORBIDDEN
        assert "forbidden" in health["PersistentVolume"].error
        assert health["Pod"].state == HealthState.SYNCED
        await fake.put("pods", obj("b", "ns"))
        await eventually(lambda: names(cluster, "Pod") == {"a", "b"})
        fake.forbidden.clear()  # RBAC fixed: the slow retry picks it up
        await eventually(lambda: cluster.health()["PersistentVolume"].state == HealthState.SYNCED)
    finally:
        await cluster.close()


async def test_error_storm_backs_off_shows_the_error_and_recovers(
    fake: FakeApi, fake_kubeconfig: str
) -> None:
    await fake.put("pods", obj("a", "ns"))
    fake.fail["pods"] = [(500, {})] * 6 + [(429, {"Retry-After": "0"})]
    cluster = await open_fake_cluster(fake_kubeconfig, kinds=("Pod",))
    states: list[tuple[str, str]] = []
    cluster.on_health(lambda kind, h: states.append((h.state, h.error)))
    try:
        await cluster.wait_synced(10)
        assert any(s == HealthState.RECONNECTING and "500" in e for s, e in states)
        assert any(s == HealthState.RECONNECTING and "429" in e for s, e in states)
        assert names(cluster, "Pod") == {"a"}
        assert fake.requests["pods list"] == 8  # 7 failures + 1 success: no hammering
    finally:
        await cluster.close()


async def test_dropped_watches_resume_from_the_last_resource_version(
    fake: FakeApi, fake_kubeconfig: str
) -> None:
    cluster = await open_fake_cluster(fake_kubeconfig, kinds=("Pod",))
    try:
        await cluster.wait_synced(10)
        for i in range(5):
            await fake.drop_watches()
            await fake.put("pods", obj(f"p{i}", "ns"))
        await eventually(lambda: store_state(cluster, "Pod") == server_state(fake, "pods"))
        assert cluster.informers[0].stats.lists == 1
    finally:
        await cluster.close()


async def test_namespaced_informers_only_see_their_namespaces(fake: FakeApi, fake_kubeconfig: str) -> None:
    await fake.put("pods", obj("a", "one"))
    await fake.put("pods", obj("b", "two"))
    await fake.put("pods", obj("c", "three"))
    cluster = await open_fake_cluster(
        fake_kubeconfig, kinds=("Pod", "PersistentVolume"), namespaces=["one", "two"]
    )
    try:
        await cluster.wait_synced(10)
        assert len(cluster.informers) == 3  # pods per namespace + the cluster-scoped PVs
        await fake.put("pods", obj("d", "two"))
        await fake.put("pods", obj("e", "three"))
        await eventually(lambda: names(cluster, "Pod") == {"a", "b", "d"})
    finally:
        await cluster.close()


async def test_kind_not_served_is_unavailable_and_others_sync(fake: FakeApi, fake_kubeconfig: str) -> None:
    fake.missing.add("csidrivers")
    await fake.put("pods", obj("a", "ns"))
    cluster = await open_fake_cluster(fake_kubeconfig, kinds=("Pod", "CSIDriver"))
    try:
        await cluster.wait_synced(10, allow={HealthState.UNAVAILABLE})
        assert cluster.health()["CSIDriver"].state == HealthState.UNAVAILABLE
        assert names(cluster, "Pod") == {"a"}
    finally:
        await cluster.close()


async def test_only_storage_events_are_kept_by_default(fake: FakeApi, fake_kubeconfig: str) -> None:
    def event(name: str, kind: str, reason: str) -> dict:
        return obj(name, "ns", involvedObject={"kind": kind, "namespace": "ns", "name": "x"}, reason=reason)

    await fake.put("events", event("claim", "PersistentVolumeClaim", "ProvisioningFailed"))
    await fake.put("events", event("scaled", "Deployment", "ScalingReplicaSet"))
    cluster = await open_fake_cluster(fake_kubeconfig, kinds=("Event",))
    try:
        await cluster.wait_synced(10)
        await fake.put("events", event("mount", "Pod", "FailedMount"))
        await fake.put("events", event("rs", "ReplicaSet", "SuccessfulCreate"))
        await eventually(lambda: names(cluster, "Event") == {"claim", "mount"})
        assert [e["reason"] for e in cluster.store.events_for("Pod", "ns", "x")] == ["FailedMount"]
    finally:
        await cluster.close()


def test_garbage_mid_chunk_applies_the_good_lines_before_it() -> None:
    def line(name: str, rv: str) -> bytes:
        meta = {"name": name, "namespace": "ns", "resourceVersion": rv}
        return json.dumps({"type": "ADDED", "object": {"metadata": meta}}).encode()

    store = Store()
    informer = Informer(transport=None, store=store, kind=KINDS["Pod"])  # type: ignore[arg-type]
    with pytest.raises(GarbageLine):
        informer._handle_lines([line("a", "5"), b"<html>oops</html>", line("b", "6")])
    assert store.get("Pod", "ns", "a") is not None and store.get("Pod", "ns", "b") is None
    assert informer.resource_version == "5"  # the resumed watch replays "b"
    assert informer.stats.garbage == 1
