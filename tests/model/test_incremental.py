"""apply(changes) gives the same topology as a full rebuild, and reuses what did not change."""

from __future__ import annotations

import random

import pytest
from model_factories import csidriver, event, node, pod, pv, pvc, sc, source, va

from kstor.model import Change, ChangeType, DictSource, TopologyBuilder
from kstor.model.snapshot import MAP_NAMES
from kstor.model.source import object_key
from kstor.model.types import KINDS

KIND_OF = {
    "StorageClass",
    "CSIDriver",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "VolumeAttachment",
    "Event",
}
NODES = ["n0", "n1", "n2"]
CLAIMS = [("default", f"c{i}") for i in range(6)] + [("team-b", "c0")]
VOLUMES = [f"v{i}" for i in range(8)]
DRIVER = "hostpath.csi.k8s.io"
REASONS = {
    "PersistentVolumeClaim": [
        "WaitForFirstConsumer",
        "ExternalProvisioning",
        "Provisioning",
        "ProvisioningFailed",
        "FailedBinding",
        "VolumeMismatch",
        "ClaimLost",
    ],
    "Pod": ["FailedMount", "FailedAttachVolume", "FailedScheduling"],
}


def random_object(rng: random.Random, kind: str, world: DictSource) -> dict:
    if kind == "StorageClass":
        name = rng.choice(["nfs", "local-ssd", "csi"])
        return sc(
            name,
            rng.choice([DRIVER, "k8s-sigs.io/nfs-subdir-external-provisioner"]),
            mode=rng.choice(["Immediate", "WaitForFirstConsumer"]),
        )
    if kind == "CSIDriver":
        return csidriver(DRIVER, attach_required=rng.random() < 0.7)
    if kind == "Node":
        handle = f"kubernetes.io/csi/{DRIVER}^{rng.choice(VOLUMES)}"
        return node(
            rng.choice(NODES),
            ready=rng.choice(["True", "True", "False", "Unknown"]),
            cordoned=rng.random() < 0.2,
            in_use=(handle,) if rng.random() < 0.5 else (),
            attached=(handle,) if rng.random() < 0.5 else (),
        )
    if kind == "PersistentVolume":
        name = rng.choice(VOLUMES)
        plugin = rng.choice(["nfs", "csi", "host"])
        claim = rng.choice([*CLAIMS, None])
        return pv(
            name,
            nfs=("srv", f"/e/{name}") if plugin == "nfs" else None,
            csi=(DRIVER, name) if plugin == "csi" else None,
            claim=claim,
            claim_uid="stale" if claim and rng.random() < 0.15 else None,
            phase=rng.choice(["Available", "Bound", "Bound", "Released", "Failed"]),
            sc_name=rng.choice(["nfs", "local-ssd", "csi", "manual"]),
            deleting=rng.random() < 0.15,
            reclaim=rng.choice(["Retain", "Delete"]),
        )
    if kind == "PersistentVolumeClaim":
        ns, name = rng.choice(CLAIMS)
        ann = {}
        if rng.random() < 0.4:
            ann["volume.kubernetes.io/storage-provisioner"] = DRIVER
        if rng.random() < 0.3:
            ann["volume.kubernetes.io/selected-node"] = rng.choice(NODES)
        return pvc(
            name,
            ns,
            sc_name=rng.choice(["nfs", "local-ssd", "csi", "manual", None]),
            volume=rng.choice([*VOLUMES, None, None]),
            phase=rng.choice(["Pending", "Bound", "Bound", "Lost"]),
            annotations=ann,
            deleting=rng.random() < 0.1,
            created=rng.randint(0, 100),
        )
    if kind == "Pod":
        ns = rng.choice(["default", "team-b"])
        claims = tuple({c for n, c in rng.sample(CLAIMS, rng.randint(0, 2)) if n == ns})
        node_name = rng.choice([*NODES, None, "gone-node"])
        mounts = None
        if claims and rng.random() < 0.4:
            vol = "data" if len(claims) == 1 else f"vol-{claims[0]}"
            mounts = {
                vol: {"path": "/x", "state": rng.choice(["mounted", "mounting", "failed", "unmounting"])}
            }
        return pod(
            f"p{rng.randint(0, 7)}",
            ns,
            node_name=node_name,
            claims=claims,
            mounts=mounts,
            waiting=rng.choice([None, "ContainerCreating"]),
            deleting=rng.random() < 0.15,
            phase=rng.choice([None, None, "Succeeded"]),
        )
    if kind == "VolumeAttachment":
        return va(
            rng.choice(VOLUMES),
            rng.choice([*NODES, "gone-node"]),
            attached=rng.random() < 0.6,
            error="boom" if rng.random() < 0.2 else None,
            deleting=rng.random() < 0.15,
        )
    about_kind = rng.choice(["PersistentVolumeClaim", "Pod"])
    candidates = list(world.objects(about_kind))
    if not candidates:
        return random_object(rng, "PersistentVolumeClaim", world)
    about = rng.choice(candidates)
    reason = rng.choice(REASONS[about_kind])
    volume = rng.choice([*VOLUMES, "data"])
    message = {
        "FailedAttachVolume": rng.choice(
            [
                f'Multi-Attach error for volume "{volume}" Volume is already used by pod(s) p1',
                f'AttachVolume.Attach failed for volume "{volume}" : rpc error',
            ]
        ),
        "FailedMount": f'MountVolume.SetUp failed for volume "{volume}" : mount failed: exit status 32',
    }.get(reason, f"{reason} message")
    return event(about, reason, message, count=rng.randint(1, 4), at=rng.randint(0, 90))


