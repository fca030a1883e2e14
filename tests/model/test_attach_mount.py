"""Attach and mount states of each pod's volume, from VolumeAttachments, events and the sim's annotation."""

from __future__ import annotations

from model_factories import csidriver, event, node, pod, pv, pvc, topology, va

from kstor.model import AttachPhase, MountPhase

DRIVER = "hostpath.csi.k8s.io"
HANDLE_NAME = "kubernetes.io/csi/hostpath.csi.k8s.io^v"


def csi_world(*extra, pod_kw=None, claim="c"):
    """A bound RWO CSI claim `c` on pv `v`, used by pod `p` on node-1."""
    kw = {"node_name": "node-1", "claims": (claim,)} | (pod_kw or {})
    return (
        csidriver(DRIVER),
        node("node-1"),
        node("node-2"),
        pv("v", csi=(DRIVER, "v"), phase="Bound", claim=("default", "c"), sc_name="csi"),
        pvc("c", sc_name="csi", volume="v", phase="Bound"),
        pod("p", **kw),
        *extra,
    )


def use_of(*objs, name="p"):
    return topology(*objs).pods[("default", name)].volumes[0]


# --- attach ---------------------------------------------------------------------------------


def test_nfs_and_hostpath_and_attachless_csi_need_no_attach():
    nfs = use_of(
        node("node-1"),
        pv("v", nfs=("10.0.0.5", "/export/v"), phase="Bound", claim=("default", "c")),
        pvc("c", volume="v", phase="Bound"),
        pod("p", node_name="node-1", claims=("c",)),
    )
    assert nfs.attach.phase is AttachPhase.NOT_REQUIRED
    inline = topology(node("node-1"), pod("p", node_name="node-1", nfs=("srv", "/x"))).pods[("default", "p")]
    assert [(u.kind, u.attach.phase, u.binding) for u in inline.volumes] == [
        ("nfs", AttachPhase.NOT_REQUIRED, None)
    ]
    no_attach = use_of(
        csidriver("nfs.csi.k8s.io", attach_required=False),
        node("node-1"),
        pv("v", csi=("nfs.csi.k8s.io", "h"), phase="Bound", claim=("default", "c")),
        pvc("c", volume="v", phase="Bound"),
        pod("p", node_name="node-1", claims=("c",)),
    )
    assert no_attach.attach.phase is AttachPhase.NOT_REQUIRED
    assert no_attach.attach.evidence[0].path_or_reason == "csidriver/nfs.csi.k8s.io.spec.attachRequired"


def test_csi_without_a_csidriver_object_needs_attach():
    objs = [o for o in csi_world() if o["kind"] != "CSIDriver"]
    use = use_of(*objs)
    assert use.attach.phase is AttachPhase.ATTACHING
    assert use.attach.message == "no VolumeAttachment for node-1 yet"


def test_attaching_attached_detaching():
    assert use_of(*csi_world(va("v", "node-1", attached=False))).attach.phase is AttachPhase.ATTACHING
    attached = use_of(*csi_world(va("v", "node-1")))
    assert attached.attach.phase is AttachPhase.ATTACHED
    assert attached.attach.attachment.startswith("csi-")
    assert attached.attach.evidence[0].value == "true"
    assert use_of(*csi_world(va("v", "node-1", deleting=True))).attach.phase is AttachPhase.DETACHING


def test_attach_error_from_the_attachment_status():
    use = use_of(
        *csi_world(va("v", "node-1", attached=False, error="rpc error: code = Internal desc = disk busy"))
    )
    assert use.attach.phase is AttachPhase.ATTACH_ERROR
    assert use.attach.message == "rpc error: code = Internal desc = disk busy"


def test_attach_error_from_the_pod_event():
    the_pod = pod("p", node_name="node-1", claims=("c",), waiting="ContainerCreating")
    msg = 'AttachVolume.Attach failed for volume "v" : timed out waiting for external-attacher'
    objs = [o for o in csi_world() if o["kind"] != "Pod"]
    use = use_of(*objs, the_pod, event(the_pod, "FailedAttachVolume", msg, type_="Warning"))
    assert (use.attach.phase, use.attach.message) == (AttachPhase.ATTACH_ERROR, msg)


