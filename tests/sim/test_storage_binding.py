"""PV controller and protection finalizers on the in-process registry (no scenario, chosen loops only)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from storage_helpers import events_for, exists, phase, pod, pv, pvc, reasons, start_loops

from kstor.sim.cluster import SimCluster
from kstor.sim.testing import async_wait_for

PV_LOOPS = ("pv-controller", "pvc-protection-controller", "pv-protection-controller")


@pytest.fixture
async def cluster() -> AsyncIterator[SimCluster]:
    sim = SimCluster(speed=500)
    yield sim
    await sim.stop()


def claim(cluster: SimCluster, name: str) -> dict:
    return cluster.registry.get("persistentvolumeclaims", name, "default")


async def test_static_claim_binds_the_smallest_fitting_volume(cluster: SimCluster) -> None:
    reg = cluster.registry
    for name, size in [("pv-10g", "10Gi"), ("pv-2g", "2Gi"), ("pv-500m", "500Mi"), ("pv-5g", "5Gi")]:
        reg.create("persistentvolumes", pv(name, size))
    reg.create("persistentvolumeclaims", pvc("data", "1Gi"), "default")
    start_loops(cluster, *PV_LOOPS)

    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "data") == "Bound", message="data bound"
    )
    bound = claim(cluster, "data")
    assert bound["spec"]["volumeName"] == "pv-2g"
    assert bound["status"]["capacity"] == {"storage": "2Gi"}
    assert bound["status"]["accessModes"] == ["ReadWriteOnce"]
    ann = bound["metadata"]["annotations"]
    assert ann["pv.kubernetes.io/bind-completed"] == "yes"
    assert ann["pv.kubernetes.io/bound-by-controller"] == "yes"
    volume = reg.get("persistentvolumes", "pv-2g")
    assert volume["status"]["phase"] == "Bound"
    assert volume["spec"]["claimRef"]["uid"] == bound["metadata"]["uid"]
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumes", "pv-10g") == "Available", message="others Available"
    )


async def test_manual_class_binds_without_a_storageclass_object(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("task-pv-volume", "10Gi", cls="manual"))
    reg.create("persistentvolumeclaims", pvc("task-pv-claim", "3Gi", cls="manual"), "default")
    start_loops(cluster, *PV_LOOPS)

    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "task-pv-claim") == "Bound", message="bound"
    )
    assert reg.list("storageclasses")["items"] == []
    assert claim(cluster, "task-pv-claim")["spec"]["volumeName"] == "task-pv-volume"
    assert "ProvisioningFailed" not in reasons(cluster, "task-pv-claim")


async def test_unmatched_manual_claim_reports_missing_class_and_stays_pending(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("too-small", "1Gi"))
    reg.create("persistentvolumeclaims", pvc("big", "5Gi"), "default")
    reg.create("persistentvolumeclaims", pvc("classless", "1Gi", cls=""), "default")
    start_loops(cluster, *PV_LOOPS)

    found = await async_wait_for(lambda: reasons(cluster, "big").get("ProvisioningFailed"), message="event")
    assert found == 'storageclass.storage.k8s.io "manual" not found'
    message = await async_wait_for(
        lambda: reasons(cluster, "classless").get("FailedBinding"), message="event"
    )
    assert message == "no persistent volumes available for this claim and no storage class is set"
    assert phase(cluster, "persistentvolumeclaims", "big") == "Pending"
    # repeated on every resync, folded into one Event with a growing count
    await async_wait_for(lambda: events_for(cluster, "big")[0]["count"] >= 3, message="count grows")


async def test_access_modes_selector_and_prebinding(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("rwo", "1Gi", modes=("ReadWriteOnce",)))
    rwx = pv("rwx", "5Gi", modes=("ReadWriteMany", "ReadWriteOnce"))
    rwx["metadata"]["labels"] = {"tier": "gold"}
    reg.create("persistentvolumes", rwx)
    reserved = pv("reserved", "1Gi", cls="other")
    reserved["spec"]["claimRef"] = {"namespace": "default", "name": "wants-reserved"}
    reg.create("persistentvolumes", reserved)
    reg.create("persistentvolumeclaims", pvc("shared", "1Gi", modes=("ReadWriteMany",)), "default")
    reg.create("persistentvolumeclaims", pvc("wants-reserved", "1Gi"), "default")
    start_loops(cluster, *PV_LOOPS)

    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "shared") == "Bound", message="shared"
    )
    assert claim(cluster, "shared")["spec"]["volumeName"] == "rwx"
    # a volume pre-bound by claimRef wins regardless of class and is not marked bound-by-controller
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "wants-reserved") == "Bound", message="r"
    )
    assert claim(cluster, "wants-reserved")["spec"]["volumeName"] == "reserved"
    assert "pv.kubernetes.io/bound-by-controller" not in (
        reg.get("persistentvolumes", "reserved")["metadata"].get("annotations") or {}
    )


async def test_claim_naming_a_too_small_volume_gets_volume_mismatch(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("small", "1Gi"))
    reg.create("persistentvolumeclaims", pvc("picky", "2Gi", volumeName="small"), "default")
    start_loops(cluster, *PV_LOOPS)

    message = await async_wait_for(
        lambda: reasons(cluster, "picky").get("VolumeMismatch"), message="mismatch"
    )
    assert message == 'Cannot bind to requested volume "small": requested PV is too small'
    assert phase(cluster, "persistentvolumeclaims", "picky") == "Pending"


async def test_deleting_a_bound_volume_waits_for_its_claim(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("keep", "1Gi"))
    reg.create("persistentvolumeclaims", pvc("holder", "1Gi"), "default")
    start_loops(cluster, *PV_LOOPS)
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "holder") == "Bound", message="bound"
    )

    reg.delete("persistentvolumes", "keep")
    await cluster.clock.sleep(60)  # a minute of sim time: still held by pv-protection
    held = reg.get("persistentvolumes", "keep")
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    assert held["status"]["phase"] == "Bound"

    reg.delete("persistentvolumeclaims", "holder", "default")
    await async_wait_for(
        lambda: not exists(cluster, "persistentvolumes", "keep"), message="PV gone after claim"
    )
    assert not exists(cluster, "persistentvolumeclaims", "holder", "default")


async def test_deleting_a_claim_releases_a_retained_volume(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("retained", "1Gi", policy="Retain"))
    reg.create("persistentvolumeclaims", pvc("gone", "1Gi"), "default")
    start_loops(cluster, *PV_LOOPS)
    await async_wait_for(lambda: phase(cluster, "persistentvolumeclaims", "gone") == "Bound", message="bound")

    reg.delete("persistentvolumeclaims", "gone", "default")
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumes", "retained") == "Released", message="Released"
    )
    released = reg.get("persistentvolumes", "retained")
    assert released["spec"]["claimRef"]["name"] == "gone"  # Retain keeps the claimRef: never re-binds
    reg.create("persistentvolumeclaims", pvc("gone", "1Gi"), "default")
    await cluster.clock.sleep(60)
    assert phase(cluster, "persistentvolumeclaims", "gone") == "Pending"


async def test_delete_policy_without_a_deleter_fails_the_volume(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("doomed", "1Gi", policy="Delete", path="/mnt/doomed"))
    reg.create("persistentvolumes", pv("scratch", "1Gi", cls="tmp", policy="Delete", path="/tmp/scratch"))
    reg.create("persistentvolumeclaims", pvc("d1", "1Gi"), "default")
    reg.create("persistentvolumeclaims", pvc("d2", "1Gi", cls="tmp"), "default")
    start_loops(cluster, *PV_LOOPS)
    for name in ("d1", "d2"):
        await async_wait_for(
            lambda n=name: phase(cluster, "persistentvolumeclaims", n) == "Bound", message=name
        )

    reg.delete("persistentvolumeclaims", "d1", "default")
    reg.delete("persistentvolumeclaims", "d2", "default")
    await async_wait_for(lambda: phase(cluster, "persistentvolumes", "doomed") == "Failed", message="Failed")
    message = reasons(cluster, "doomed", "default")["VolumeFailedDelete"]
    assert message == "host_path deleter only supports /tmp/.+ but received provided /mnt/doomed"
    await async_wait_for(
        lambda: not exists(cluster, "persistentvolumes", "scratch"), message="/tmp PV deleted"
    )


async def test_claim_loses_its_volume(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("fragile", "1Gi"))
    reg.create("persistentvolumeclaims", pvc("victim", "1Gi"), "default")
    start_loops(cluster, "pv-controller")  # no pv-protection: the PV really goes away
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "victim") == "Bound", message="bound"
    )

    volume = reg.get("persistentvolumes", "fragile")
    volume["metadata"]["finalizers"] = []
    reg.update("persistentvolumes", volume)
    reg.delete("persistentvolumes", "fragile")
    await async_wait_for(lambda: phase(cluster, "persistentvolumeclaims", "victim") == "Lost", message="Lost")
    assert reasons(cluster, "victim")["ClaimLost"] == (
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
    )


async def test_protection_finalizer_holds_a_claim_used_by_a_scheduled_pod(cluster: SimCluster) -> None:
    reg = cluster.registry
    reg.create("persistentvolumes", pv("used", "1Gi"))
    reg.create("persistentvolumeclaims", pvc("in-use", "1Gi"), "default")
    user = pod("user", "in-use")
    user["spec"]["nodeName"] = "somewhere"  # scheduled (no kubelet runs here)
    reg.create("pods", user, "default")
    start_loops(cluster, *PV_LOOPS)
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumeclaims", "in-use") == "Bound", message="bound"
    )

    reg.delete("persistentvolumeclaims", "in-use", "default")
    await cluster.clock.sleep(60)
    held = claim(cluster, "in-use")
    assert held["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    reg.delete("pods", "user", "default", grace_period_seconds=0)
    await async_wait_for(
        lambda: not exists(cluster, "persistentvolumeclaims", "in-use", "default"), message="gone"
    )
    await async_wait_for(
        lambda: phase(cluster, "persistentvolumes", "used") == "Released", message="Released"
    )
