"""Defaults a real API server writes into objects it accepts (create and update alike).

Sources: pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go, pkg/apis/storage/v1/defaults.go,
the namespace and pod registry strategies, and three pod admission plugins that every cluster runs
(ServiceAccount, Priority, DefaultTolerationSeconds). Defaulting never rejects anything: bad input is
left for validation to name. Every function only fills what is absent, so applying twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kstor.sim.apiserver.fields import prune_unknown_fields

Obj = dict[str, Any]

_NOT_READY = "node.kubernetes.io/not-ready"
_UNREACHABLE = "node.kubernetes.io/unreachable"
_DEFAULT_TOLERATION_SECONDS = 300


def apply_defaults(plural: str, obj: Obj, old: Obj | None = None) -> None:
    """Fill in `obj` (a dict as decoded from JSON) the way the API server defaults `plural`.

    `old`: the stored version an update replaces (lets the unknown-field pass skip unchanged parts).
    """
    if not isinstance(obj, dict):
        return
    prune_unknown_fields(plural, obj, old)  # decoding into Go structs drops them before any defaulting
    handler = _HANDLERS.get(plural)
    if handler is not None:
        handler(obj)


def _sub(parent: Obj, key: str) -> Obj:
    """The dict at parent[key], created when absent or null (what Go's zero-value structs amount to)."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _dicts(value: Any) -> list[Obj]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# --- core/v1: pods and pod templates ------------------------------------------------------------
def _image_pull_policy(image: str) -> str:
    # SetDefaults_Container: Always for ":latest" or no tag at all, IfNotPresent otherwise.
    # A digest ("@sha256:...") counts as a tag; a port in the registry host does not.
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("path", "/")
        probe["httpGet"].setdefault("scheme", "HTTP")


def _default_container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    if isinstance(container.get("image"), str) and container["image"]:
        container.setdefault("imagePullPolicy", _image_pull_policy(container["image"]))
    if not isinstance(container.get("resources"), dict):
        container["resources"] = {}
    resources = container["resources"]
    # SetDefaults_Pod: a limit without a request means request = limit.
    if isinstance(resources.get("limits"), dict):
        requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
        for name, quantity in resources["limits"].items():
            requests.setdefault(name, quantity)
        if requests:
            resources["requests"] = requests
    for port in _dicts(container.get("ports")):
        port.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    for env in _dicts(container.get("env")):
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")


def _default_volume(volume: Obj) -> None:
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", 420)
    if isinstance(volume.get("hostPath"), dict):
        volume["hostPath"].setdefault("type", "")
    if "emptyDir" in volume and volume["emptyDir"] is None:
        volume["emptyDir"] = {}


def _default_pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    for key in ("containers", "initContainers"):
        for container in _dicts(spec.get(key)):
            _default_container(container)
    for volume in _dicts(spec.get("volumes")):
        _default_volume(volume)


def _default_pod_template(template: Any) -> None:
    if isinstance(template, dict):
        _default_pod_spec(_sub(template, "spec"))


def _tolerates(tolerations: list[Obj], key: str) -> bool:
    # DefaultTolerationSeconds only adds a toleration when none already covers the taint.
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", "NoExecute"):
            continue
        matches_all = not toleration.get("key") and toleration.get("operator") == "Exists"
        if toleration.get("key") == key or matches_all:
            return True
    return False


def _admit_pod(spec: Obj) -> None:
    """What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins add."""
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec.setdefault("serviceAccountName", name)
    spec.setdefault("serviceAccount", name)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    if not isinstance(spec.get("tolerations"), list):
        spec["tolerations"] = []
    tolerations = spec["tolerations"]
    for key in (_NOT_READY, _UNREACHABLE):
        if not _tolerates(_dicts(tolerations), key):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": _DEFAULT_TOLERATION_SECONDS,
                }
            )


def qos_class(spec: Obj) -> str:
    """pkg/apis/core/helper/qos.GetPodQOS, reduced to cpu and memory as kubelets account them."""
    requests: dict[str, bool] = {}
    limited = {"cpu": True, "memory": True}
    any_set = False
    containers = _dicts(spec.get("containers")) + _dicts(spec.get("initContainers"))
    for container in containers:
        resources = container.get("resources") or {}
        reqs = resources.get("requests") or {}
        lims = resources.get("limits") or {}
        for name in ("cpu", "memory"):
            if name in reqs or name in lims:
                any_set = True
            if name in reqs:
                requests[name] = True
            if name not in lims or (name in reqs and str(reqs[name]) != str(lims[name])):
                limited[name] = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if all(limited.values()) and containers else "Burstable"


