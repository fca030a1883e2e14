"""A burst of watch events over real HTTP, with the topology model subscribed to the store's batches:
afterwards the store equals the server object by object and the model equals a fresh build.

The burst changes the same few objects over and over (status flips, deletes and re-creates, moves of
a claim between volumes), so batches coalesce several changes of one object, including
created-then-deleted and deleted-then-re-created within one batch.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time

from kstor.kube.cluster import Cluster
from kstor.kube.store import Store
from kstor.model.builder import TopologyBuilder, build_topology
from tests.kube.conftest import open_fake_cluster
from tests.kube.fakeapi import FakeApi
from tests.model.model_factories import node, pod, pv, pvc, va

KINDS = ("Pod", "PersistentVolumeClaim", "PersistentVolume", "Node", "VolumeAttachment")
PLURAL = {
    "Pod": "pods",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "PersistentVolume": "persistentvolumes",
    "Node": "nodes",
    "VolumeAttachment": "volumeattachments",
}
NODES = ("n0", "n1", "n2")
CLAIMS = tuple(f"c{i}" for i in range(8))
VOLUMES = tuple(f"v{i}" for i in range(8))


def random_object(rng: random.Random) -> tuple[str, dict]:
    kind = rng.choice(["Pod", "Pod", "Pod", "PersistentVolumeClaim", "PersistentVolume", "Node",
                       "VolumeAttachment"])
    if kind == "Pod":
        i = rng.randrange(12)
        return kind, pod(
            f"p{i}",
            node_name=NODES[i % len(NODES)] if rng.random() < 0.9 else None,  # a pod keeps its node
            claims=tuple(rng.sample(CLAIMS, rng.randint(0, 2))),
            phase=rng.choice([None, "Running", "Succeeded"]),
            waiting=rng.choice([None, "ContainerCreating"]),
        )
    if kind == "PersistentVolumeClaim":
        return kind, pvc(rng.choice(CLAIMS), volume=rng.choice([*VOLUMES, None]),
                         phase=rng.choice(["Pending", "Bound"]))
    if kind == "PersistentVolume":
        name = rng.choice(VOLUMES)
        return kind, pv(name, csi=("hostpath.csi.k8s.io", name), claim=("default", rng.choice(CLAIMS)),
                        phase=rng.choice(["Bound", "Released", "Available"]))
    if kind == "Node":
        return kind, node(rng.choice(NODES), ready=rng.choice(["True", "False"]))
    return kind, va(rng.choice(VOLUMES), rng.choice(NODES), attached=rng.random() < 0.7)


async def burst(fake: FakeApi, rng: random.Random, count: int) -> None:
    for step in range(count):
        kind, obj = random_object(rng)
        plural, meta = PLURAL[kind], obj["metadata"]
        key = (meta.get("namespace") or "", meta["name"])
        if key in fake.objects[plural] and rng.random() < 0.2:
            await fake.delete(plural, key[1], key[0])
        else:
            await fake.put(plural, obj)
        if step % 25 == 0:
            await asyncio.sleep(0.003)  # pace the producer: the stream then arrives in many batches


async def status_flips(fake: FakeApi) -> None:
    """The steady state: the kubelets report each scheduled pod's phase again, changed."""
    for obj in list(fake.objects["pods"].values()):
        if obj["spec"].get("nodeName"):
            obj = copy.deepcopy(obj)
            status = obj.setdefault("status", {})
            status["phase"] = "Pending" if status.get("phase") == "Running" else "Running"
            await fake.put("pods", obj)
            await asyncio.sleep(0.003)


def store_matches_server(cluster: Cluster, fake: FakeApi) -> bool:
    for kind in KINDS:
        ours = {
            (o["metadata"].get("namespace") or "", o["metadata"]["name"]): o["metadata"]["resourceVersion"]
            for o in cluster.store.objects(kind)
        }
        theirs = {key: o["metadata"]["resourceVersion"] for key, o in fake.objects[PLURAL[kind]].items()}
        if ours != theirs:
            return False
    return True


async def test_model_equals_a_fresh_build_after_a_burst_of_watch_events(
    fake: FakeApi, fake_kubeconfig: str
) -> None:
    rng = random.Random(11)
    await burst(fake, rng, 60)  # something to list first
    cluster = await open_fake_cluster(fake_kubeconfig, kinds=KINDS, store=Store(batch_window=0.002))
    try:
        await cluster.wait_synced(10)
        builder = TopologyBuilder(cluster.store)
        builder.build()
        batches: list[int] = []
        cluster.store.subscribe(builder.apply)
        cluster.store.subscribe(lambda batch: batches.append(len(batch)))

        await burst(fake, rng, 1500)
        await status_flips(fake)
        deadline = time.monotonic() + 30
        while not store_matches_server(cluster, fake):
            assert time.monotonic() < deadline, "the store did not catch up with the server"
            await asyncio.sleep(0.02)
        cluster.store.flush()

        fresh = build_topology(cluster.store)
        assert builder.snapshot.same_content(fresh)
        assert len(batches) > 10  # the model followed the stream batch by batch
        assert sum(batches) < 1500  # and batches coalesced repeated changes of one object
        shown = {key: row.phase for key, row in builder.snapshot.pods.items()}
        served = {key: (o.get("status") or {}).get("phase") or "Pending"
                  for key, o in fake.objects["pods"].items()}
        assert shown == served
        assert set(builder.snapshot.claims) == {k for k in fake.objects["persistentvolumeclaims"]}
        assert {v.name for v in builder.snapshot.volumes.values()} == {
            k[1] for k in fake.objects["persistentvolumes"]
        }
    finally:
        await cluster.close()


async def test_the_initial_sync_is_frozen_out_of_the_collector_until_the_cluster_closes(
    fake: FakeApi, fake_kubeconfig: str
) -> None:
    import gc

    await burst(fake, random.Random(3), 40)
    gc.unfreeze()
    cluster = await open_fake_cluster(fake_kubeconfig, kinds=KINDS)
    try:
        await cluster.wait_synced(10)
        listed = next(iter(cluster.store.objects("Pod")))
        assert gc.get_freeze_count() > 0
        assert not any(o is listed for o in gc.get_objects())  # the collector no longer scans it
    finally:
        await cluster.close()
    assert gc.get_freeze_count() == 0
