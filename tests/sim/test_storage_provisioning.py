"""Dynamic provisioning, WaitForFirstConsumer, NFS outage and a stopped provisioner on the `small`
scenario with every control loop running (in-process, speed 500)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from storage_helpers import events_for, exists, phase, pod, pvc, reasons

from kstor.sim.cluster import SimCluster
from kstor.sim.testing import async_wait_for

NFS_PROVISIONER = "k8s-sigs.io/nfs-subdir-external-provisioner"


@pytest.fixture
async def small() -> AsyncIterator[SimCluster]:
    cluster = SimCluster(speed=500)
    await cluster.start("small")
    converged = lambda: phase(cluster, "persistentvolumeclaims", "shared-data") == "Bound"  # noqa: E731
    await async_wait_for(converged, timeout=20, message="small scenario converged")
    yield cluster
    await cluster.stop()


def scale(cluster: SimCluster, name: str, namespace: str, replicas: int) -> None:
    cluster.registry.patch("deployments", name, {"spec": {"replicas": replicas}}, namespace)


def running(cluster: SimCluster, name: str) -> bool:
    return phase(cluster, "pods", name) == "Running"


def sources(cluster: SimCluster, name: str) -> dict[str, str]:
    return {e["reason"]: e["source"]["component"] for e in events_for(cluster, name)}


async def test_nfs_claim_is_provisioned_then_archived_on_delete(small: SimCluster) -> None:
    reg = small.registry
    reg.create(
        "persistentvolumeclaims", pvc("dyn", "1Mi", cls="nfs-client", modes=("ReadWriteMany",)), "default"
    )
    await async_wait_for(
        lambda: phase(small, "persistentvolumeclaims", "dyn") == "Bound", message="dyn bound"
    )

    claim = reg.get("persistentvolumeclaims", "dyn", "default")
    uid = claim["metadata"]["uid"]
    assert claim["spec"]["volumeName"] == f"pvc-{uid}"
    ann = claim["metadata"]["annotations"]
    assert ann["volume.kubernetes.io/storage-provisioner"] == NFS_PROVISIONER
    assert ann["volume.beta.kubernetes.io/storage-provisioner"] == NFS_PROVISIONER
    volume = reg.get("persistentvolumes", f"pvc-{uid}")
    directory = f"default-dyn-pvc-{uid}"
    assert volume["spec"]["nfs"] == {"server": "10.96.0.200", "path": f"/exports/{directory}"}
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == NFS_PROVISIONER
    assert volume["spec"]["claimRef"]["uid"] == uid
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert volume["spec"]["accessModes"] == ["ReadWriteMany"]
    assert volume["spec"]["capacity"] == {"storage": "1Mi"}
    assert "nodeAffinity" not in volume["spec"]
    assert directory in small.world["nfs_exports"]["/exports"]

    events = reasons(small, "dyn")
    assert events["Provisioning"] == 'External provisioner is provisioning volume for claim "default/dyn"'
    assert events["ProvisioningSucceeded"] == f"Successfully provisioned volume pvc-{uid}"
    assert events["ExternalProvisioning"].startswith(
        f"Waiting for a volume to be created either by the external provisioner '{NFS_PROVISIONER}' or"
    )
    component = sources(small, "dyn")
    assert component["ExternalProvisioning"] == "persistentvolume-controller"
    assert component["ProvisioningSucceeded"].startswith(
        f"{NFS_PROVISIONER}_nfs-subdir-external-provisioner-"
    )

    reg.delete("persistentvolumeclaims", "dyn", "default")
    await async_wait_for(lambda: not exists(small, "persistentvolumes", f"pvc-{uid}"), message="PV deleted")
    listing = small.world["nfs_exports"]["/exports"]
    assert f"archived-{directory}" in listing and directory not in listing  # class says archiveOnDelete


async def test_wait_for_first_consumer_binds_on_the_pods_node(small: SimCluster) -> None:
    reg = small.registry
    reg.create("persistentvolumeclaims", pvc("local", "2Gi", cls="csi-hostpath-sc"), "default")
    message = await async_wait_for(
        lambda: reasons(small, "local").get("WaitForFirstConsumer"), message="event"
    )
    assert message == "waiting for first consumer to be created before binding"
    await small.clock.sleep(120)
    assert phase(small, "persistentvolumeclaims", "local") == "Pending"
    assert not reg.get("persistentvolumeclaims", "local", "default")["spec"].get("volumeName")

    reg.create("pods", pod("consumer", "local"), "default")
    await async_wait_for(lambda: phase(small, "persistentvolumeclaims", "local") == "Bound", message="bound")
    await async_wait_for(lambda: running(small, "consumer"), message="consumer Running")
    node = reg.get("pods", "consumer", "default")["spec"]["nodeName"]
    claim = reg.get("persistentvolumeclaims", "local", "default")
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
    volume = reg.get("persistentvolumes", claim["spec"]["volumeName"])
    term = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert term == {"key": "topology.hostpath.csi/node", "operator": "In", "values": [node]}
    assert volume["spec"]["csi"]["driver"] == "hostpath.csi.k8s.io"
    assert volume["spec"]["csi"]["fsType"] == "ext4"
    assert "external-provisioner.volume.kubernetes.io/finalizer" in volume["metadata"]["finalizers"]
    assert sources(small, "local")["ProvisioningSucceeded"].startswith(
        "hostpath.csi.k8s.io_csi-hostpathplugin-"
    )

    # Delete policy: once the pod and the claim are gone, the provisioner deletes the volume
    reg.delete("pods", "consumer", "default")
    reg.delete("persistentvolumeclaims", "local", "default")
    pv_name = volume["metadata"]["name"]
    gone = lambda: not exists(small, "persistentvolumes", pv_name)  # noqa: E731
    await async_wait_for(gone, timeout=20, message="PV deleted")


async def test_nfs_outage_fails_provisioning_and_mounts_then_recovers(small: SimCluster) -> None:
    reg = small.registry
    scale(small, "nfs-server", "nfs", 0)
    await async_wait_for(lambda: small.world.get("nfs_up") is False, message="exports down")

    reg.create(
        "persistentvolumeclaims", pvc("during", "1Mi", cls="nfs-client", modes=("ReadWriteMany",)), "default"
    )
    failed = await async_wait_for(
        lambda: reasons(small, "during").get("ProvisioningFailed"), message="failed"
    )
    assert failed.startswith(
        'failed to provision volume with StorageClass "nfs-client": '
        "unable to create directory to provision new pv: mkdir /persistentvolumes/default-during-pvc-"
    )
    assert failed.endswith(": input/output error")
    reg.create("pods", pod("reader", "shared-data"), "default")
    mount = await async_wait_for(lambda: reasons(small, "reader").get("FailedMount"), message="FailedMount")
    assert "mount.nfs: Connection timed out" in mount
    assert phase(small, "persistentvolumeclaims", "during") == "Pending"

    scale(small, "nfs-server", "nfs", 1)
    await async_wait_for(lambda: small.world.get("nfs_up") is True, timeout=20, message="exports back")
    await async_wait_for(lambda: phase(small, "persistentvolumeclaims", "during") == "Bound", timeout=20,
                         message="provisioned after recovery")  # fmt: skip
    await async_wait_for(
        lambda: running(small, "reader"), timeout=20, message="reader Running after recovery"
    )


async def test_stopped_provisioner_leaves_claims_waiting_until_it_returns(small: SimCluster) -> None:
    reg = small.registry
    scale(small, "nfs-subdir-external-provisioner", "nfs", 0)
    await small.controllers.stop("nfs-provisioner")
    selector = "app=nfs-subdir-external-provisioner"
    gone = lambda: not reg.list("pods", "nfs", label_selector=selector)["items"]  # noqa: E731
    await async_wait_for(gone, message="provisioner pod gone")

    reg.create(
        "persistentvolumeclaims", pvc("orphan", "1Mi", cls="nfs-client", modes=("ReadWriteMany",)), "default"
    )

    def repeated() -> bool:
        return any(
            e["reason"] == "ExternalProvisioning" and e["count"] >= 3 for e in events_for(small, "orphan")
        )

    await async_wait_for(repeated, message="ExternalProvisioning repeats each resync")
    assert "Provisioning" not in reasons(small, "orphan")
    assert phase(small, "persistentvolumeclaims", "orphan") == "Pending"

    scale(small, "nfs-subdir-external-provisioner", "nfs", 1)
    small.controllers.start("nfs-provisioner")
    await async_wait_for(lambda: phase(small, "persistentvolumeclaims", "orphan") == "Bound", timeout=20,
                         message="provisioned once the provisioner runs again")  # fmt: skip


async def test_nfs_provisioner_refuses_claims_with_a_selector(small: SimCluster) -> None:
    selector = {"matchLabels": {"a": "b"}}
    picky = pvc("picky", "1Mi", cls="nfs-client", modes=("ReadWriteMany",), selector=selector)
    small.registry.create("persistentvolumeclaims", picky, "default")
    failed = await async_wait_for(lambda: reasons(small, "picky").get("ProvisioningFailed"), message="failed")
    assert failed.endswith('StorageClass "nfs-client": claim Selector is not supported')
    assert phase(small, "persistentvolumeclaims", "picky") == "Pending"