def random_change(rng: random.Random, world: DictSource) -> Change:
    kind = rng.choice(
        [
            "Pod",
            "Pod",
            "PersistentVolumeClaim",
            "PersistentVolume",
            "VolumeAttachment",
            "Event",
            "Event",
            "Node",
            "StorageClass",
            "CSIDriver",
        ]
    )
    existing = list(world.objects(kind))
    if existing and rng.random() < 0.25:
        return Change(kind, ChangeType.DELETED, rng.choice(existing))
    obj = random_object(rng, obj_kind := kind, world)
    obj_kind = obj["kind"]
    present = world.get(obj_kind, *object_key(obj_kind, obj)) is not None
    return Change(obj_kind, ChangeType.MODIFIED if present else ChangeType.ADDED, obj)


def describe_difference(incremental, full) -> str:
    for name in MAP_NAMES:
        a, b = dict(getattr(incremental, name)), dict(getattr(full, name))
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return f"{name}[{key}]: incremental {a.get(key)} != rebuild {b.get(key)}"
    return "?"


@pytest.mark.parametrize("seed", [*range(8), 107])  # 107 once caught a missed cross-node dependency
def test_incremental_equals_full_rebuild_after_random_changes(seed: int) -> None:
    rng = random.Random(seed)
    world = source()
    builder = TopologyBuilder(world)
    builder.build()
    for step in range(250):
        batch = [random_change(rng, world) for _ in range(rng.randint(1, 4))]
        for change in batch:  # the store applies each change before the model sees the batch
            world.apply([change])
        incremental = builder.apply(batch)
        full = TopologyBuilder(world).build()
        if not incremental.same_content(full):
            pytest.fail(f"seed {seed} step {step}: {describe_difference(incremental, full)} after {batch}")
    assert sum(len(list(world.objects(k))) for k in KINDS) > 10  # the world did not stay empty


