"""What the embedded API server rejects, with the causes a real server sends (validation.go messages)."""

import copy

import pytest

from kstor.sim.apiserver.defaults import apply_defaults
from kstor.sim.apiserver.validation import validate_create, validate_update

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def created(plural: str, obj: dict) -> list[str]:
    """`field: message` lines, as they appear in `<Kind> "x" is invalid: ...`."""
    apply_defaults(plural, obj)
    return [f"{c['field']}: {c['message']}" for c in validate_create(plural, obj)]


def updated(plural: str, old: dict, new: dict) -> list[str]:
    apply_defaults(plural, new)
    return [f"{c['field']}: {c['message']}" for c in validate_update(plural, old, new)]


def pv(**spec: object) -> dict:
    base = {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
        "nfs": {"server": "nfs", "path": "/x"},
    }
    return {"metadata": {"name": "pv-a"}, "spec": {**base, **spec}}


def pvc(**spec: object) -> dict:
    base = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {"metadata": {"name": "data", "namespace": "default"}, "spec": {**base, **spec}}


def pod_obj(**spec: object) -> dict:
    base = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": {**base, **spec}}


def test_valid_objects_of_every_kind_pass() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "a", "image": "nginx"}]},
    }
    workload = {"selector": {"matchLabels": {"app": "web"}}, "template": template}
    good = {
        "persistentvolumes": pv(),
        "persistentvolumeclaims": pvc(),
        "pods": pod_obj(),
        "nodes": {"metadata": {"name": "node-a"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}},
        "namespaces": {"metadata": {"name": "team-a"}},
        "events": {
            "metadata": {"name": "x.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        },
        "deployments": {"metadata": {"name": "web", "namespace": "default"}, "spec": dict(workload)},
        "replicasets": {"metadata": {"name": "web-1", "namespace": "default"}, "spec": dict(workload)},
        "statefulsets": {"metadata": {"name": "db", "namespace": "default"}, "spec": dict(workload)},
        "storageclasses": {"metadata": {"name": "nfs-client"}, "provisioner": "k8s-sigs.io/nfs-subdir"},
        "volumeattachments": {
            "metadata": {"name": "csi-1"},
            "spec": {"attacher": "d.csi", "nodeName": "node-a", "source": {"persistentVolumeName": "pv-a"}},
        },
        "csidrivers": {"metadata": {"name": "nfs.csi.k8s.io"}, "spec": {}},
        "csinodes": {
            "metadata": {"name": "node-a"},
            "spec": {"drivers": [{"name": "d.csi", "nodeID": "node-a"}]},
        },
        "poddisruptionbudgets": {
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
        },
        "leases": {
            "metadata": {"name": "node-a", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 40},
        },
    }
    for plural, obj in good.items():
        assert created(plural, obj) == [], plural


def test_pv_with_nothing_reports_what_a_real_server_reports() -> None:
    # Verbatim from a real API server (kubectl apply of an empty PV spec).
    assert created("persistentvolumes", {"metadata": {"name": "code-pv"}, "spec": {}}) == [
        "spec.accessModes: Required value",
        "spec.capacity: Required value",
        'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
        "spec: Required value: must specify a volume type",
    ]


def test_pv_field_rules() -> None:
    assert created("persistentvolumes", pv(hostPath={"path": "/d"})) == [
        "spec.nfs: Forbidden: may not specify more than 1 volume type"
    ]
    assert created("persistentvolumes", pv(capacity={"storage": "0"})) == [
        'spec.capacity[storage]: Invalid value: "0": must be greater than zero'
    ]
    assert created("persistentvolumes", pv(accessModes=["ReadWriteOncePod", "ReadWriteOnce"])) == [
        "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"
    ]
    assert created("persistentvolumes", pv(persistentVolumeReclaimPolicy="Keep")) == [
        'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", '
        '"Recycle", "Retain"'
    ]
    assert created("persistentvolumes", pv(nfs={"server": "nfs", "path": "data"})) == [
        'spec.nfs.path: Invalid value: "data": must be an absolute path'
    ]
    local = pv(nfs=None, local={"path": "/mnt/ssd"})
    del local["spec"]["nfs"]
    assert created("persistentvolumes", local) == [
        "spec.nodeAffinity: Required value: Local volume requires node affinity"
    ]
    csi = pv(csi={"driver": "", "volumeHandle": ""})
    del csi["spec"]["nfs"]
    assert created("persistentvolumes", csi) == [
        "spec.csi.driver: Required value",
        "spec.csi.volumeHandle: Required value",
    ]


def test_names_labels_and_generate_name() -> None:
    bad = pvc()
    bad["metadata"]["name"] = "Data_1"
    assert created("persistentvolumeclaims", bad) == [f'metadata.name: Invalid value: "Data_1": {SUBDOMAIN}']
    nameless = pvc()
    del nameless["metadata"]["name"]
    assert created("persistentvolumeclaims", nameless) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    generated = pvc()
    generated["metadata"] = {"generateName": "data-", "name": "data-x7k2p", "namespace": "default"}
    assert created("persistentvolumeclaims", generated) == []
    generated["metadata"]["generateName"] = "Data-"
    assert created("persistentvolumeclaims", generated)[0].startswith(
        'metadata.generateName: Invalid value: "Data-"'
    )
    labelled = pvc()
    labelled["metadata"]["labels"] = {"app": "not ok!"}
    assert created("persistentvolumeclaims", labelled) == [
        'metadata.labels: Invalid value: "not ok!": a valid label must be an empty string or consist of '
        "alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
        "'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    ]
    namespace = {"metadata": {"name": "a.b"}}
    assert created("namespaces", namespace)[0].startswith(
        'metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label'
    )


def test_pvc_requires_modes_and_storage() -> None:
    assert created(
        "persistentvolumeclaims", {"metadata": {"name": "d", "namespace": "default"}, "spec": {}}
    ) == [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Required value",
    ]
    assert created("persistentvolumeclaims", pvc(volumeMode="Raw")) == [
        'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'
    ]


PVC_IMMUTABLE = (
    "spec: Forbidden: spec is immutable after creation except resources.requests and "
    "volumeAttributesClassName "
    "for bound claims"
)


def test_pvc_spec_is_immutable_except_expansion_of_bound_claims() -> None:
    old = pvc(storageClassName="fast")
    apply_defaults("persistentvolumeclaims", old)
    binding = copy.deepcopy(old)
    binding["spec"]["volumeName"] = "pv-a"  # the binder may set volumeName once
    assert updated("persistentvolumeclaims", old, binding) == []
    changed = copy.deepcopy(binding)
    changed["spec"]["storageClassName"] = "slow"
    (only,) = updated("persistentvolumeclaims", binding, changed)
    assert only.startswith(PVC_IMMUTABLE + "\n")
    grow = copy.deepcopy(binding)
    grow["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert updated("persistentvolumeclaims", binding, grow)[0].startswith(PVC_IMMUTABLE)  # still Pending
    bound = copy.deepcopy(binding)
    bound["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    grow["status"] = bound["status"]
    assert updated("persistentvolumeclaims", bound, grow) == []
    shrink = copy.deepcopy(bound)
    shrink["spec"]["resources"]["requests"]["storage"] = "512Mi"
    assert updated("persistentvolumeclaims", bound, shrink) == [
        "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
    ]
    relabel = copy.deepcopy(bound)
    relabel["metadata"]["labels"] = {"tier": "db"}
    assert updated("persistentvolumeclaims", bound, relabel) == []


def test_pv_source_is_immutable() -> None:
    old = pv()
    apply_defaults("persistentvolumes", old)
    new = copy.deepcopy(old)
    new["spec"]["nfs"]["path"] = "/y"
    (only,) = updated("persistentvolumes", old, new)
    assert only.startswith(
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n"
    )
    claim = copy.deepcopy(old)
    claim["spec"]["claimRef"] = {"namespace": "default", "name": "data"}
    claim["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    assert updated("persistentvolumes", old, claim) == []


def test_pod_needs_named_containers_with_images_and_known_volumes() -> None:
    assert created("pods", pod_obj(containers=[])) == ["spec.containers: Required value"]
    assert created("pods", pod_obj(containers=[{"name": "", "image": ""}])) == [
        "spec.containers[0].name: Required value",
        "spec.containers[0].image: Required value",
    ]
    mounts = pod_obj(
        containers=[{"name": "app", "image": "nginx", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}],
        volumes=[
            {"name": "cache", "persistentVolumeClaim": {"claimName": ""}},
            {"name": "cache", "emptyDir": {}},
        ],
    )
    assert created("pods", mounts) == [
        "spec.volumes[0].persistentVolumeClaim.claimName: Required value",
        'spec.volumes[1].name: Duplicate value: "cache"',
        'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    ]
    assert created("pods", pod_obj(volumes=[{"name": "v"}])) == [
        "spec.volumes[0]: Required value: must specify a volume type"
    ]
    assert created("pods", pod_obj(restartPolicy="Sometimes")) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"'
    ]


POD_FORBIDDEN = (
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
    "existing "
    "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)"
)


def test_pod_spec_is_immutable_except_image_deadline_and_added_tolerations() -> None:
    old = pod_obj()
    apply_defaults("pods", old)
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.28"
    new["spec"]["activeDeadlineSeconds"] = 60
    new["spec"]["tolerations"].append({"key": "gpu", "operator": "Exists", "effect": "NoSchedule"})
    assert updated("pods", old, new) == []
    moved = copy.deepcopy(old)
    moved["spec"]["nodeName"] = "node-b"
    (only,) = updated("pods", old, moved)
    assert only.startswith(POD_FORBIDDEN + "\n")
    fewer = copy.deepcopy(new)
    fewer["spec"]["tolerations"] = [t for t in fewer["spec"]["tolerations"] if t["key"] != "gpu"]
    assert updated("pods", new, fewer)[0].startswith(POD_FORBIDDEN)
    # Admission puts its own tolerations back, so dropping one is no error (as on real servers).
    assert updated("pods", old, copy.deepcopy(old) | {"spec": {**old["spec"], "tolerations": []}}) == []


def test_workloads_selector_must_match_template_and_stay_fixed() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "a", "image": "nginx"}]},
    }
    deployment = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": template},
    }
    assert created("deployments", copy.deepcopy(deployment)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"
    ]
    no_selector = copy.deepcopy(deployment)
    del no_selector["spec"]["selector"]
    assert created("deployments", no_selector) == ["spec.selector: Required value"]
    old = copy.deepcopy(deployment)
    old["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    apply_defaults("deployments", old)
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
    new["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    assert updated("deployments", old, new) == [
        "spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: web,v: 2,},"
        "MatchExpressions:[]LabelSelectorRequirement{},}: field is immutable"
    ]
    never = copy.deepcopy(old)
    never["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert created("deployments", never) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
    ]


def test_statefulset_spec_updates_limited_to_known_fields() -> None:
    template = {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "a", "image": "pg"}]}}
    old = {
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}, "template": template, "serviceName": "db"},
    }
    apply_defaults("statefulsets", old)
    scaled = copy.deepcopy(old)
    scaled["spec"]["replicas"] = 3
    assert updated("statefulsets", old, scaled) == []
    renamed = copy.deepcopy(old)
    renamed["spec"]["serviceName"] = "other"
    assert updated("statefulsets", old, renamed) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]


