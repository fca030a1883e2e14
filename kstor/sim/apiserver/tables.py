"""Server-side Table printing (`kubectl get`), column for column as pkg/printers/internalversion/printers.go.

`build_table()` returns the column definitions and one list of cells per object; the HTTP layer wraps
them into a meta.k8s.io/v1 Table. Real servers always print with `Wide: true` and let kubectl hide the
priority-1 columns unless `-o wide` is asked for; `wide=False` here drops them on the server instead.
Ages are `duration.HumanDuration` of now - creationTimestamp, as real servers compute them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from typing import Any, NamedTuple

from kstor.sim.clock import parse_timestamp

Obj = dict[str, Any]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. "
    "Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\n"
    "Populated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


class Column(NamedTuple):
    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME = Column("Name", format="name", description=_NAME_DOC)
AGE = Column("Age", description=_AGE_DOC)
CONTAINERS = Column("Containers", priority=1, description="Names of each container in the template.")
IMAGES = Column("Images", priority=1, description="Images referenced by each container in the template.")


# --- formatting helpers ---------------------------------------------------------------------------
def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    whole = int(seconds)  # Go's int(d.Seconds()) truncates toward zero
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return f"{minutes}m" if whole % 60 == 0 else f"{minutes}m{whole % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: Any, now: datetime) -> str:
    """translateTimestampSince: `<unknown>` for a missing or unreadable timestamp."""
    if not isinstance(timestamp, str) or not timestamp:
        return "<unknown>"
    try:
        then = parse_timestamp(timestamp)
    except ValueError:
        return "<unknown>"
    return human_duration((now - then).total_seconds())


_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}


class Quantity(NamedTuple):
    value: Fraction
    format: str  # "BinarySI" | "DecimalSI" | "DecimalExponent"


def parse_quantity(text: Any) -> Quantity | None:
    """resource.ParseQuantity, or None when the text is not a quantity."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        text = repr(text) if isinstance(text, float) else str(text)
    if not isinstance(text, str):
        return None
    s = text.strip()
    if not s or s != text:
        return None
    i = 0
    if s[0] in "+-":
        i = 1
    j = i
    while j < len(s) and (s[j].isdigit() or s[j] == "."):
        j += 1
    number, suffix = s[:j], s[j:]
    if number in ("", "+", "-", ".") or number.count(".") > 1 or not any(c.isdigit() for c in number):
        return None
    value = Fraction(number)
    if suffix in _BINARY:
        return Quantity(value * 1024 ** _BINARY[suffix], "BinarySI")
    if suffix in _DECIMAL:
        return Quantity(value * Fraction(10) ** _DECIMAL[suffix], "DecimalSI")
    if suffix[:1] in ("e", "E"):
        exponent = suffix[1:]
        if exponent.lstrip("+-").isdigit():
            return Quantity(value * Fraction(10) ** int(exponent), "DecimalExponent")
    return None


def format_quantity(text: Any) -> str:
    """Quantity.String() of a parsed quantity: the canonical form (`1024Mi` → `1Gi`, `1000M` → `1G`)."""
    if isinstance(text, str):
        return _format_text(text)  # the same few sizes recur across thousands of objects
    return _format_quantity(text)


@functools.lru_cache(maxsize=1024)
def _format_text(text: str) -> str:
    return _format_quantity(text)


def _format_quantity(text: Any) -> str:
    quantity = parse_quantity(text)
    if quantity is None:
        return str(text) if text is not None else "0"
    value, fmt = quantity
    # Quantities keep nano precision and round up (away from zero) beyond it.
    nanos = value * 10**9
    if nanos.denominator != 1:
        value = Fraction(math.ceil(nanos) if nanos > 0 else math.floor(nanos), 10**9)
    if fmt == "BinarySI" and (-1024 < value < 1024 or value.denominator != 1):
        fmt = "DecimalSI"
    if fmt == "BinarySI":
        number, exp = int(value), 0
        while exp < 6 and number != 0 and number % 1024 == 0:
            number, exp = number // 1024, exp + 1
        suffix = {v: k for k, v in _BINARY.items()}.get(exp, "")
        return f"{number}{suffix}"
    mantissa, exp = int(value * 10**9), -9
    while mantissa != 0 and mantissa % 1000 == 0 and exp < 18:
        mantissa, exp = mantissa // 1000, exp + 3
    if mantissa == 0:
        exp = 0
    if fmt == "DecimalExponent":
        return f"{mantissa}" if exp == 0 else f"{mantissa}e{exp}"
    return f"{mantissa}{_DECIMAL_SUFFIX[exp]}"


