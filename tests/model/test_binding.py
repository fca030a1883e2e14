"""Binding states of PVCs and PVs, with the reason and the evidence a user sees."""

from __future__ import annotations

from model_factories import csidriver, event, node, pod, pv, pvc, sc, topology

from kstor.model import BindingPhase, PendingReason

NFS_PROVISIONER = "k8s-sigs.io/nfs-subdir-external-provisioner"
PROVISIONER_ANN = {
    "volume.kubernetes.io/storage-provisioner": NFS_PROVISIONER,
    "volume.beta.kubernetes.io/storage-provisioner": NFS_PROVISIONER,
}
EXTERNAL = (
    "Waiting for a volume to be created either by the external provisioner "
    f"'{NFS_PROVISIONER}' or manually by the system administrator. If volume creation is delayed, "
    "please verify that the provisioner is running and correctly registered."
)


def claim_state(*objs, name="c"):
    return topology(*objs).claims[("default", name)].binding


def test_bound_claim_names_its_volume():
    state = claim_state(
        pvc("c", phase="Bound", volume="pv1"), pv("pv1", phase="Bound", claim=("default", "c"))
    )
    assert state.phase is BindingPhase.BOUND
    assert state.message == "bound to pv pv1"
    assert ("spec.volumeName", "pv1") in [(e.path_or_reason, e.value) for e in state.evidence]


def test_wait_for_first_consumer_from_the_event():
    claim = pvc("c", sc_name="local-ssd")
    state = claim_state(
        sc("local-ssd", "hostpath.csi.k8s.io", mode="WaitForFirstConsumer"),
        claim,
        event(claim, "WaitForFirstConsumer", "waiting for first consumer to be created before binding"),
    )
    assert (state.phase, state.reason) == (BindingPhase.PENDING, PendingReason.WAIT_FOR_FIRST_CONSUMER)
    assert state.evidence[0].source == "event"
    assert state.evidence[0].path_or_reason == "WaitForFirstConsumer"


def test_wait_for_first_consumer_from_the_class_alone():
    state = claim_state(
        sc("local-ssd", "hostpath.csi.k8s.io", mode="WaitForFirstConsumer"), pvc("c", sc_name="local-ssd")
    )
    assert state.reason is PendingReason.WAIT_FOR_FIRST_CONSUMER
    assert state.evidence[0].path_or_reason == "storageclass/local-ssd.volumeBindingMode"


def test_wffc_with_a_selected_node_is_provisioning():
    state = claim_state(
        sc("local-ssd", "hostpath.csi.k8s.io", mode="WaitForFirstConsumer"),
        pvc(
            "c",
            sc_name="local-ssd",
            annotations={
                "volume.kubernetes.io/selected-node": "node-1",
                "volume.kubernetes.io/storage-provisioner": "hostpath.csi.k8s.io",
            },
        ),
    )
    assert state.reason is PendingReason.PROVISIONING
    assert "hostpath.csi.k8s.io" in state.message


def test_no_class_and_no_pv_is_no_matching_volume_from_failed_binding():
    claim = pvc("c", sc_name="")
    state = claim_state(
        claim,
        event(
            claim,
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
        ),
    )
    assert state.reason is PendingReason.NO_MATCHING_VOLUME
    assert state.message == "no persistent volumes available for this claim and no storage class is set"


def test_class_without_storageclass_object_waits_for_a_static_pv():
    state = claim_state(pvc("c", sc_name="manual"))
    assert state.reason is PendingReason.NO_MATCHING_VOLUME
    assert 'no StorageClass "manual"' in state.message


def test_requested_volume_missing():
    state = claim_state(pvc("c", volume="nope"))
    assert state.reason is PendingReason.NO_MATCHING_VOLUME
    assert state.message == 'requested pv "nope" does not exist'


def test_volume_mismatch_event_explains_a_prebound_claim():
    claim = pvc("c", volume="small", request="5Gi")
    state = claim_state(
        pv("small"),
        claim,
        event(
            claim,
            "VolumeMismatch",
            'Cannot bind to requested volume "small": requested PV is too small',
            type_="Warning",
        ),
    )
    assert state.reason is PendingReason.NO_MATCHING_VOLUME
    assert state.message.endswith("requested PV is too small")


def test_provisioning_from_the_storage_provisioner_annotation():
    state = claim_state(sc("nfs", NFS_PROVISIONER), pvc("c", sc_name="nfs", annotations=PROVISIONER_ANN))
    assert state.reason is PendingReason.PROVISIONING
    assert state.evidence[0].source == "annotation"


def test_provisioning_once_the_provisioner_answers():
    claim = pvc("c", sc_name="nfs", annotations=PROVISIONER_ANN)
    state = claim_state(
        sc("nfs", NFS_PROVISIONER),
        claim,
        event(claim, "ExternalProvisioning", EXTERNAL, count=5, at=60),
        event(
            claim,
            "Provisioning",
            'External provisioner is provisioning volume for claim "default/c"',
            at=2,
            component=f"{NFS_PROVISIONER}_host_1",
        ),
    )
    assert state.reason is PendingReason.PROVISIONING
    assert state.evidence[0].path_or_reason == "Provisioning"


def test_provisioner_missing_when_external_provisioning_repeats_unanswered():
    claim = pvc("c", sc_name="nfs", annotations=PROVISIONER_ANN)
    state = claim_state(
        sc("nfs", NFS_PROVISIONER), claim, event(claim, "ExternalProvisioning", EXTERNAL, count=3, at=30)
    )
    assert state.reason is PendingReason.PROVISIONER_MISSING
    assert "repeated 3 times" in state.message
    assert [e.source for e in state.evidence] == ["annotation", "event"]
    assert state.evidence[1].count == 3


