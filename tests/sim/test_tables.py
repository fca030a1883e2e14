"""Server-side Table rows: what `kubectl get` shows for each kind, cell for cell (printers.go)."""

from datetime import UTC, datetime, timedelta

import pytest

from kstor.sim.apiserver.tables import (
    access_modes,
    build_table,
    format_quantity,
    format_selector,
    human_duration,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(plural: str, obj: dict, *, wide: bool = False) -> dict:
    """One object's row as {COLUMN NAME: cell}, as kubectl lays it out."""
    columns, rows = build_table(plural, [obj], NOW, wide=wide)
    assert len(rows) == 1 and len(rows[0]) == len(columns)
    return {c["name"].upper(): cell for c, cell in zip(columns, rows[0], strict=True)}


def headers(plural: str, *, wide: bool) -> list[str]:
    return [c["name"].upper() for c in build_table(plural, [], NOW, wide=wide)[0]]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-1.5, "0s"),
        (-5, "<invalid>"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (200, "3m20s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600 + 4 * 60, "3h4m"),
        (5 * 3600, "5h"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (7 * 86400, "7d"),
        (45 * 86400, "45d"),
        (2 * 365 * 86400, "2y"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_like_kubectl(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("1024Mi", "1Gi"),
        ("1536Mi", "1536Mi"),
        ("1000M", "1G"),
        ("1.5Gi", "1536Mi"),
        ("500m", "500m"),
        ("5Gi", "5Gi"),
        ("100", "100"),
        ("2048Ki", "2Mi"),
        ("1e3", "1e3"),
        ("0", "0"),
    ],
)
def test_quantities_print_in_canonical_form(raw: str, shown: str) -> None:
    assert format_quantity(raw) == shown


def test_access_modes_are_abbreviated_in_fixed_order_without_duplicates() -> None:
    assert (
        access_modes(["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce", "ReadWriteOncePod"])
        == "RWO,RWX,RWOP"
    )
    assert access_modes(["ReadOnlyMany"]) == "ROX"


def test_selector_is_printed_sorted_by_key() -> None:
    selector = {
        "matchLabels": {"tier": "db", "app": "web"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
    }
    assert format_selector(selector) == "app=web,env in (dev,prod),tier=db"


HEADERS = {
    "persistentvolumes": (
        "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON "
        "AGE",
        "VOLUMEMODE",
    ),
    "persistentvolumeclaims": (
        "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
        "VOLUMEMODE",
    ),
    "pods": ("NAME READY STATUS RESTARTS AGE", "IP NODE NOMINATED NODE READINESS GATES"),
    "nodes": (
        "NAME STATUS ROLES AGE VERSION",
        "INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME",
    ),
    "storageclasses": ("NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE", ""),
    "volumeattachments": ("NAME ATTACHER PV NODE ATTACHED AGE", ""),
    "csidrivers": (
        "NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE",
        "",
    ),
    "csinodes": ("NAME DRIVERS AGE", ""),
    "deployments": ("NAME READY UP-TO-DATE AVAILABLE AGE", "CONTAINERS IMAGES SELECTOR"),
    "replicasets": ("NAME DESIRED CURRENT READY AGE", "CONTAINERS IMAGES SELECTOR"),
    "statefulsets": ("NAME READY AGE", "CONTAINERS IMAGES"),
    "poddisruptionbudgets": ("NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", ""),
    "namespaces": ("NAME STATUS AGE", ""),
    "leases": ("NAME HOLDER AGE", ""),
}


@pytest.mark.parametrize("plural", sorted(HEADERS))
def test_column_headers_match_a_real_server(plural: str) -> None:
    narrow, extra = HEADERS[plural]
    assert " ".join(headers(plural, wide=False)) == narrow
    assert " ".join(headers(plural, wide=True)) == f"{narrow} {extra}".strip()


def test_event_columns_put_wide_ones_between_object_and_message() -> None:
    assert headers("events", wide=False) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert headers("events", wide=True) == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
    ]


def test_wide_priority_is_marked_on_column_definitions() -> None:
    columns, _ = build_table("persistentvolumeclaims", [], NOW, wide=True)
    assert [c["priority"] for c in columns] == [0] * 8 + [1]
    assert columns[0]["format"] == "name"


def bound_pv(**meta: str) -> dict:
    return {
        "metadata": {"name": "pv-a", "creationTimestamp": ago(200), **meta},
        "spec": {
            "capacity": {"storage": "1024Mi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "manual",
            "volumeMode": "Filesystem",
            "hostPath": {"path": "/mnt/data"},
        },
        "status": {"phase": "Bound"},
    }


def test_pv_row() -> None:
    row = table("persistentvolumes", bound_pv(), wide=True)
    assert row == {
        "NAME": "pv-a",
        "CAPACITY": "1Gi",
        "ACCESS MODES": "RWO",
        "RECLAIM POLICY": "Retain",
        "STATUS": "Bound",
        "CLAIM": "default/data",
        "STORAGECLASS": "manual",
        "VOLUMEATTRIBUTESCLASS": "<unset>",
        "REASON": "",
        "AGE": "3m20s",
        "VOLUMEMODE": "Filesystem",
    }


def test_finalizer_held_pv_prints_terminating_while_phase_stays_bound() -> None:
    row = table("persistentvolumes", bound_pv(deletionTimestamp=ago(10)))
    assert row["STATUS"] == "Terminating"


def test_pv_class_annotation_wins_over_spec() -> None:
    pv = bound_pv()
    pv["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "slow"}
    assert table("persistentvolumes", pv)["STORAGECLASS"] == "slow"


def test_pvc_rows_pending_and_bound() -> None:
    pending = {
        "metadata": {"name": "data", "creationTimestamp": ago(30)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "nfs-client",
        },
        "status": {"phase": "Pending"},
    }
    row = table("persistentvolumeclaims", pending)
    assert (row["STATUS"], row["VOLUME"], row["CAPACITY"], row["ACCESS MODES"]) == ("Pending", "", "", "")
    assert (row["STORAGECLASS"], row["VOLUMEATTRIBUTESCLASS"], row["AGE"]) == ("nfs-client", "<unset>", "30s")
    bound = dict(
        pending,
        spec={**pending["spec"], "volumeName": "pvc-1"},
        status={"phase": "Bound", "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"]},
    )
    row = table("persistentvolumeclaims", bound)
    assert (row["STATUS"], row["VOLUME"], row["CAPACITY"], row["ACCESS MODES"]) == (
        "Bound",
        "pvc-1",
        "2Gi",
        "RWO",
    )
    bound["metadata"]["deletionTimestamp"] = ago(1)
    assert table("persistentvolumeclaims", bound)["STATUS"] == "Terminating"


def pod(**status: object) -> dict:
    return {
        "metadata": {"name": "web-0", "creationTimestamp": ago(90)},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], "nodeName": "node-a"},
        "status": {"phase": "Pending", **status},
    }


def test_pod_waiting_reason_shows_as_status() -> None:
    p = pod(
        containerStatuses=[
            {
                "name": "app",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}},
            }
        ]
    )
    row = table("pods", p, wide=True)
    assert (row["READY"], row["STATUS"], row["RESTARTS"], row["AGE"]) == (
        "0/1",
        "ContainerCreating",
        "0",
        "90s",
    )
    assert (row["IP"], row["NODE"], row["NOMINATED NODE"], row["READINESS GATES"]) == (
        "<none>",
        "node-a",
        "<none>",
        "<none>",
    )