_MODE_ABBREVIATIONS = [
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
]


def access_modes(modes: Any) -> str:
    """helper.GetAccessModesAsString: fixed order, duplicates dropped."""
    present = set(modes) if isinstance(modes, list) else set()
    return ",".join(short for mode, short in _MODE_ABBREVIATIONS if mode in present)


def _selector_requirement(expression: Obj) -> str:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = ",".join(sorted(str(v) for v in expression.get("values") or []))
    return {
        "In": f"{key} in ({values})",
        "NotIn": f"{key} notin ({values})",
        "Exists": key,
        "DoesNotExist": f"!{key}",
    }.get(operator, f"{key} {operator} ({values})")


def format_selector(selector: Any) -> str:
    """metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key, comma-joined."""
    if not isinstance(selector, dict):
        return ""
    requirements: list[tuple[str, str]] = [
        (str(k), f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()
    ]
    for expression in selector.get("matchExpressions") or []:
        if isinstance(expression, dict):
            requirements.append((str(expression.get("key", "")), _selector_requirement(expression)))
    return ",".join(text for _, text in sorted(requirements, key=lambda item: item[0]))


def _containers(template: Any) -> tuple[str, str]:
    """layoutContainerCells: names and images, comma-joined."""
    spec = (template or {}).get("spec") or {} if isinstance(template, dict) else {}
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    return ",".join(str(c.get("name", "")) for c in containers), ",".join(
        str(c.get("image", "")) for c in containers
    )


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _part(obj: Obj, key: str) -> Obj:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _age(obj: Obj, now: datetime) -> str:
    return since(_meta(obj).get("creationTimestamp"), now)


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --- pods ------------------------------------------------------------------------------------------
def _restartable(container: Obj | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition_true(conditions: Any, kind: str) -> bool:
    return any(
        isinstance(c, dict) and c.get("type") == kind and c.get("status") == "True" for c in conditions or []
    )


def _terminated_reason(terminated: Obj, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if _int(terminated.get("signal")):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{_int(terminated.get('exitCode'))}"


class _PodCount(NamedTuple):
    reason: str
    ready: int
    total: int
    restarts: int
    last_restart: str


def _pod_status(pod: Obj) -> _PodCount:
    """printPod's STATUS/READY/RESTARTS computation."""
    spec, status = _part(pod, "spec"), _part(pod, "status")
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or [] if isinstance(c, dict)}
    total = len(containers) + sum(1 for c in init_specs.values() if _restartable(c))
    reason = status.get("reason") or status.get("phase") or ""
    if any(
        isinstance(c, dict) and c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in status.get("conditions") or []
    ):
        reason = "SchedulingGated"
    restarts = ready = sidecar_restarts = 0
    last, sidecar_last = "", ""
    initializing = False
    init_statuses = [c for c in status.get("initContainerStatuses") or [] if isinstance(c, dict)]
    for index, cs in enumerate(init_statuses):
        restarts += _int(cs.get("restartCount"))
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or ""
        last = max(last, finished)
        sidecar = _restartable(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += _int(cs.get("restartCount"))
            sidecar_last = max(sidecar_last, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated") or None, state.get("waiting") or None
        if terminated is not None and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    if not initializing or _condition_true(status.get("conditions"), "Initialized"):
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed([c for c in status.get("containerStatuses") or [] if isinstance(c, dict)]):
            restarts += _int(cs.get("restartCount"))
            finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or ""
            last = max(last, finished)
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting") or None, state.get("terminated") or None
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status.get("conditions"), "Ready") else "NotReady"
    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return _PodCount(reason, ready, total, restarts, last)


def _pod_row(pod: Obj, now: datetime) -> list[Any]:
    counts = _pod_status(pod)
    restarts = str(counts.restarts)
    if counts.restarts and counts.last_restart:
        restarts = f"{counts.restarts} ({since(counts.last_restart, now)} ago)"
    spec, status = _part(pod, "spec"), _part(pod, "status")
    ips = [ip.get("ip") for ip in status.get("podIPs") or [] if isinstance(ip, dict)]
    gates = [g.get("conditionType") for g in spec.get("readinessGates") or [] if isinstance(g, dict)]
    readiness = "<none>"
    if gates:
        conditions = {
            c.get("type"): c.get("status") for c in status.get("conditions") or [] if isinstance(c, dict)
        }
        readiness = f"{sum(1 for g in gates if conditions.get(g) == 'True')}/{len(gates)}"
    return [
        _meta(pod).get("name", ""),
        f"{counts.ready}/{counts.total}",
        counts.reason,
        restarts,
        _age(pod, now),
        (ips[0] if ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness,
    ]


# --- storage ----------------------------------------------------------------------------------------
_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"


def _pv_row(pv: Obj, now: datetime) -> list[Any]:
    meta, spec, status = _meta(pv), _part(pv, "spec"), _part(pv, "status")
    claim = _part(spec, "claimRef")
    claim_text = (
        f"{claim.get('namespace', '')}/{claim.get('name', '')}" if "claimRef" in spec and claim else ""
    )
    phase = "Terminating" if meta.get("deletionTimestamp") else status.get("phase", "")
    annotations = meta.get("annotations") or {}
    storage_class = (
        annotations[_BETA_CLASS] if _BETA_CLASS in annotations else spec.get("storageClassName") or ""
    )
    return [
        meta.get("name", ""),
        format_quantity(_part(spec, "capacity").get("storage", "0")),
        access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim_text,
        storage_class,
        spec.get("volumeAttributesClassName")
        if spec.get("volumeAttributesClassName") is not None
        else "<unset>",
        status.get("reason", ""),
        _age(pv, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _pvc_row(pvc: Obj, now: datetime) -> list[Any]:
    meta, spec, status = _meta(pvc), _part(pvc, "spec"), _part(pvc, "status")
    phase = "Terminating" if meta.get("deletionTimestamp") else status.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        capacity = format_quantity(_part(status, "capacity").get("storage", "0"))
        modes = access_modes(status.get("accessModes"))
    annotations = meta.get("annotations") or {}
    storage_class = (
        annotations[_BETA_CLASS] if _BETA_CLASS in annotations else spec.get("storageClassName") or ""
    )
    vac = spec.get("volumeAttributesClassName")
    return [
        meta.get("name", ""),
        phase,
        spec.get("volumeName", ""),
        capacity,
        modes,
        storage_class,
        vac if vac is not None else "<unset>",
        _age(pvc, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _storageclass_row(sc: Obj, now: datetime) -> list[Any]:
    annotations = _meta(sc).get("annotations") or {}
    default = "true" in (
        annotations.get("storageclass.kubernetes.io/is-default-class"),
        annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
    )
    return [
        _meta(sc).get("name", "") + (" (default)" if default else ""),
        sc.get("provisioner", ""),
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion") or False),
        _age(sc, now),
    ]


def _volumeattachment_row(va: Obj, now: datetime) -> list[Any]:
    spec = _part(va, "spec")
    return [
        _meta(va).get("name", ""),
        spec.get("attacher", ""),
        _part(spec, "source").get("persistentVolumeName") or "",
        spec.get("nodeName", ""),
        bool(_part(va, "status").get("attached") or False),
        _age(va, now),
    ]


def _csidriver_row(driver: Obj, now: datetime) -> list[Any]:
    spec = _part(driver, "spec")
    tokens = spec.get("tokenRequests")
    token_text = "<unset>"
    if tokens is not None:
        token_text = ",".join(str(t.get("audience", "")) for t in tokens if isinstance(t, dict))
    modes = ",".join(str(m) for m in spec.get("volumeLifecycleModes") or []) or "<none>"
    return [
        _meta(driver).get("name", ""),
        spec.get("attachRequired") if isinstance(spec.get("attachRequired"), bool) else True,
        bool(spec.get("podInfoOnMount") or False),
        bool(spec.get("storageCapacity") or False),
        token_text,
        bool(spec.get("requiresRepublish") or False),
        modes,
        _age(driver, now),
    ]


def _csinode_row(csinode: Obj, now: datetime) -> list[Any]:
    drivers = _part(csinode, "spec").get("drivers")
    return [
        _meta(csinode).get("name", ""),
        len(drivers) if isinstance(drivers, list) else 0,
        _age(csinode, now),
    ]


# --- nodes, namespaces, events -----------------------------------------------------------------------
def _node_roles(labels: Obj) -> str:
    roles: set[str] = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    return ",".join(sorted(roles)) or "<none>"


def _node_address(status: Obj, kind: str) -> str:
    for address in status.get("addresses") or []:
        if isinstance(address, dict) and address.get("type") == kind:
            return str(address.get("address", ""))
    return "<none>"


def _node_row(node: Obj, now: datetime) -> list[Any]:
    meta, spec, status = _meta(node), _part(node, "spec"), _part(node, "status")
    ready = [c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type") == "Ready"]
    state = ["Unknown"]
    if ready:
        state = ["Ready" if ready[-1].get("status") == "True" else "NotReady"]
    if spec.get("unschedulable"):
        state.append("SchedulingDisabled")
    info = _part(status, "nodeInfo")
    return [
        meta.get("name", ""),
        ",".join(state),
        _node_roles(meta.get("labels") or {}),
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(status, "InternalIP"),
        _node_address(status, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _namespace_row(namespace: Obj, now: datetime) -> list[Any]:
    return [
        _meta(namespace).get("name", ""),
        _part(namespace, "status").get("phase", ""),
        _age(namespace, now),
    ]


def _event_row(event: Obj, now: datetime) -> list[Any]:
    first = since(event.get("firstTimestamp"), now)
    if not event.get("firstTimestamp"):
        first = since(event.get("eventTime"), now)
    last = since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = _int(event.get("count"))
    series = event.get("series")
    if isinstance(series, dict):
        last, count = since(series.get("lastObservedTime"), now), _int(series.get("count"))
    elif count == 0:
        count = 1
    involved = _part(event, "involvedObject")
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = _part(event, "source")
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [
        last,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {instance}" if instance else component,
        str(event.get("message", "")).strip(),
        first,
        count,
        _meta(event).get("name", ""),
    ]


# --- workloads, policy, coordination ----------------------------------------------------------------
def _deployment_row(deployment: Obj, now: datetime) -> list[Any]:
    spec, status = _part(deployment, "spec"), _part(deployment, "status")
    names, images = _containers(spec.get("template"))
    return [
        _meta(deployment).get("name", ""),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        _age(deployment, now),
        names,
        images,
        format_selector(spec.get("selector")),
    ]


def _replicaset_row(replicaset: Obj, now: datetime) -> list[Any]:
    spec, status = _part(replicaset, "spec"), _part(replicaset, "status")
    names, images = _containers(spec.get("template"))
    return [
        _meta(replicaset).get("name", ""),
        _int(spec.get("replicas"), 1),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _age(replicaset, now),
        names,
        images,
        format_selector(spec.get("selector")) or "<none>",
    ]


def _statefulset_row(statefulset: Obj, now: datetime) -> list[Any]:
    spec, status = _part(statefulset, "spec"), _part(statefulset, "status")
    names, images = _containers(spec.get("template"))
    return [
        _meta(statefulset).get("name", ""),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}",
        _age(statefulset, now),
        names,
        images,
    ]


def _pdb_row(pdb: Obj, now: datetime) -> list[Any]:
    spec = _part(pdb, "spec")
    min_available = str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A"
    max_unavailable = str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A"
    return [
        _meta(pdb).get("name", ""),
        min_available,
        max_unavailable,
        _int(_part(pdb, "status").get("disruptionsAllowed")),
        _age(pdb, now),
    ]


def _lease_row(lease: Obj, now: datetime) -> list[Any]:
    return [_meta(lease).get("name", ""), _part(lease, "spec").get("holderIdentity") or "", _age(lease, now)]


def _generic_row(obj: Obj, now: datetime) -> list[Any]:
    return [_meta(obj).get("name", ""), _age(obj, now)]


Row = Callable[[Obj, datetime], list[Any]]

_TABLES: dict[str, tuple[list[Column], Row]] = {
    "pods": (
        [
            NAME,
            Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
            Column("Status", description="The aggregate status of the containers in this pod."),
            Column(
                "Restarts",
                description="The number of times the containers in this pod have been restarted and when the "
                "last container in this pod has restarted.",
            ),
            AGE,
            Column("IP", priority=1, description="podIP address allocated to the pod."),
            Column("Node", priority=1, description="NodeName indicates in which node this pod is scheduled."),
            Column(
                "Nominated Node",
                priority=1,
                description="nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            Column(
                "Readiness Gates",
                priority=1,
                description="If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        _pod_row,
    ),
    "persistentvolumes": (
        [
            NAME,
            Column(
                "Capacity", description="capacity is the description of the persistent volume's resources."
            ),
            Column("Access Modes", description="accessModes contains all ways the volume can be mounted."),
            Column(
                "Reclaim Policy",
                description="persistentVolumeReclaimPolicy defines what happens to a "
                "persistent volume when released from its claim.",
            ),
            Column(
                "Status",
                description="phase indicates if a volume is available, bound to a claim, or "
                "released by a claim.",
            ),
            Column(
                "Claim",
                description="claimRef is part of a bi-directional binding between "
                "PersistentVolume and PersistentVolumeClaim.",
            ),
            Column("StorageClass", description="StorageClass of the pv"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
            Column("Reason", description="reason is a brief CamelCase string that describes any failure."),
            AGE,
            Column(
                "VolumeMode",
                priority=1,
                description="volumeMode defines if a volume is intended to be used "
                "with a formatted filesystem or to remain in raw block state.",
            ),
        ],
        _pv_row,
    ),
    "persistentvolumeclaims": (
        [
            NAME,
            Column("Status", description="phase represents the current phase of PersistentVolumeClaim."),
            Column(
                "Volume",
                description="volumeName is the binding reference to the PersistentVolume backing this claim.",
            ),
            Column(
                "Capacity", description="capacity represents the actual resources of the underlying volume."
            ),
            Column(
                "Access Modes",
                description="accessModes contains the actual access modes the volume backing the PVC has.",
            ),
            Column("StorageClass", description="StorageClass of the pvc"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
            AGE,
            Column(
                "VolumeMode",
                priority=1,
                description="volumeMode defines what type of volume is required by the claim.",
            ),
        ],
        _pvc_row,
    ),
    "nodes": (
        [
            NAME,
            Column("Status", description="The status of the node"),
            Column("Roles", description="The roles of the node"),
            AGE,
            Column("Version", description="Kubelet Version reported by the node."),
            Column("Internal-IP", priority=1, description="List of addresses reachable to the node."),
            Column("External-IP", priority=1, description="List of addresses reachable to the node."),
            Column("OS-Image", priority=1, description="OS Image reported by the node from /etc/os-release."),
            Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
            Column(
                "Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node."
            ),
        ],
        _node_row,
    ),
    "namespaces": ([NAME, Column("Status", description="The status of the namespace"), AGE], _namespace_row),
    "events": (
        [
            Column(
                "Last Seen",
                description="The time at which the most recent occurrence of this event was recorded.",
            ),
            Column(
                "Type",
                description="Type of this event (Normal, Warning), new types could be added in the future",
            ),
            Column(
                "Reason",
                description="This should be a short, machine understandable string that gives the "
                "reason for the transition into the object's current status.",
            ),
            Column("Object", description="The object that this event is about."),
            Column(
                "Subobject",
                priority=1,
                description="If referring to a piece of an object instead of an "
                "entire object, this string should contain a valid JSON/Go field access statement.",
            ),
            Column("Source", priority=1, description="The component reporting this event."),
            Column("Message", description="A human-readable description of the status of this operation."),
            Column("First Seen", priority=1, description="The time at which the event was first recorded."),
            Column("Count", priority=1, description="The number of times this event has occurred."),
            Column("Name", priority=1, format="name", description=_NAME_DOC),
        ],
        _event_row,
    ),
    "storageclasses": (
        [
            NAME,
            Column("Provisioner", description="provisioner indicates the type of the provisioner."),
            Column(
                "ReclaimPolicy",
                description="reclaimPolicy controls the reclaimPolicy for dynamically "
                "provisioned PersistentVolumes of this storage class.",
            ),
            Column(
                "VolumeBindingMode",
                description="volumeBindingMode indicates how PersistentVolumeClaims "
                "should be provisioned and bound.",
            ),
            Column(
                "AllowVolumeExpansion",
                description="allowVolumeExpansion shows whether the storage class allow volume expand.",
            ),
            AGE,
        ],
        _storageclass_row,
    ),
    "volumeattachments": (
        [
            NAME,
            Column(
                "Attacher",
                format="name",
                description="attacher indicates the name of the volume driver that MUST handle this request.",
            ),
            Column(
                "PV",
                description="persistentVolumeName represents the name of the persistent volume to attach.",
            ),
            Column("Node", description="nodeName represents the node that the volume should be attached to."),
            Column(
                "Attached",
                type="boolean",
                description="attached indicates the volume is successfully attached.",
            ),
            AGE,
        ],
        _volumeattachment_row,
    ),
    "csidrivers": (
        [
            NAME,
            Column(
                "AttachRequired",
                type="boolean",
                description="attachRequired indicates this CSI volume driver requires an attach operation.",
            ),
            Column(
                "PodInfoOnMount",
                type="boolean",
                description="podInfoOnMount indicates this CSI volume "
                "driver requires additional pod information during mount operations.",
            ),
            Column(
                "StorageCapacity",
                type="boolean",
                description="storageCapacity indicates that the CSI volume "
                "driver wants pod scheduling to consider the storage capacity.",
            ),
            Column(
                "TokenRequests",
                description="tokenRequests indicates the CSI driver needs pods' service "
                "account tokens it is mounting volume for to do necessary authentication.",
            ),
            Column(
                "RequiresRepublish",
                type="boolean",
                description="requiresRepublish indicates the CSI driver "
                "wants NodePublishVolume being periodically called.",
            ),
            Column(
                "Modes",
                description="volumeLifecycleModes defines what kind of volumes this CSI volume driver "
                "supports.",
            ),
            AGE,
        ],
        _csidriver_row,
    ),
    "csinodes": (
        [
            NAME,
            Column(
                "Drivers",
                type="integer",
                description="Drivers indicates the number of CSI drivers registered on the node",
            ),
            AGE,
        ],
        _csinode_row,
    ),
    "deployments": (
        [
            NAME,
            Column("Ready", description="Number of the pod with ready state"),
            Column(
                "Up-to-date",
                description="Total number of non-terminated pods targeted by this deployment "
                "that have the desired template spec.",
            ),
            Column(
                "Available",
                description="Total number of available pods (ready for at least minReadySeconds) "
                "targeted by this deployment.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            Column("Selector", priority=1, description="Label selector for pods."),
        ],
        _deployment_row,
    ),
    "replicasets": (
        [
            NAME,
            Column("Desired", type="integer", description="Replicas is the number of desired replicas."),
            Column(
                "Current",
                type="integer",
                description="Replicas is the most recently observed number of replicas.",
            ),
            Column("Ready", type="integer", description="The number of ready replicas for this replica set."),
            AGE,
            CONTAINERS,
            IMAGES,
            Column(
                "Selector",
                priority=1,
                description="Selector is a label query over pods that should match the replica count.",
            ),
        ],
        _replicaset_row,
    ),
    "statefulsets": (
        [NAME, Column("Ready", description="Number of the pod with ready state"), AGE, CONTAINERS, IMAGES],
        _statefulset_row,
    ),
    "poddisruptionbudgets": (
        [
            NAME,
            Column("Min Available", description="The minimum number of pods that must be available."),
            Column("Max Unavailable", description="The maximum number of pods that may be unavailable."),
            Column(
                "Allowed Disruptions",
                type="integer",
                description="Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ],
        _pdb_row,
    ),
    "leases": (
        [
            NAME,
            Column(
                "Holder", description="holderIdentity contains the identity of the holder of a current lease."
            ),
            AGE,
        ],
        _lease_row,
    ),
}


def build_table(
    plural: str, objects: list[dict], now: datetime, *, wide: bool
) -> tuple[list[dict], list[list[Any]]]:
    """Column definitions and one row of cells per object, as the API server prints `plural`."""
    columns, row = _TABLES.get(plural, ([NAME, AGE], _generic_row))
    keep = [i for i, column in enumerate(columns) if wide or column.priority == 0]
    definitions = [columns[i].definition() for i in keep]
    rows = []
    for obj in objects:
        cells = row(obj if isinstance(obj, dict) else {}, now)
        rows.append([cells[i] for i in keep])
    return definitions, rows
