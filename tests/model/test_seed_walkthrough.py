"""The seed walkthrough, step by step, as a user watching the dashboard would see it.

1. a static `manual` PV/PVC pair (no StorageClass object called `manual` exists);
2. dynamic NFS provisioning through class `nfs-client-storageclass`, requested with the beta annotation;
3. WaitForFirstConsumer on a CSI class whose driver `hostpath.csi.k8s.io` needs attach.
"""

from __future__ import annotations

from model_factories import T0, csidriver, event, node, pod, pv, pvc, sc, source, va

from kstor.model import (
    AttachPhase,
    BindingPhase,
    Change,
    ChangeType,
    MountPhase,
    PendingReason,
    TopologyBuilder,
    steady,
)

NFS = "k8s-sigs.io/nfs-subdir-external-provisioner"
CSI = "hostpath.csi.k8s.io"


class Cluster:
    """A DictSource plus a builder, fed one change at a time like the Store feeds the model."""

    def __init__(self, *objs):
        self.world = source(*objs)
        self.builder = TopologyBuilder(self.world)
        self.topology = self.builder.build()

    def put(self, *objs):
        changes = []
        for obj in objs:
            present = self.world.get(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
            changes.append(Change(obj["kind"], ChangeType.MODIFIED if present else ChangeType.ADDED, obj))
        self.world.apply(changes)
        self.topology = self.builder.apply(changes)
        return self.topology

    def claim(self, name):
        return self.topology.claims[("default", name)]

    def use(self, pod_name):
        return self.topology.pods[("default", pod_name)].volumes[0]


def test_static_manual_binding_without_a_storageclass_object():
    c = Cluster(
        node("node-1"), pv("task-pv-volume", sc_name="manual", host_path="/mnt/data", capacity="10Gi")
    )
    assert c.topology.volumes["task-pv-volume"].binding.phase is BindingPhase.AVAILABLE
    assert [v.name for v in c.topology.unplaced.free_volumes] == ["task-pv-volume"]

    claim = pvc("task-pv-claim", sc_name="manual", request="3Gi")
    c.put(claim)
    assert c.claim("task-pv-claim").class_exists is False
    assert c.claim("task-pv-claim").binding.reason is PendingReason.NO_MATCHING_VOLUME

    c.put(
        pv(
            "task-pv-volume",
            sc_name="manual",
            host_path="/mnt/data",
            capacity="10Gi",
            phase="Bound",
            claim=("default", "task-pv-claim"),
        ),
        pvc("task-pv-claim", sc_name="manual", request="3Gi", volume="task-pv-volume", phase="Bound"),
    )
    assert c.claim("task-pv-claim").binding.phase is BindingPhase.BOUND
    assert [x.ref.name for x in c.topology.unplaced.unused_claims] == ["task-pv-claim"]

    c.put(pod("task-pv-pod", node_name="node-1", claims=("task-pv-claim",)))
    use = c.use("task-pv-pod")
    assert (use.attach.phase, use.mount.phase, use.mount.path) == (
        AttachPhase.NOT_REQUIRED,
        MountPhase.MOUNTED,
        "/mnt/data",
    )
    assert c.topology.unplaced.unused_claims == () and c.topology.unplaced.free_volumes == ()
    assert steady(c.topology).ok


def test_dynamic_nfs_with_the_beta_class_annotation():
    c = Cluster(node("node-1"), sc("nfs-client-storageclass", NFS, reclaim="Delete"))
    claim = pvc(
        "test-claim",
        sc_name=None,
        beta_class="nfs-client-storageclass",
        request="1Mi",
        access=("ReadWriteMany",),
    )
    c.put(claim)
    assert c.claim("test-claim").storage_class == "nfs-client-storageclass"
    assert c.claim("test-claim").binding.reason is PendingReason.PROVISIONING

    annotated = pvc(
        "test-claim",
        sc_name=None,
        beta_class="nfs-client-storageclass",
        request="1Mi",
        access=("ReadWriteMany",),
        annotations={
            "volume.kubernetes.io/storage-provisioner": NFS,
            "volume.beta.kubernetes.io/storage-provisioner": NFS,
        },
    )
    waiting = (
        "Waiting for a volume to be created either by the external provisioner "
        f"'{NFS}' or manually by the system administrator. If volume creation is delayed, please verify "
        "that the provisioner is running and correctly registered."
    )
    c.put(annotated, event(annotated, "ExternalProvisioning", waiting))
    assert c.claim("test-claim").binding.reason is PendingReason.PROVISIONING
    c.put(event(annotated, "ExternalProvisioning", waiting, count=3, at=30))
    assert c.claim("test-claim").binding.reason is PendingReason.PROVISIONER_MISSING  # provisioner is down

    c.put(
        event(
            annotated,
            "Provisioning",
            'External provisioner is provisioning volume for claim "default/test-claim"',
            at=31,
            component=f"{NFS}_node-1_abc",
        )
    )
    assert c.claim("test-claim").binding.reason is PendingReason.PROVISIONING

    pv_name = f"pvc-{annotated['metadata']['uid']}"
    c.put(
        pv(
            pv_name,
            sc_name="nfs-client-storageclass",
            nfs=("10.0.0.5", f"/export/default-test-claim-{pv_name}"),
            phase="Bound",
            claim=("default", "test-claim"),
            reclaim="Delete",
            access=("ReadWriteMany",),
            provisioned_by=NFS,
        ),
        pvc(
            "test-claim",
            sc_name=None,
            beta_class="nfs-client-storageclass",
            request="1Mi",
            access=("ReadWriteMany",),
            volume=pv_name,
            phase="Bound",
        ),
    )
    assert c.claim("test-claim").binding.phase is BindingPhase.BOUND

    the_pod = pod("test-pod", node_name="node-1", claims=("test-claim",), waiting="ContainerCreating")
    path = f"/var/lib/kubelet/pods/{the_pod['metadata']['uid']}/volumes/kubernetes.io~nfs/{pv_name}"
    the_pod["metadata"]["annotations"] = {
        "kstor.io/mounts": f'{{"data": {{"path": "{path}", "state": "mounting"}}}}'
    }
    c.put(the_pod)
    assert (c.use("test-pod").attach.phase, c.use("test-pod").mount.phase) == (
        AttachPhase.NOT_REQUIRED,
        MountPhase.MOUNTING,
    )
    running = pod(
        "test-pod",
        node_name="node-1",
        claims=("test-claim",),
        mounts={"data": {"path": path, "state": "mounted"}},
    )
    c.put(running)
    assert (c.use("test-pod").mount.phase, c.use("test-pod").mount.path) == (MountPhase.MOUNTED, path)
    assert steady(c.topology).ok


def test_wait_for_first_consumer_on_an_attaching_csi_driver():
    c = Cluster(
        node("node-1", zone="zone-a"),
        node("node-2", zone="zone-b"),
        csidriver(CSI, attach_required=True),
        sc("local-ssd", CSI, mode="WaitForFirstConsumer"),
    )
    claim = pvc("fast", sc_name="local-ssd")
    c.put(
        claim, event(claim, "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
    )
    assert c.claim("fast").binding.reason is PendingReason.WAIT_FOR_FIRST_CONSUMER
    assert not steady(c.topology).ok

    c.put(pod("app", claims=("fast",)))  # created, not yet scheduled
    assert [p.ref.name for p in c.topology.unplaced.pods] == ["app"]
    assert c.use("app").attach.phase is AttachPhase.NOT_ATTACHED

    selected = pvc(
        "fast",
        sc_name="local-ssd",
        annotations={
            "volume.kubernetes.io/selected-node": "node-1",
            "volume.kubernetes.io/storage-provisioner": CSI,
        },
    )
    c.put(selected)
    assert c.claim("fast").binding.reason is PendingReason.PROVISIONING

    pv_name = f"pvc-{claim['metadata']['uid']}"
    c.put(
        pv(
            pv_name,
            sc_name="local-ssd",
            csi=(CSI, "vol-1"),
            phase="Bound",
            claim=("default", "fast"),
            reclaim="Delete",
            provisioned_by=CSI,
        ),
        pvc("fast", sc_name="local-ssd", volume=pv_name, phase="Bound"),
        pod("app", node_name="node-1", claims=("fast",), waiting="ContainerCreating"),
    )
    assert c.topology.unplaced.pods == ()
    assert c.use("app").attach.phase is AttachPhase.ATTACHING

    c.put(va(pv_name, "node-1", driver=CSI, handle="vol-1", attached=False))
    assert c.use("app").attach.phase is AttachPhase.ATTACHING
    c.put(va(pv_name, "node-1", driver=CSI, handle="vol-1", attached=True))
    assert c.use("app").attach.phase is AttachPhase.ATTACHED
    assert c.use("app").mount.phase is MountPhase.MOUNTING

    c.put(
        pod("app", node_name="node-1", claims=("fast",)),
        node(
            "node-1",
            zone="zone-a",
            attached=(f"kubernetes.io/csi/{CSI}^vol-1",),
            in_use=(f"kubernetes.io/csi/{CSI}^vol-1",),
        ),
    )
    use = c.use("app")
    assert use.mount.phase is MountPhase.MOUNTED
    assert use.mount.path.endswith(f"/volumes/kubernetes.io~csi/{pv_name}/mount")
    assert c.topology.nodes["node-1"].zone == "zone-a"
    assert steady(c.topology).ok
    assert c.topology.findings(now=T0) == ()
    assert c.topology.same_content(TopologyBuilder(c.world).build())
