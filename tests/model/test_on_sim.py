"""The model on the embedded cluster's real objects: the seed scenario settles into a steady topology,
and the incremental builder, fed the differences between successive listings, matches a rebuild.

The sim runs in-process at high speed; every wait polls with a deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from kstor.model import (
    AttachPhase,
    BindingPhase,
    Change,
    ChangeType,
    DictSource,
    FindingKind,
    MountPhase,
    Topology,
    TopologyBuilder,
    steady,
)
from kstor.model.source import object_key
from kstor.sim.cluster import SimCluster
from kstor.sim.testing import async_wait_for

PLURALS = {
    "storageclasses": "StorageClass",
    "csidrivers": "CSIDriver",
    "nodes": "Node",
    "persistentvolumes": "PersistentVolume",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "pods": "Pod",
    "volumeattachments": "VolumeAttachment",
    "events": "Event",
}


class Mirror:
    """Lists the registry and turns the differences into Change batches, like informers would."""

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster
        self.source = DictSource()
        self.builder = TopologyBuilder(self.source)
        self.topology = self.builder.build()
        self.seen: dict[tuple[str, tuple[str, str]], dict[str, Any]] = {}

    def sync(self) -> Topology:
        fresh: dict[tuple[str, tuple[str, str]], dict[str, Any]] = {}
        for plural, kind in PLURALS.items():
            for obj in self.cluster.registry.list(plural)["items"]:
                obj.setdefault("kind", kind)
                fresh[(kind, object_key(kind, obj))] = obj
        changes = [
            Change(kind, ChangeType.DELETED, obj)
            for (kind, key), obj in self.seen.items()
            if (kind, key) not in fresh
        ]
        for (kind, key), obj in fresh.items():
            old = self.seen.get((kind, key))
            if old is None or old["metadata"].get("resourceVersion") != obj["metadata"].get(
                "resourceVersion"
            ):
                changes.append(Change(kind, ChangeType.MODIFIED if old else ChangeType.ADDED, obj))
        self.seen = fresh
        self.source.apply(changes)
        self.topology = self.builder.apply(changes)
        return self.topology


@asynccontextmanager
async def steady_seed() -> AsyncIterator[tuple[SimCluster, Mirror]]:
    """The seed scenario, fast, mirrored into the model until steady; stopped on the way out."""
    cluster = SimCluster(speed=500)
    await cluster.start("seed")
    try:
        mirror = Mirror(cluster)
        await async_wait_for(
            lambda: steady(mirror.sync()).ok, timeout=60, message="seed never steady", interval=0.05
        )
        yield cluster, mirror
    finally:
        await cluster.stop()


async def test_seed_scenario_reaches_a_steady_topology_the_model_explains() -> None:
    async with steady_seed() as (cluster, mirror):
        t = mirror.topology
        assert t.same_content(TopologyBuilder(mirror.source).build())

        manual = t.pods[("default", "manual-pod")].volumes[0]
        assert (manual.binding.phase, manual.attach.phase) == (BindingPhase.BOUND, AttachPhase.NOT_REQUIRED)
        assert manual.claim.storage_class == "manual" and manual.claim.class_exists is False
        assert manual.mount.phase is MountPhase.MOUNTED
        assert manual.mount.evidence[0].source == "annotation"

        nfs = t.pods[("default", "test-nfs-pod")].volumes[0]
        assert nfs.claim.storage_class == "nfs-client-storageclass"  # from the beta annotation
        assert nfs.pv.plugin == "nfs" and nfs.attach.phase is AttachPhase.NOT_REQUIRED
        assert "/volumes/kubernetes.io~nfs/" in nfs.mount.path

        db = t.pods[("default", "db-0")].volumes[0]
        assert (db.pv.driver, db.attach.phase) == ("hostpath.csi.k8s.io", AttachPhase.ATTACHED)
        assert db.mount.phase is MountPhase.MOUNTED
        node = t.nodes[t.pods[("default", "db-0")].node]
        assert node.zone.startswith("zone-")
        assert any(
            name.startswith("kubernetes.io/csi/hostpath.csi.k8s.io^") for name in node.volumes_attached
        )

        # Delete the bound manual PV: it stays Terminating, held by protection, its claim and pod.
        cluster.registry.delete("persistentvolumes", manual.pv.name)

        def terminating() -> bool:
            row = mirror.sync().volumes[manual.pv.name]
            return row.binding.phase is BindingPhase.TERMINATING

        await async_wait_for(terminating, timeout=30, message="PV never Terminating", interval=0.05)
        held = mirror.topology.volumes[manual.pv.name].binding.held_by
        assert held == ("kubernetes.io/pv-protection", "pvc/default/manual-pvc", "pod/default/manual-pod")
        found = mirror.topology.findings(now=cluster.clock.now())
        assert FindingKind.PV_TERMINATING in [f.kind for f in found]
        assert steady(mirror.topology).ok  # the workload is unaffected
        assert mirror.topology.same_content(TopologyBuilder(mirror.source).build())


async def test_nfs_outage_shows_mount_failed_then_heals() -> None:
    async with steady_seed() as (cluster, mirror):
        await cluster.controllers.stop("nfs-server")
        cluster.registry.update_scale("deployments", "web", "default", {"spec": {"replicas": 4}})

        def failed_mount() -> list:
            found = mirror.sync().findings(now=cluster.clock.now())
            return [f for f in found if f.kind is FindingKind.FAILED_MOUNT]

        [finding] = await async_wait_for(
            failed_mount, timeout=60, message="no FailedMount finding", interval=0.05
        )
        assert "mount.nfs: Connection timed out" in finding.message
        pod_ref = finding.objects[0]
        use = mirror.topology.pods[(pod_ref.namespace, pod_ref.name)].volumes[0]
        assert use.mount.phase is MountPhase.MOUNT_FAILED
        assert not steady(mirror.topology).ok
        assert any(pod_ref.name in line for line in steady(mirror.topology).problems)

        cluster.controllers.start("nfs-server")
        await async_wait_for(
            lambda: steady(mirror.sync()).ok, timeout=60, message="never steady again", interval=0.05
        )
        assert mirror.topology.same_content(TopologyBuilder(mirror.source).build())

        # A node whose kubelet stops goes NotReady with its CSI volume still attached.
        db_node = mirror.topology.pods[("default", "db-0")].node
        await cluster.controllers.stop(f"kubelet/{db_node}")

        def node_finding() -> list:
            found = mirror.sync().findings(now=cluster.clock.now())
            return [f for f in found if f.kind is FindingKind.NODE_UNHEALTHY_WITH_VOLUMES]

        [finding] = await async_wait_for(node_finding, timeout=60, message="no node finding", interval=0.05)
        assert finding.objects[0].name == db_node
        assert finding.message.startswith(f"node {db_node} is Unknown") or "NotReady" in finding.message


def rwo_app(cluster: SimCluster) -> None:
    """A one-replica Deployment on an RWO claim bound to a static, attachable CSI volume that any node
    can reach (no node affinity), so a replacement pod may land elsewhere while the old one holds it."""
    cluster.registry.create(
        "persistentvolumes",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "blk-pv"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "block",
                "persistentVolumeReclaimPolicy": "Retain",
                "csi": {"driver": "hostpath.csi.k8s.io", "volumeHandle": "blk-1", "fsType": "ext4"},
            },
        },
    )
    cluster.registry.create(
        "persistentvolumeclaims",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "blk", "namespace": "default"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "block",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        "default",
    )
    cluster.registry.create(
        "deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "blk", "namespace": "default"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "blk"}},
                "template": {
                    "metadata": {"labels": {"app": "blk"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "registry.k8s.io/pause:3.10",
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            }
                        ],
                        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "blk"}}],
                    },
                },
            },
        },
        "default",
    )


async def test_multi_attach_after_a_node_dies_then_force_delete_heals() -> None:
    cluster = SimCluster(speed=500)
    await cluster.start("seed")
    try:
        rwo_app(cluster)
        mirror = Mirror(cluster)
        await async_wait_for(
            lambda: steady(mirror.sync()).ok and any(k[1].startswith("blk-") for k in mirror.topology.pods),
            timeout=60,
            message="never steady",
            interval=0.05,
        )
        [old] = [row for key, row in mirror.topology.pods.items() if key[1].startswith("blk-")]
        assert old.volumes[0].attach.phase is AttachPhase.ATTACHED
        await cluster.controllers.stop(f"kubelet/{old.node}")
        await async_wait_for(
            lambda: mirror.sync().nodes[old.node].ready.value != "Ready",
            timeout=60,
            message="node never NotReady",
            interval=0.05,
        )
        cluster.registry.delete("pods", old.ref.name, "default")  # stays Terminating: no kubelet to finish it

        def multi_attach() -> Any:
            t = mirror.sync()
            return [
                row
                for key, row in t.pods.items()
                if key[1].startswith("blk-")
                and key[1] != old.ref.name
                and row.volumes[0].attach.phase is AttachPhase.MULTI_ATTACH
            ]

        [new] = await async_wait_for(multi_attach, timeout=60, message="no Multi-Attach", interval=0.05)
        attach = new.volumes[0].attach
        assert (attach.other_nodes, attach.other_pods) == ((old.node,), (old.ref.name,))
        kinds = [f.kind for f in mirror.topology.findings(now=cluster.clock.now())]
        assert FindingKind.MULTI_ATTACH in kinds and FindingKind.NODE_UNHEALTHY_WITH_VOLUMES in kinds
        assert not steady(mirror.topology).ok

        cluster.registry.delete("pods", old.ref.name, "default", grace_period_seconds=0)

        def healed() -> bool:  # the dead node's other pods stay stuck, so look at this one
            use = mirror.sync().pods[("default", new.ref.name)].volumes[0]
            return use.attach.phase is AttachPhase.ATTACHED and use.mount.phase is MountPhase.MOUNTED

        await async_wait_for(healed, timeout=60, message="never attached on the new node", interval=0.05)
        kinds = [f.kind for f in mirror.topology.findings(now=cluster.clock.now())]
        assert FindingKind.MULTI_ATTACH not in kinds
        assert mirror.topology.same_content(TopologyBuilder(mirror.source).build())
    finally:
        await cluster.stop()


async def test_provisioner_down_turns_provisioning_into_provisioner_missing() -> None:
    async with steady_seed() as (cluster, mirror):
        await cluster.controllers.stop("nfs-provisioner")
        cluster.registry.create(
            "persistentvolumeclaims",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "late", "namespace": "default"},
                "spec": {
                    "accessModes": ["ReadWriteMany"],
                    "storageClassName": "nfs-client",
                    "resources": {"requests": {"storage": "1Mi"}},
                },
            },
            "default",
        )

        def reason() -> str:
            row = mirror.sync().claims.get(("default", "late"))
            return row.binding.reason.value if row and row.binding.reason else ""

        await async_wait_for(
            lambda: reason() == "ProvisionerMissing",
            timeout=60,
            message="never ProvisionerMissing",
            interval=0.05,
        )
        cluster.controllers.start("nfs-provisioner")
        await async_wait_for(
            lambda: mirror.sync().claims[("default", "late")].binding.phase is BindingPhase.BOUND,
            timeout=60,
            message="never bound after the provisioner returned",
            interval=0.05,
        )
        assert steady(mirror.topology).ok