def test_first_external_provisioning_events_are_not_yet_missing():
    claim = pvc("c", sc_name="nfs", annotations=PROVISIONER_ANN)
    state = claim_state(
        sc("nfs", NFS_PROVISIONER), claim, event(claim, "ExternalProvisioning", EXTERNAL, count=2)
    )
    assert state.reason is PendingReason.PROVISIONING


def test_provisioning_failed_carries_the_message():
    claim = pvc("c", sc_name="nfs", annotations=PROVISIONER_ANN)
    msg = 'failed to provision volume with StorageClass "nfs": mkdir /persistentvolumes/x: permission denied'
    state = claim_state(
        sc("nfs", NFS_PROVISIONER),
        claim,
        event(claim, "Provisioning", 'External provisioner is provisioning volume for claim "default/c"'),
        event(claim, "ProvisioningFailed", msg, type_="Warning", at=5),
    )
    assert (state.reason, state.message) == (PendingReason.PROVISIONING_FAILED, msg)


def test_provisioning_failed_on_a_wffc_class_is_not_hidden_by_the_wait():
    claim = pvc("c", sc_name="local-ssd")
    state = claim_state(
        sc("local-ssd", "hostpath.csi.k8s.io", mode="WaitForFirstConsumer"),
        claim,
        event(claim, "WaitForFirstConsumer", "waiting for first consumer to be created before binding"),
        event(claim, "ProvisioningFailed", "out of capacity", type_="Warning", at=20),
    )
    assert state.reason is PendingReason.PROVISIONING_FAILED


def test_events_of_an_older_claim_with_the_same_name_are_ignored():
    old = pvc("c", sc_name="nfs")
    old["metadata"]["uid"] = "old-uid"
    claim = pvc("c", sc_name="nfs", annotations=PROVISIONER_ANN)
    state = claim_state(
        sc("nfs", NFS_PROVISIONER), claim, event(old, "ProvisioningFailed", "boom", type_="Warning")
    )
    assert state.reason is PendingReason.PROVISIONING


def test_lost_claim_shows_the_controller_event():
    claim = pvc("c", phase="Lost", volume="gone")
    msg = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
    state = claim_state(claim, event(claim, "ClaimLost", msg, type_="Warning"))
    assert (state.phase, state.message) == (BindingPhase.LOST, msg)


def test_missing_claim_named_by_a_pod():
    t = topology(node("n1"), pod("p", claims=("ghost",)))
    use = t.pods[("default", "p")].volumes[0]
    assert (use.binding.phase, use.binding.reason) == (BindingPhase.PENDING, PendingReason.CLAIM_MISSING)
    assert use.binding.message == 'persistentvolumeclaim "ghost" not found'


def test_terminating_claim_is_held_by_its_running_pod():
    t = topology(
        node("n1"),
        pv("v", phase="Bound", claim=("default", "c")),
        pvc("c", phase="Bound", volume="v", deleting=True),
        pod("p", node_name="n1", claims=("c",)),
    )
    state = t.claims[("default", "c")].binding
    assert state.phase is BindingPhase.TERMINATING
    assert state.held_by == ("kubernetes.io/pvc-protection", "pod/default/p")


# --- PVs ------------------------------------------------------------------------------------


def volume_state(*objs, name="v"):
    return topology(*objs).volumes[name].binding


def test_available_and_released_and_failed_volumes():
    assert volume_state(pv("v")).phase is BindingPhase.AVAILABLE
    released = volume_state(pv("v", phase="Released", claim=("default", "gone")))
    assert released.phase is BindingPhase.RELEASED
    assert released.message == "claim default/gone is gone; reclaim policy Retain"
    failed = pv("v", phase="Failed")
    failed["status"]["message"] = "Volume has unrecognized PersistentVolumeReclaimPolicy"
    assert volume_state(failed).message == "Volume has unrecognized PersistentVolumeReclaimPolicy"


def test_deleted_bound_volume_is_terminating_held_by_protection_claim_and_pods():
    state = volume_state(
        node("n1"),
        pv("v", phase="Bound", claim=("default", "c"), deleting=True),
        pvc("c", phase="Bound", volume="v"),
        pod("p", node_name="n1", claims=("c",)),
    )
    assert state.phase is BindingPhase.TERMINATING
    assert state.held_by == ("kubernetes.io/pv-protection", "pvc/default/c", "pod/default/p")
    assert (
        state.message
        == "pv is being deleted; held by kubernetes.io/pv-protection, pvc/default/c, pod/default/p"
    )


def test_deleted_released_volume_is_held_by_its_finalizer_only():
    state = volume_state(pv("v", phase="Released", claim=("default", "gone"), deleting=True))
    assert state.held_by == ("kubernetes.io/pv-protection",)


def test_csi_volume_row_knows_driver_and_attach_need():
    t = topology(
        csidriver("nfs.csi.k8s.io", attach_required=False),
        pv("a", csi=("nfs.csi.k8s.io", "h1")),
        pv("b", csi=("hostpath.csi.k8s.io", "h2")),
        pv("c", nfs=("10.0.0.5", "/export")),
    )
    assert (t.volumes["a"].driver, t.volumes["a"].attach_required) == ("nfs.csi.k8s.io", False)
    assert t.volumes["b"].attach_required is True  # no CSIDriver object: attach is required
    assert (t.volumes["c"].plugin, t.volumes["c"].attach_required) == ("nfs", False)
    assert t.volumes["c"].source_detail == "nfs 10.0.0.5:/export"


def test_no_provisioner_class_waits_for_a_static_pv():
    state = claim_state(
        sc("local-storage", "kubernetes.io/no-provisioner"), pvc("c", sc_name="local-storage")
    )
    assert state.reason is PendingReason.NO_MATCHING_VOLUME
    assert "only a matching static PV can bind" in state.message