def test_pod_running_with_restarts_shows_when_it_last_restarted() -> None:
    p = pod(
        phase="Running",
        podIPs=[{"ip": "10.0.0.7"}],
        containerStatuses=[
            {
                "name": "app",
                "ready": True,
                "restartCount": 2,
                "state": {"running": {"startedAt": ago(60)}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(65)}},
            }
        ],
    )
    row = table("pods", p, wide=True)
    assert (row["READY"], row["STATUS"], row["RESTARTS"], row["IP"]) == (
        "1/1",
        "Running",
        "2 (65s ago)",
        "10.0.0.7",
    )


def test_pod_terminating_completed_and_init_states() -> None:
    deleting = pod(phase="Running")
    deleting["metadata"]["deletionTimestamp"] = ago(1)
    assert table("pods", deleting)["STATUS"] == "Terminating"
    done = pod(
        phase="Succeeded",
        containerStatuses=[{"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
    )
    done["metadata"]["deletionTimestamp"] = ago(1)
    assert table("pods", done)["STATUS"] == "Completed"
    init = pod(initContainerStatuses=[{"name": "setup", "state": {"waiting": {"reason": "PodInitializing"}}}])
    init["spec"]["initContainers"] = [{"name": "setup", "image": "busybox"}]
    assert table("pods", init)["STATUS"] == "Init:0/1"
    assert table("pods", pod())["STATUS"] == "Pending"


def node(**spec: object) -> dict:
    return {
        "metadata": {
            "name": "node-a",
            "creationTimestamp": ago(3 * 86400),
            "labels": {"node-role.kubernetes.io/control-plane": ""},
        },
        "spec": dict(spec),
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7.13",
            },
            "addresses": [
                {"type": "InternalIP", "address": "172.18.0.2"},
                {"type": "Hostname", "address": "node-a"},
            ],
        },
    }