def _default_pod(pod: Obj) -> None:
    spec = _sub(pod, "spec")
    _default_pod_spec(spec)
    _admit_pod(spec)
    status = _sub(pod, "status")
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))


# --- core/v1: volumes, claims, nodes, namespaces --------------------------------------------------
def _default_pv(pv: Obj) -> None:
    spec = _sub(pv, "spec")
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    if isinstance(spec.get("hostPath"), dict):
        spec["hostPath"].setdefault("type", "")
    _sub(pv, "status").setdefault("phase", "Pending")


def _default_pvc(pvc: Obj) -> None:
    _sub(pvc, "spec").setdefault("volumeMode", "Filesystem")
    _sub(pvc, "status").setdefault("phase", "Pending")


def _default_node(node: Obj) -> None:
    status = _sub(node, "status")
    # SetDefaults_NodeStatus: allocatable is capacity until the kubelet says otherwise.
    if isinstance(status.get("capacity"), dict) and not isinstance(status.get("allocatable"), dict):
        status["allocatable"] = dict(status["capacity"])


def _default_namespace(namespace: Obj) -> None:
    meta = _sub(namespace, "metadata")
    name = meta.get("name")
    if isinstance(name, str) and name:
        # SetDefaults_Namespace: every namespace carries its own name as a label (since v1.21).
        _sub(meta, "labels")["kubernetes.io/metadata.name"] = name
    spec = _sub(namespace, "spec")
    if not isinstance(spec.get("finalizers"), list):
        spec["finalizers"] = ["kubernetes"]
    _sub(namespace, "status").setdefault("phase", "Active")


def _default_event(event: Obj) -> None:
    # core/v1 Event has no defaulting of its own; only an omitted involvedObject is normalised.
    if not isinstance(event.get("involvedObject"), dict):
        event["involvedObject"] = {}


# --- apps/v1 -------------------------------------------------------------------------------------
def _default_deployment(deployment: Obj) -> None:
    spec = _sub(deployment, "spec")
    spec.setdefault("replicas", 1)
    strategy = _sub(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_pod_template(spec.get("template"))


def _default_replicaset(replicaset: Obj) -> None:
    spec = _sub(replicaset, "spec")
    spec.setdefault("replicas", 1)
    _default_pod_template(spec.get("template"))


def _default_statefulset(statefulset: Obj) -> None:
    spec = _sub(statefulset, "spec")
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = _sub(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _sub(strategy, "rollingUpdate").setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    retention = _sub(spec, "persistentVolumeClaimRetentionPolicy")
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    _default_pod_template(spec.get("template"))
    # Claim templates are PersistentVolumeClaims and get their defaults (and a Pending status).
    for claim in _dicts(spec.get("volumeClaimTemplates")):
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        _default_pvc(claim)


# --- storage.k8s.io/v1 ---------------------------------------------------------------------------
def _default_storageclass(storageclass: Obj) -> None:
    storageclass.setdefault("reclaimPolicy", "Delete")
    storageclass.setdefault("volumeBindingMode", "Immediate")


def _default_csidriver(driver: Obj) -> None:
    spec = _sub(driver, "spec")
    spec.setdefault("attachRequired", True)
    spec.setdefault("podInfoOnMount", False)
    spec.setdefault("storageCapacity", False)
    spec.setdefault("fsGroupPolicy", "ReadWriteOnceWithFSType")
    spec.setdefault("requiresRepublish", False)
    spec.setdefault("seLinuxMount", False)
    if not spec.get("volumeLifecycleModes"):
        spec["volumeLifecycleModes"] = ["Persistent"]


def _default_csinode(csinode: Obj) -> None:
    spec = _sub(csinode, "spec")
    if not isinstance(spec.get("drivers"), list):
        spec["drivers"] = []


# --- policy/v1, coordination.k8s.io/v1 -----------------------------------------------------------
def _default_pdb(pdb: Obj) -> None:
    # policy/v1 defaults nothing in spec; the status the disruption controller owns starts zeroed.
    status = _sub(pdb, "status")
    for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        status.setdefault(key, 0)


def _default_lease(lease: Obj) -> None:
    _sub(lease, "spec")


_HANDLERS: dict[str, Callable[[Obj], None]] = {
    "pods": _default_pod,
    "persistentvolumes": _default_pv,
    "persistentvolumeclaims": _default_pvc,
    "nodes": _default_node,
    "namespaces": _default_namespace,
    "events": _default_event,
    "deployments": _default_deployment,
    "replicasets": _default_replicaset,
    "statefulsets": _default_statefulset,
    "storageclasses": _default_storageclass,
    "csidrivers": _default_csidriver,
    "csinodes": _default_csinode,
    "poddisruptionbudgets": _default_pdb,
    "leases": _default_lease,
}