def test_multi_attach_names_the_other_node_and_pods():
    the_pod = pod("p2", node_name="node-2", claims=("c",), waiting="ContainerCreating")
    msg = 'Multi-Attach error for volume "v" Volume is already used by pod(s) p'
    use = use_of(
        *csi_world(va("v", "node-1")),
        the_pod,
        event(the_pod, "FailedAttachVolume", msg, type_="Warning", component="attachdetach-controller"),
        name="p2",
    )
    assert use.attach.phase is AttachPhase.MULTI_ATTACH
    assert use.attach.other_nodes == ("node-1",)
    assert use.attach.other_pods == ("p",)


def test_multi_attach_event_is_history_once_the_other_attachment_is_gone():
    the_pod = pod("p2", node_name="node-2", claims=("c",), waiting="ContainerCreating")
    msg = 'Multi-Attach error for volume "v" Volume is already used by pod(s) p'
    use = use_of(
        *csi_world(va("v", "node-2", attached=False)),
        the_pod,
        event(the_pod, "FailedAttachVolume", msg, type_="Warning"),
        name="p2",
    )
    assert use.attach.phase is AttachPhase.ATTACHING


def test_unscheduled_pod_and_unbound_claim_are_not_attached():
    assert use_of(*csi_world(pod_kw={"node_name": None})).attach.phase is AttachPhase.NOT_ATTACHED
    pending = use_of(
        node("node-1"), pvc("c2"), pod("p", node_name="node-1", claims=("c2",), waiting="ContainerCreating")
    )
    assert (pending.attach.phase, pending.attach.message) == (
        AttachPhase.NOT_ATTACHED,
        "claim is not bound to a PV yet",
    )


# --- mount ----------------------------------------------------------------------------------


def test_sim_annotation_is_the_evidence_for_each_state():
    path = "/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/v/mount"
    for state, phase in (
        ("mounted", MountPhase.MOUNTED),
        ("mounting", MountPhase.MOUNTING),
        ("unmounting", MountPhase.UNMOUNTING),
    ):
        use = use_of(*csi_world(pod_kw={"mounts": {"data": {"path": path, "state": state}}}))
        assert (use.mount.phase, use.mount.path) == (phase, path)
        assert use.mount.evidence[0].source == "annotation"
        assert use.mount.evidence[0].path_or_reason == "kstor.io/mounts[data]"
    failed = use_of(
        *csi_world(
            pod_kw={
                "mounts": {
                    "data": {"path": path, "state": "failed", "message": "mount failed: exit status 32"}
                }
            }
        )
    )
    assert (failed.mount.phase, failed.mount.message) == (
        MountPhase.MOUNT_FAILED,
        "mount failed: exit status 32",
    )


def test_running_pod_has_its_volumes_mounted_at_the_kubelet_path():
    the_pod = pod("p", node_name="node-1", claims=("c",))
    objs = [o for o in csi_world() if o["kind"] not in ("Pod", "Node")]
    use = use_of(
        *objs, the_pod, node("node-1", attached=(HANDLE_NAME,), in_use=(HANDLE_NAME,)), va("v", "node-1")
    )
    uid = the_pod["metadata"]["uid"]
    assert use.mount.phase is MountPhase.MOUNTED
    assert use.mount.path == f"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/v/mount"
    assert ("node/node-1.status.volumesInUse", HANDLE_NAME) in [
        (e.path_or_reason, e.value) for e in use.mount.evidence
    ]


def test_nfs_mount_path():
    the_pod = pod("p", node_name="node-1", claims=("c",))
    use = use_of(
        node("node-1"),
        pv("pvc-1", nfs=("srv", "/export/a"), phase="Bound", claim=("default", "c")),
        pvc("c", volume="pvc-1", phase="Bound"),
        the_pod,
    )
    assert (
        use.mount.path
        == f"/var/lib/kubelet/pods/{the_pod['metadata']['uid']}/volumes/kubernetes.io~nfs/pvc-1"
    )


