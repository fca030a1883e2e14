"""Findings a person should act on, and steady() for drills."""

from __future__ import annotations

from datetime import timedelta

from model_factories import T0, csidriver, event, node, pod, pv, pvc, sc, topology, va

from kstor.model import FindingKind, NodeReady, Severity, steady

DRIVER = "hostpath.csi.k8s.io"


def kinds(t, seconds=0.0, **kw):
    return [f.kind for f in t.findings(now=T0 + timedelta(seconds=seconds), **kw)]


def healthy_csi(*extra, pod_kw=None):
    return (
        csidriver(DRIVER),
        node("node-1"),
        node("node-2"),
        pv("v", csi=(DRIVER, "v"), phase="Bound", claim=("default", "c"), sc_name="csi"),
        pvc("c", sc_name="csi", volume="v", phase="Bound"),
        pod("p", node_name="node-1", claims=("c",), **(pod_kw or {})),
        va("v", "node-1"),
        *extra,
    )


def test_a_healthy_cluster_has_no_findings_and_is_steady():
    t = topology(*healthy_csi())
    assert kinds(t, 3600) == []
    assert steady(t).ok is True
    assert steady(t).problems == []


def test_pv_stuck_terminating_names_what_holds_it():
    objs = [o for o in healthy_csi() if o["kind"] != "PersistentVolume"]
    t = topology(
        *objs, pv("v", csi=(DRIVER, "v"), phase="Bound", claim=("default", "c"), sc_name="csi", deleting=True)
    )
    [finding] = t.findings(now=T0)
    assert finding.kind is FindingKind.PV_TERMINATING
    assert finding.message == (
        "pv v is Terminating; held by kubernetes.io/pv-protection, pvc/default/c, pod/default/p"
    )
    assert finding.evidence[0].path_or_reason == "metadata.deletionTimestamp"
    assert steady(t).ok  # a Terminating PV under a running pod does not disturb the workload


def test_released_retained_volume():
    t = topology(pv("v", phase="Released", claim=("default", "gone"), reclaim="Retain"))
    [finding] = t.findings(now=T0)
    assert (finding.kind, finding.severity) == (FindingKind.RELEASED_RETAINED, Severity.INFO)
    assert "claim default/gone is gone" in finding.message
    assert kinds(topology(pv("v", phase="Released", claim=("default", "gone"), reclaim="Delete"))) == []


def test_pending_claim_becomes_a_finding_after_the_threshold():
    t = topology(
        sc("local-ssd", DRIVER, mode="WaitForFirstConsumer"), pvc("c", sc_name="local-ssd", created=0)
    )
    assert kinds(t, 59) == []
    [finding] = t.findings(now=T0 + timedelta(seconds=61))
    assert finding.kind is FindingKind.PVC_PENDING
    assert finding.message == (
        "pvc default/c Pending for 61s (WaitForFirstConsumer): waiting for first consumer "
        "to be created before binding"
    )
    assert kinds(t, 30, pending_after=10) == [FindingKind.PVC_PENDING]
    assert steady(t).problems == [
        "pvc default/c is Pending (WaitForFirstConsumer): waiting for first consumer "
        "to be created before binding"
    ]


def test_multi_attach_finding_and_unsteady():
    second = pod("p2", node_name="node-2", claims=("c",), waiting="ContainerCreating")
    msg = 'Multi-Attach error for volume "v" Volume is already used by pod(s) p'
    t = topology(*healthy_csi(), second, event(second, "FailedAttachVolume", msg, type_="Warning"))
    assert kinds(t) == [FindingKind.MULTI_ATTACH]
    result = steady(t)
    assert result.ok is False
    assert "pod default/p2 is ContainerCreating" in result.problems
    assert f"pod default/p2 volume data: MultiAttach: {msg}" in result.problems


def test_failed_mount_finding():
    msg = 'MountVolume.SetUp failed for volume "v" : mount failed: exit status 32'
    objs = [o for o in healthy_csi() if o["kind"] != "Pod"]
    the_pod = pod("p", node_name="node-1", claims=("c",), waiting="ContainerCreating")
    t = topology(*objs, the_pod, event(the_pod, "FailedMount", msg, type_="Warning", component="kubelet"))
    [finding] = t.findings(now=T0)
    assert (finding.kind, finding.severity) == (FindingKind.FAILED_MOUNT, Severity.ERROR)
    assert finding.message == f"pod default/p volume data: mount failed: {msg}"
    assert [r.kind for r in finding.objects] == ["Pod", "PersistentVolumeClaim", "PersistentVolume"]