def test_unchanged_rows_are_reused_and_generation_grows() -> None:
    objs = [
        node("n0"),
        node("n1"),
        pv("v0", phase="Bound", claim=("default", "c0")),
        pvc("c0", volume="v0", phase="Bound"),
        pod("p0", node_name="n0", claims=("c0",)),
        pv("v1", phase="Bound", claim=("default", "c1")),
        pvc("c1", volume="v1", phase="Bound"),
        pod("p1", node_name="n1", claims=("c1",)),
    ]
    world = source(*objs)
    builder = TopologyBuilder(world)
    before = builder.build()
    moved = pod("p0", node_name="n0", claims=("c0",), deleting=True)
    world.apply([Change("Pod", ChangeType.MODIFIED, moved)])
    after = builder.apply([Change("Pod", ChangeType.MODIFIED, moved)])
    assert after.generation == before.generation + 1
    assert after.pods[("default", "p1")] is before.pods[("default", "p1")]
    assert after.nodes["n1"] is before.nodes["n1"]
    assert after.pods[("default", "p0")].status == "Terminating"
    assert before.pods[("default", "p0")].status == "Running"  # old snapshots never change
    assert builder.apply([]) is after  # nothing changed: same snapshot


def test_deleting_a_pod_frees_its_claim_into_the_unplaced_section() -> None:
    the_pod = pod("p0", node_name="n0", claims=("c0",))
    world = source(
        node("n0"),
        pv("v0", phase="Bound", claim=("default", "c0")),
        pvc("c0", volume="v0", phase="Bound"),
        the_pod,
    )
    builder = TopologyBuilder(world)
    assert builder.build().unplaced.unused_claims == ()
    world.apply([Change("Pod", ChangeType.DELETED, the_pod)])
    after = builder.apply([Change("Pod", ChangeType.DELETED, the_pod)])
    assert [c.ref.name for c in after.unplaced.unused_claims] == ["c0"]
    assert [v.name for v in after.unplaced.free_volumes] == ["v0"]
    assert after.nodes["n0"].pods == ()


def test_generic_ephemeral_volume_follows_its_claim() -> None:
    the_pod = pod("web-0", node_name="n0")
    the_pod["spec"]["volumes"].insert(
        0,
        {
            "name": "scratch",
            "ephemeral": {
                "volumeClaimTemplate": {
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
                }
            },
        },
    )
    world = source(node("n0"), the_pod)
    builder = TopologyBuilder(world)
    use = builder.build().pods[("default", "web-0")].volumes[0]
    assert (use.volume, use.kind, use.binding.reason.value) == ("scratch", "pvc", "ClaimMissing")
    claim = pvc("web-0-scratch", volume="v0", phase="Bound")
    changes = [
        Change("PersistentVolumeClaim", ChangeType.ADDED, claim),
        Change(
            "PersistentVolume", ChangeType.ADDED, pv("v0", phase="Bound", claim=("default", "web-0-scratch"))
        ),
    ]
    world.apply(changes)
    after = builder.apply(changes)
    assert after.pods[("default", "web-0")].volumes[0].binding.phase.value == "Bound"
    assert after.claim_users[("default", "web-0-scratch")] == frozenset({("default", "web-0")})
    assert after.same_content(TopologyBuilder(world).build())


def test_multi_attach_clears_when_the_other_nodes_attachment_goes() -> None:
    from model_factories import csidriver, event

    claim = pvc("c0", sc_name="csi", volume="v0", phase="Bound")
    second = pod("p2", node_name="n1", claims=("c0",), waiting="ContainerCreating")
    other = va("v0", "n0")
    world = source(
        csidriver("hostpath.csi.k8s.io"),
        node("n0"),
        node("n1"),
        claim,
        second,
        other,
        pv("v0", csi=("hostpath.csi.k8s.io", "v0"), phase="Bound", claim=("default", "c0")),
        event(
            second,
            "FailedAttachVolume",
            'Multi-Attach error for volume "v0" Volume is already used by pod(s) p1',
            type_="Warning",
        ),
    )
    builder = TopologyBuilder(world)
    assert builder.build().pods[("default", "p2")].volumes[0].attach.phase.value == "MultiAttach"
    gone = [Change("VolumeAttachment", ChangeType.DELETED, other)]
    world.apply(gone)
    assert builder.apply(gone).pods[("default", "p2")].volumes[0].attach.phase.value == "Attaching"
