"""kstor.kube against the embedded cluster over real HTTPS: sync, live changes, and every fault the
sim can inject. After each fault the store must equal the server, object by object."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator

import pytest

from kstor.kube.cluster import Cluster
from kstor.kube.connect import connect
from kstor.kube.informer import HealthState, InformerOptions
from kstor.sim.testing import SimServerThread
from tests.kube.helpers import eventually

FAST = InformerOptions(backoff_base=0.01, backoff_cap=0.3, slow_retry=0.2, watch_timeout=30)
PLURALS = {
    "Pod": "pods",
    "PersistentVolume": "persistentvolumes",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "Node": "nodes",
    "StorageClass": "storageclasses",
    "VolumeAttachment": "volumeattachments",
    "CSIDriver": "csidrivers",
}


@pytest.fixture
def sim() -> Iterator[SimServerThread]:
    with SimServerThread(with_controllers=False) as server:
        yield server


def pod(name: str, ns: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def pv(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/tmp/{name}"},
            "storageClassName": "manual",
        },
    }


def server_state(sim: SimServerThread, kind: str) -> dict:
    items = sim.call(sim.registry.list, PLURALS[kind])["items"]
    return {
        (o["metadata"].get("namespace") or "", o["metadata"]["name"]): o["metadata"]["resourceVersion"]
        for o in items
    }


def store_state(cluster: Cluster, kind: str) -> dict:
    return {
        key: o["metadata"]["resourceVersion"] for key, o in cluster.store.snapshot().get(kind, {}).items()
    }


def in_step(
    sim: SimServerThread, cluster: Cluster, kinds: tuple[str, ...] = ("Pod", "PersistentVolume")
) -> bool:
    return all(store_state(cluster, k) == server_state(sim, k) for k in kinds)


async def open_cluster(sim: SimServerThread, kinds: tuple[str, ...] = ("Pod", "PersistentVolume")) -> Cluster:
    cluster = Cluster(await connect(sim.kubeconfig), kinds=kinds, options=FAST, tune_gc=False)
    cluster.start()
    return cluster


async def test_sync_and_live_changes_with_controllers() -> None:
    with SimServerThread(scenario="seed", speed=500) as sim:
        async with Cluster(await connect(sim.kubeconfig), options=FAST) as cluster:
            assert cluster.info.is_sim and cluster.info.server.startswith("https://127.0.0.1:")
            await cluster.wait_synced(20)
            assert cluster.store.get("PersistentVolumeClaim", "default", "manual-pvc") is not None
            claim = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "late", "namespace": "default"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "manual",
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
            sim.call(sim.registry.create, "persistentvolumeclaims", claim, "default")
            await eventually(
                lambda: cluster.store.get("PersistentVolumeClaim", "default", "late") is not None
            )
            kinds = ("Pod", "PersistentVolume", "PersistentVolumeClaim", "Node", "StorageClass")
            await eventually(lambda: in_step(sim, cluster, kinds), timeout=20, what="store == server")


async def test_dropped_watches_resume_without_relisting(sim: SimServerThread) -> None:
    cluster = await open_cluster(sim)
    try:
        await cluster.wait_synced(10)
        for i in range(3):
            # Drop only once every informer has its watch open again (else there is nothing to drop).
            await eventually(lambda: sim.call(lambda: len(sim.api.watches)) == len(cluster.informers))
            sim.faults.drop_watches()
            sim.call(sim.registry.create, "pods", pod(f"p{i}"), "default")
        await eventually(lambda: in_step(sim, cluster), what="store == server")
        assert all(inf.stats.lists == 1 for inf in cluster.informers)
        assert all(inf.stats.watches >= 2 for inf in cluster.informers)
    finally:
        await cluster.close()


async def test_compacted_history_relists_and_nothing_is_stale(sim: SimServerThread) -> None:
    for i in range(4):
        sim.call(sim.registry.create, "pods", pod(f"p{i}"), "default")
    cluster = await open_cluster(sim)
    deleted: list[str] = []
    cluster.store.subscribe(
        lambda batch: deleted.extend(c.obj["metadata"]["name"] for c in batch if c.type == "DELETED")
    )
    try:
        await cluster.wait_synced(10)

        def gap() -> None:  # on the server loop, atomically: no watch sees these changes
            sim.api.drop_watches()
            sim.registry.delete("pods", "p0", "default")
            sim.registry.patch("pods", "p1", {"metadata": {"labels": {"changed": "yes"}}}, "default")
            sim.registry.create("persistentvolumes", pv("new-pv"))
            sim.registry.compact()

        sim.call(gap)
        await eventually(lambda: in_step(sim, cluster), what="store == server after 410")
        assert "p0" in deleted
        assert cluster.store.get("Pod", "default", "p1")["metadata"]["labels"] == {"changed": "yes"}
        assert all(inf.stats.lists >= 2 for inf in cluster.informers)
    finally:
        await cluster.close()


async def test_forbidden_kind_leaves_the_others_working(sim: SimServerThread) -> None:
    sim.faults.deny("persistentvolumes")
    cluster = await open_cluster(sim)
    try:
        await cluster.wait_synced(10, allow={HealthState.FORBIDDEN})
        health = cluster.health()
        assert health["PersistentVolume"].state == HealthState.FORBIDDEN
        assert "forbidden" in health["PersistentVolume"].error
        assert health["Pod"].state == HealthState.SYNCED
        sim.call(sim.registry.create, "pods", pod("live"), "default")
        await eventually(lambda: cluster.store.get("Pod", "default", "live") is not None)
        sim.faults.clear()
        await eventually(lambda: cluster.health()["PersistentVolume"].state == HealthState.SYNCED)
    finally:
        await cluster.close()


@pytest.mark.parametrize("code", [500, 429])
async def test_error_storm_backs_off_and_recovers(sim: SimServerThread, code: int) -> None:
    cluster = await open_cluster(sim, kinds=("Pod",))
    seen: list[tuple[HealthState, str]] = []
    cluster.on_health(lambda kind, h: seen.append((h.state, h.error)))
    try:
        await cluster.wait_synced(10)
        before = cluster.connection.transport.requests
        sim.faults.fail_next("pods", 4, code=code, retry_after=0)
        sim.faults.drop_watches()
        sim.call(sim.registry.create, "pods", pod("after-storm"), "default")
        await eventually(lambda: in_step(sim, cluster, ("Pod",)), what="caught up after the storm")
        await eventually(lambda: cluster.health()["Pod"].state == HealthState.SYNCED)
        assert any(s == HealthState.RECONNECTING and str(code) in e for s, e in seen), seen
        assert cluster.connection.transport.requests - before <= 4 + 3  # no hammering
    finally:
        await cluster.close()


async def test_server_restart_reconnects_and_catches_up(sim: SimServerThread) -> None:
    cluster = await open_cluster(sim)
    try:
        await cluster.wait_synced(10)

        async def restart() -> None:
            port = sim.api.port
            await sim.api.stop()
            sim.registry.create("pods", pod("made-while-down"), "default")
            await sim.api.start(port)

        # From another thread, so this client's loop keeps running (and answers the TLS shutdown).
        await asyncio.to_thread(sim.run, restart())
        await eventually(
            lambda: cluster.store.get("Pod", "default", "made-while-down") is not None, timeout=15
        )
        sim.call(sim.registry.create, "pods", pod("made-after"), "default")
        await eventually(lambda: in_step(sim, cluster), timeout=15, what="store == server after restart")
        assert cluster.all_synced()
    finally:
        await cluster.close()


async def test_close_leaves_no_unclosed_sessions(
    sim: SimServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    cluster = await open_cluster(sim)
    await cluster.wait_synced(10)
    await cluster.close()
    del cluster
    gc.collect()
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]


async def test_exec_plugin_over_https(sim: SimServerThread, tmp_path) -> None:
    import sys

    import yaml

    config = yaml.safe_load(sim.kubeconfig.read_text())
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        f"#!{sys.executable}\nimport json\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        f" 'status': {{'token': {sim.token!r}, 'expirationTimestamp': '2099-01-01T00:00:00Z'}}}}))\n"
    )
    plugin.chmod(0o755)
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    async with Cluster(await connect(path), kinds=("Node",), options=FAST) as cluster:
        await cluster.wait_synced(10)
        assert cluster.health()["Node"].state == HealthState.SYNCED


async def test_gc_threshold_is_raised_for_large_stores(sim: SimServerThread) -> None:
    import gc

    from kstor.kube import gctune

    saved = gc.get_threshold()
    gc.set_threshold(700, *saved[1:])
    gctune._tuned = False
    try:
        async with Cluster(await connect(sim.kubeconfig), kinds=("Node",), options=FAST) as cluster:
            await cluster.wait_synced(10)
            assert gc.get_threshold()[0] == gctune.YOUNG_THRESHOLD
    finally:
        gc.set_threshold(*saved)