def test_storage_kinds_required_and_immutable_fields() -> None:
    assert created("storageclasses", {"metadata": {"name": "x"}}) == ["provisioner: Required value"]
    old = {"metadata": {"name": "x"}, "provisioner": "a.io/p", "parameters": {"k": "v"}}
    apply_defaults("storageclasses", old)
    new = dict(
        old,
        provisioner="b.io/p",
        parameters={"k": "w"},
        reclaimPolicy="Retain",
        volumeBindingMode="WaitForFirstConsumer",
    )
    assert updated("storageclasses", old, new) == [
        "parameters: Forbidden: updates to parameters are forbidden.",
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
        'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]
    assert created("volumeattachments", {"metadata": {"name": "csi-1"}, "spec": {}}) == [
        "spec.attacher: Required value",
        "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName",
        f'spec.nodeName: Invalid value: "": {SUBDOMAIN}',
    ]
    va = {
        "metadata": {"name": "csi-1"},
        "spec": {"attacher": "d", "nodeName": "n", "source": {"persistentVolumeName": "p"}},
    }
    moved = copy.deepcopy(va)
    moved["spec"]["nodeName"] = "m"
    (only,) = updated("volumeattachments", va, moved)
    assert only.startswith("spec: Invalid value: storage.VolumeAttachmentSpec{") and only.endswith(
        "field is immutable"
    )
    driver = {"metadata": {"name": "d.csi"}, "spec": {}}
    apply_defaults("csidrivers", driver)
    flipped = copy.deepcopy(driver)
    flipped["spec"]["attachRequired"] = False
    assert updated("csidrivers", driver, flipped) == [
        "spec.attachedRequired: Invalid value: false: field is immutable"
    ]


def test_metadata_is_fixed_and_deleting_objects_take_no_new_finalizers() -> None:
    old = pvc()
    apply_defaults("persistentvolumeclaims", old)
    old["metadata"].update(
        uid="u1", deletionTimestamp="2026-01-01T00:00:00Z", finalizers=["kubernetes.io/pvc-protection"]
    )
    new = copy.deepcopy(old)
    new["metadata"]["uid"] = "u2"
    new["metadata"]["finalizers"].append("example.com/hold")
    assert updated("persistentvolumeclaims", old, new) == [
        'metadata.uid: Invalid value: "u2": field is immutable',
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, "
        "found new "
        'finalizers []string{"example.com/hold"}',
    ]


@pytest.mark.parametrize(
    ("plural", "obj", "line"),
    [
        (
            "events",
            {"metadata": {"name": "e", "namespace": "default"}, "involvedObject": {"namespace": "other"}},
            'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
        ),
        (
            "poddisruptionbudgets",
            {"metadata": {"name": "p", "namespace": "d"}, "spec": {"minAvailable": "150%"}},
            'spec.minAvailable: Invalid value: "150%": must not be greater than 100%',
        ),
        (
            "leases",
            {"metadata": {"name": "l", "namespace": "d"}, "spec": {"leaseDurationSeconds": 0}},
            "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        ),
        (
            "nodes",
            {"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}},
            'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", '
            '"NoSchedule", '
            '"PreferNoSchedule"',
        ),
        (
            "csinodes",
            {"metadata": {"name": "n"}, "spec": {"drivers": [{"name": "d"}]}},
            "spec.drivers[0].nodeID: Required value",
        ),
    ],
)
def test_other_kinds(plural: str, obj: dict, line: str) -> None:
    assert created(plural, obj) == [line]


def test_garbage_never_raises() -> None:
    for plural in (
        "pods",
        "persistentvolumes",
        "persistentvolumeclaims",
        "deployments",
        "statefulsets",
        "nodes",
    ):
        for junk in (
            {},
            {"metadata": None, "spec": "x"},
            {"spec": {"containers": "x", "volumes": [1, None]}},
        ):
            validate_create(plural, copy.deepcopy(junk))
            validate_update(plural, copy.deepcopy(junk), copy.deepcopy(junk))
            apply_defaults(plural, copy.deepcopy(junk))