def test_failed_mount_event_on_a_creating_pod():
    the_pod = pod("p", node_name="node-1", claims=("c",), waiting="ContainerCreating")
    msg = (
        'MountVolume.SetUp failed for volume "pvc-1" : mount failed: exit status 32\n'
        "Mounting command: mount\n"
        "Output: mount.nfs: Connection timed out"
    )
    use = use_of(
        node("node-1"),
        pv("pvc-1", nfs=("srv", "/export/a"), phase="Bound", claim=("default", "c")),
        pvc("c", volume="pvc-1", phase="Bound"),
        the_pod,
        event(the_pod, "FailedMount", msg, type_="Warning", component="kubelet"),
    )
    assert (use.mount.phase, use.mount.message) == (MountPhase.MOUNT_FAILED, msg)


def test_failed_mount_timeout_event_lists_unmounted_volumes_by_pod_volume_name():
    the_pod = pod("p", node_name="node-1", claims=("c",), waiting="ContainerCreating")
    msg = (
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: "
        "timed out waiting for the condition"
    )
    use = use_of(
        *[o for o in csi_world() if o["kind"] != "Pod"],
        the_pod,
        event(the_pod, "FailedMount", msg, type_="Warning"),
    )
    assert use.mount.phase is MountPhase.MOUNT_FAILED


def test_creating_pod_is_mounting_and_terminating_pod_is_unmounting():
    creating = use_of(*csi_world(pod_kw={"waiting": "ContainerCreating"}))
    assert (creating.mount.phase, creating.mount.message) == (
        MountPhase.MOUNTING,
        "pod is ContainerCreating; kubelet is mounting volumes",
    )
    assert use_of(*csi_world(pod_kw={"deleting": True})).mount.phase is MountPhase.UNMOUNTING
    assert use_of(*csi_world(pod_kw={"node_name": None})).mount.phase is MountPhase.NOT_MOUNTED


def test_hostpath_mount_is_the_host_directory():
    use = use_of(
        node("node-1"),
        pv("v", host_path="/mnt/data", phase="Bound", claim=("default", "c")),
        pvc("c", volume="v", phase="Bound"),
        pod("p", node_name="node-1", claims=("c",)),
    )
    assert (use.mount.phase, use.mount.path) == (MountPhase.MOUNTED, "/mnt/data")


def test_pod_rows_skip_non_storage_volumes_and_report_status():
    t = topology(*csi_world(pod_kw={"waiting": "ContainerCreating"}))
    row = t.pods[("default", "p")]
    assert [u.volume for u in row.volumes] == ["data"]  # the projected token volume is not storage
    assert (row.status, row.ready) == ("ContainerCreating", False)
    assert topology(*csi_world()).pods[("default", "p")].ready is True


def test_local_volume_mount_path_and_no_attach():
    local = pv("v", phase="Bound", claim=("default", "c"))
    local["spec"].pop("hostPath")
    local["spec"]["local"] = {"path": "/mnt/disks/ssd1"}
    the_pod = pod("p", node_name="node-1", claims=("c",))
    use = use_of(node("node-1"), local, pvc("c", volume="v", phase="Bound"), the_pod)
    assert use.attach.phase is AttachPhase.NOT_REQUIRED
    assert (
        use.mount.path
        == f"/var/lib/kubelet/pods/{the_pod['metadata']['uid']}/volumes/kubernetes.io~local-volume/v"
    )


def test_detaching_shows_the_detach_error():
    detaching = va("v", "node-1", deleting=True)
    detaching["status"]["detachError"] = {"message": "rpc error: device busy"}
    use = use_of(*csi_world(detaching, pod_kw={"deleting": True}))
    assert (use.attach.phase, use.attach.message) == (
        AttachPhase.DETACHING,
        "detaching from node-1: rpc error: device busy",
    )