def test_node_rows_ready_cordoned_and_not_ready() -> None:
    row = table("nodes", node(), wide=True)
    assert row == {
        "NAME": "node-a",
        "STATUS": "Ready",
        "ROLES": "control-plane",
        "AGE": "3d",
        "VERSION": "v1.32.0",
        "INTERNAL-IP": "172.18.0.2",
        "EXTERNAL-IP": "<none>",
        "OS-IMAGE": "Debian GNU/Linux 12 (bookworm)",
        "KERNEL-VERSION": "6.1.0",
        "CONTAINER-RUNTIME": "containerd://1.7.13",
    }
    assert table("nodes", node(unschedulable=True))["STATUS"] == "Ready,SchedulingDisabled"
    sick = node()
    sick["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    assert table("nodes", sick)["STATUS"] == "NotReady"
    sick["status"]["conditions"] = []
    assert table("nodes", sick)["STATUS"] == "Unknown"


def test_storageclass_default_suffix_and_defaulted_cells() -> None:
    sc = {
        "metadata": {
            "name": "standard",
            "creationTimestamp": ago(60),
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    row = table("storageclasses", sc)
    assert list(row.values()) == [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "60s",
    ]


def test_csi_rows() -> None:
    driver = {
        "metadata": {"name": "nfs.csi.k8s.io", "creationTimestamp": ago(5)},
        "spec": {"attachRequired": False, "volumeLifecycleModes": ["Persistent", "Ephemeral"]},
    }
    assert list(table("csidrivers", driver).values()) == [
        "nfs.csi.k8s.io",
        False,
        False,
        False,
        "<unset>",
        False,
        "Persistent,Ephemeral",
        "5s",
    ]
    va = {
        "metadata": {"name": "csi-abc", "creationTimestamp": ago(5)},
        "spec": {
            "attacher": "ebs.csi.aws.com",
            "nodeName": "node-a",
            "source": {"persistentVolumeName": "pv-a"},
        },
        "status": {"attached": True},
    }
    assert list(table("volumeattachments", va).values()) == [
        "csi-abc",
        "ebs.csi.aws.com",
        "pv-a",
        "node-a",
        True,
        "5s",
    ]
    csinode = {
        "metadata": {"name": "node-a", "creationTimestamp": ago(5)},
        "spec": {"drivers": [{"name": "a", "nodeID": "n"}]},
    }
    assert list(table("csinodes", csinode).values()) == ["node-a", 1, "5s"]


def test_event_row_narrow_and_wide() -> None:
    event = {
        "metadata": {"name": "data.1872", "creationTimestamp": ago(600)},
        "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data", "namespace": "default"},
        "reason": "ProvisioningFailed",
        "type": "Warning",
        "message": 'storageclass.storage.k8s.io "x" not found ',
        "source": {"component": "persistentvolume-controller"},
        "firstTimestamp": ago(600),
        "lastTimestamp": ago(30),
        "count": 4,
    }
    assert list(table("events", event).values()) == [
        "30s",
        "Warning",
        "ProvisioningFailed",
        "persistentvolumeclaim/data",
        'storageclass.storage.k8s.io "x" not found',
    ]
    wide = table("events", event, wide=True)
    assert (wide["SOURCE"], wide["FIRST SEEN"], wide["COUNT"], wide["NAME"]) == (
        "persistentvolume-controller",
        "10m",
        4,
        "data.1872",
    )
    event["source"]["host"] = "node-a"
    assert table("events", event, wide=True)["SOURCE"] == "persistentvolume-controller, node-a"


def test_workload_rows() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]},
    }
    deployment = {
        "metadata": {"name": "web", "creationTimestamp": ago(60)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert list(table("deployments", deployment, wide=True).values()) == [
        "web",
        "2/3",
        3,
        2,
        "60s",
        "app,log",
        "nginx:1.27,busybox",
        "app=web",
    ]
    rs = {
        "metadata": {"name": "web-5d4", "creationTimestamp": ago(60)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert list(table("replicasets", rs).values()) == ["web-5d4", 3, 3, 1, "60s"]
    sts = {
        "metadata": {"name": "db", "creationTimestamp": ago(60)},
        "spec": {"replicas": 2, "template": template},
        "status": {"readyReplicas": 2},
    }
    assert list(table("statefulsets", sts, wide=True).values()) == [
        "db",
        "2/2",
        "60s",
        "app,log",
        "nginx:1.27,busybox",
    ]


def test_pdb_namespace_and_lease_rows() -> None:
    pdb = {
        "metadata": {"name": "db", "creationTimestamp": ago(60)},
        "spec": {"minAvailable": 1},
        "status": {"disruptionsAllowed": 0},
    }
    assert list(table("poddisruptionbudgets", pdb).values()) == ["db", "1", "N/A", 0, "60s"]
    pdb["spec"] = {"maxUnavailable": "50%"}
    assert list(table("poddisruptionbudgets", pdb).values())[1:3] == ["N/A", "50%"]
    ns = {"metadata": {"name": "kube-system", "creationTimestamp": ago(60)}, "status": {"phase": "Active"}}
    assert list(table("namespaces", ns).values()) == ["kube-system", "Active", "60s"]
    lease = {
        "metadata": {"name": "node-a", "creationTimestamp": ago(60)},
        "spec": {"holderIdentity": "node-a"},
    }
    assert list(table("leases", lease).values()) == ["node-a", "node-a", "60s"]


def test_garbage_objects_print_placeholders_instead_of_failing() -> None:
    for plural in HEADERS:
        columns, rows = build_table(
            plural, [{}, {"metadata": "x", "spec": [], "status": None}], NOW, wide=True
        )
        assert all(len(row) == len(columns) for row in rows)
        assert "<unknown>" in rows[0]  # no creationTimestamp → AGE <unknown>