def test_attach_error_finding():
    objs = [o for o in healthy_csi() if o["kind"] != "VolumeAttachment"]
    t = topology(*objs, va("v", "node-1", attached=False, error="disk busy"))
    assert FindingKind.ATTACH_ERROR in kinds(t)


def test_not_ready_or_cordoned_node_with_attached_volumes():
    handle = f"kubernetes.io/csi/{DRIVER}^v"
    objs = [o for o in healthy_csi() if o["kind"] != "Node"]
    t = topology(*objs, node("node-1", ready="False", attached=(handle,)), node("node-2"))
    [finding] = t.findings(now=T0)
    assert (finding.kind, finding.severity) == (FindingKind.NODE_UNHEALTHY_WITH_VOLUMES, Severity.ERROR)
    assert finding.message == "node node-1 is NotReady with 1 volume(s) attached"
    cordoned = topology(*objs, node("node-1", cordoned=True), node("node-2"))
    [finding] = cordoned.findings(now=T0)
    assert finding.severity is Severity.WARNING
    assert finding.message == "node node-1 is Ready, cordoned with 1 volume(s) attached"
    assert (
        kinds(topology(*objs, node("node-1"), node("node-2", cordoned=True))) == []
    )  # nothing attached there


def test_orphaned_attachments():
    objs = list(healthy_csi())
    no_pod_there = topology(*objs, va("v", "node-2"))
    [finding] = no_pod_there.findings(now=T0)
    assert finding.kind is FindingKind.ORPHANED_ATTACHMENT
    assert finding.message.endswith("no pod on node-2 uses pv v")
    gone_pv = topology(*objs, va("v9", "node-1"))
    assert "pv v9 no longer exists" in gone_pv.findings(now=T0)[0].message
    gone_node = topology(*objs, va("v", "node-9"))
    assert "node node-9 no longer exists" in gone_node.findings(now=T0)[0].message
    assert kinds(topology(*objs, va("v", "node-2", deleting=True))) == []  # detaching is not orphaned


def test_lost_claim_and_terminating_claim():
    lost = topology(pvc("c", phase="Lost", volume="gone"))
    assert [(f.kind, f.severity) for f in lost.findings(now=T0)] == [(FindingKind.CLAIM_LOST, Severity.ERROR)]
    objs = [o for o in healthy_csi() if o["kind"] != "PersistentVolumeClaim"]
    held = topology(*objs, pvc("c", sc_name="csi", volume="v", phase="Bound", deleting=True))
    [finding] = held.findings(now=T0)
    assert finding.kind is FindingKind.PVC_TERMINATING
    assert "while pod/default/p use it" in finding.message
    assert steady(held).problems == [
        "pvc default/c is Terminating: pvc is being deleted; held by "
        "kubernetes.io/pvc-protection, pod/default/p"
    ]


def test_steady_names_mounting_pods_and_ignores_finished_ones():
    creating = topology(*healthy_csi(pod_kw={"waiting": "ContainerCreating"}))
    assert steady(creating).problems == [
        "pod default/p is ContainerCreating",
        "pod default/p volume data is Mounting: pod is ContainerCreating; kubelet is mounting volumes",
    ]
    done = topology(*healthy_csi(pod_kw={"phase": "Succeeded"}))
    assert steady(done).ok


def test_findings_are_sorted_errors_first():
    t = topology(pv("v", phase="Released", claim=("default", "gone")), pvc("c", phase="Lost", volume="x"))
    assert [f.severity for f in t.findings(now=T0)] == [Severity.ERROR, Severity.INFO]


def test_node_rows_show_readiness_cordon_taints_zone_and_volumes():
    handle = f"kubernetes.io/csi/{DRIVER}^v"
    taint = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}
    t = topology(
        node(
            "a",
            ready="Unknown",
            zone="zone-b",
            cordoned=True,
            attached=(handle,),
            in_use=(handle,),
            taints=(taint,),
        ),
        node("b", ready="False"),
        node("c"),
        pod("p", node_name="ghost"),
    )
    a = t.nodes["a"]
    assert (a.ready, a.cordoned, a.zone) == (NodeReady.UNKNOWN, True, "zone-b")
    assert [str(x) for x in a.taints] == [
        "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute",
        "node.kubernetes.io/unschedulable:NoSchedule",
    ]
    assert (a.volumes_attached, a.volumes_in_use) == ((handle,), (handle,))
    assert a.ready_evidence.source == "condition"
    assert t.nodes["b"].ready is NodeReady.NOT_READY
    assert t.nodes["c"].ready is NodeReady.READY
    assert (t.nodes["ghost"].exists, [p.ref.name for p in t.nodes["ghost"].pods]) == (False, ["p"])
    assert [n.name for n in t.node_rows] == ["a", "b", "c", "ghost"]
