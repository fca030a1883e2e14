"""Public types of the storage topology model: immutable rows, explicit states, evidence, findings.

Everything here is a frozen dataclass or an enum so a snapshot can be shared with the UI and the
drill runner without copies; rows that did not change between two snapshots are the *same* objects
(`old_row is new_row`), which is how consumers diff cheaply.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any, Literal

# Kubernetes kinds the model reads (the `kind` of a Change and of ObjectSource lookups).
STORAGE_CLASS = "StorageClass"
CSI_DRIVER = "CSIDriver"
PV = "PersistentVolume"
PVC = "PersistentVolumeClaim"
VOLUME_ATTACHMENT = "VolumeAttachment"
POD = "Pod"
NODE = "Node"
EVENT = "Event"
KINDS = (STORAGE_CLASS, CSI_DRIVER, PV, PVC, VOLUME_ATTACHMENT, POD, NODE, EVENT)
CLUSTER_SCOPED = frozenset({STORAGE_CLASS, CSI_DRIVER, PV, VOLUME_ATTACHMENT, NODE})


class ChangeType(StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Change:
    """One watch event as the Store applied it. For DELETED, `obj` is the last known object."""

    kind: str
    type: ChangeType
    obj: dict[str, Any]


@dataclass(frozen=True, slots=True, order=True)
class ObjRef:
    """Names one Kubernetes object. `namespace` is "" for cluster-scoped kinds."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        short = _SHORT_KIND.get(self.kind, self.kind.lower())
        return f"{short}/{self.namespace}/{self.name}" if self.namespace else f"{short}/{self.name}"


_SHORT_KIND = {
    PV: "pv",
    PVC: "pvc",
    POD: "pod",
    NODE: "node",
    VOLUME_ATTACHMENT: "va",
    STORAGE_CLASS: "sc",
    CSI_DRIVER: "csidriver",
    EVENT: "event",
}

EvidenceSource = Literal["field", "condition", "event", "annotation"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the model believes a state: a field path, condition type, event reason or annotation key.

    For events, `value` is the message and `count` the aggregated count (client-go folds repeats).
    `timestamp` is the RFC 3339 string as the API returned it (lastTimestamp for events).
    """

    source: EvidenceSource
    path_or_reason: str
    value: str
    timestamp: str | None = None
    count: int | None = None


# --- binding ---------------------------------------------------------------------------------


class BindingPhase(StrEnum):
    BOUND = "Bound"
    PENDING = "Pending"
    LOST = "Lost"
    AVAILABLE = "Available"  # PV only
    RELEASED = "Released"  # PV only
    FAILED = "Failed"  # PV only
    TERMINATING = "Terminating"  # deletionTimestamp set, held by finalizers (PV or PVC)


class PendingReason(StrEnum):
    WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
    NO_MATCHING_VOLUME = "NoMatchingVolume"
    PROVISIONING = "Provisioning"
    PROVISIONER_MISSING = "ProvisionerMissing"
    PROVISIONING_FAILED = "ProvisioningFailed"
    CLAIM_MISSING = "ClaimMissing"  # a pod names a PVC that does not exist


@dataclass(frozen=True, slots=True)
class BindingState:
    """Where a PVC or PV stands in binding. `reason` only for Pending; `held_by` only for Terminating
    (finalizers, then `pvc/<ns>/<name>` / `pod/<ns>/<name>` that keep them in place)."""

    phase: BindingPhase
    message: str
    evidence: tuple[Evidence, ...] = ()
    reason: PendingReason | None = None
    held_by: tuple[str, ...] = ()


# --- attach ----------------------------------------------------------------------------------


class AttachPhase(StrEnum):
    NOT_REQUIRED = "NotRequired"  # NFS, hostPath, local, CSI driver with attachRequired=false, inline CSI
    NOT_ATTACHED = "NotAttached"  # needs attach but no node yet (pod unscheduled) or already detached
    ATTACHING = "Attaching"
    ATTACHED = "Attached"
    DETACHING = "Detaching"
    ATTACH_ERROR = "AttachError"
    MULTI_ATTACH = "MultiAttach"


@dataclass(frozen=True, slots=True)
class AttachState:
    phase: AttachPhase
    message: str
    evidence: tuple[Evidence, ...] = ()
    attachment: str | None = None  # VolumeAttachment name, when there is one
    other_nodes: tuple[str, ...] = ()  # MultiAttach: nodes the volume is attached to instead
    other_pods: tuple[str, ...] = ()  # MultiAttach: pods named by the Multi-Attach event


# --- mount -----------------------------------------------------------------------------------


class MountPhase(StrEnum):
    MOUNTED = "Mounted"
    MOUNTING = "Mounting"
    MOUNT_FAILED = "MountFailed"
    UNMOUNTING = "Unmounting"
    NOT_MOUNTED = "NotMounted"


@dataclass(frozen=True, slots=True)
class MountState:
    phase: MountPhase
    message: str
    evidence: tuple[Evidence, ...] = ()
    path: str | None = None  # host path of the mount (known or computed the kubelet's way)


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """A PersistentVolumeClaim. `storage_class` is the effective class (beta annotation wins)."""

    ref: ObjRef
    uid: str
    phase: str  # status.phase as the API says it
    storage_class: str | None  # None: no class at all; "" means explicitly no class
    class_exists: bool
    volume_name: str  # spec.volumeName ("" when unbound)
    requested: str  # spec.resources.requests.storage
    capacity: str  # status.capacity.storage
    access_modes: tuple[str, ...]
    created: str  # metadata.creationTimestamp
    deleting: bool
    binding: BindingState  # the pods using it: Topology.claim_users[(ns, name)]


@dataclass(frozen=True, slots=True)
class VolumeRow:
    """A PersistentVolume. `plugin` is csi | nfs | hostPath | local | <other in-tree key>."""

    name: str
    uid: str
    phase: str
    storage_class: str
    plugin: str
    driver: str  # CSI driver name, or "" for non-CSI volumes
    claim: ObjRef | None  # spec.claimRef
    claim_uid: str
    reclaim_policy: str
    capacity: str
    access_modes: tuple[str, ...]
    finalizers: tuple[str, ...]
    created: str
    deleting: bool
    attach_required: bool
    binding: BindingState
    source_detail: str = ""  # e.g. "nfs 10.0.0.5:/export/x", "csi hostpath.csi.k8s.io vol-1"

    @property
    def ref(self) -> ObjRef:
        return ObjRef(PV, "", self.name)


@dataclass(frozen=True, slots=True)
class VolumeUse:
    """One volume of one pod with its three states. `binding` is None for inline volumes (no claim)."""

    pod: ObjRef
    volume: str  # the pod's volume name
    kind: str  # "pvc" | "nfs" | "hostPath" | "csi" (inline) | other inline source key
    claim: ClaimRow | None
    pv: VolumeRow | None
    storage_class: str | None
    binding: BindingState | None
    attach: AttachState
    mount: MountState
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class PodRow:
    ref: ObjRef
    uid: str
    node: str  # spec.nodeName, "" when unscheduled
    phase: str  # status.phase
    status: str  # what kubectl's STATUS column would say: Running, ContainerCreating, Terminating...
    deleting: bool
    owner: str  # "<Kind>/<name>" of the first ownerReference, or ""
    volumes: tuple[VolumeUse, ...]  # storage volumes only (PVC, NFS, hostPath, CSI, ...)
    ready: bool = False  # the Ready condition (a Running pod can be unready, e.g. NFS hung)


class NodeReady(StrEnum):
    READY = "Ready"
    NOT_READY = "NotReady"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


@dataclass(frozen=True, slots=True)
class NodeRow:
    """A node and the pods (with storage) on it. `exists` is False when pods name a node that is gone."""

    name: str
    exists: bool
    ready: NodeReady
    ready_evidence: Evidence | None
    cordoned: bool
    taints: tuple[Taint, ...]
    zone: str
    volumes_attached: tuple[str, ...]  # status.volumesAttached[].name
    volumes_in_use: tuple[str, ...]  # status.volumesInUse
    pods: tuple[PodRow, ...]  # sorted by (namespace, name); pods without storage volumes included


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    """A VolumeAttachment."""

    name: str
    attacher: str
    node: str
    pv: str
    attached: bool
    deleting: bool
    attach_error: str
    detach_error: str
    finalizers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClassInfo:
    name: str
    provisioner: str
    reclaim_policy: str  # default Delete
    binding_mode: str  # default Immediate
    is_default: bool
    allow_expansion: bool
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DriverInfo:
    name: str
    attach_required: bool  # default True
    pod_info_on_mount: bool = False


# --- findings --------------------------------------------------------------------------------


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class FindingKind(StrEnum):
    PV_TERMINATING = "PVTerminating"
    PVC_TERMINATING = "PVCTerminating"
    RELEASED_RETAINED = "ReleasedRetained"
    PVC_PENDING = "PVCPending"
    CLAIM_LOST = "ClaimLost"
    MULTI_ATTACH = "MultiAttach"
    ATTACH_ERROR = "AttachError"
    FAILED_MOUNT = "FailedMount"
    NODE_UNHEALTHY_WITH_VOLUMES = "NodeUnhealthyWithVolumes"
    ORPHANED_ATTACHMENT = "OrphanedAttachment"
    MALFORMED_OBJECT = "MalformedObject"  # an object whose shape the model cannot read (left out)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    severity: Severity
    objects: tuple[ObjRef, ...]
    message: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class SteadyResult:
    ok: bool
    problems: list[str] = field(default_factory=list)


# --- construction speed ----------------------------------------------------------------------
def _slot_init(cls: type) -> Any:
    """An __init__ for a frozen slots dataclass that sets each slot through its descriptor (what the
    generated one does through object.__setattr__, about twice as slow). Same signature, defaults
    and behaviour: instances stay frozen. The model builds a few of these per changed object."""
    names = [f.name for f in fields(cls)]
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    params = ", ".join(f"{n}=_default_{n}" if n in defaults else n for n in names)
    body = "\n".join(f"        _set_{n}(self, {n})" for n in names)
    setters = "\n".join(f"    _set_{n} = slots[{n!r}].__set__" for n in names)
    src = f"def make(slots):\n{setters}\n    def __init__(self, {params}):\n{body}\n    return __init__\n"
    namespace: dict[str, Any] = {f"_default_{n}": v for n, v in defaults.items()}
    exec(src, namespace)  # the source is built from the dataclass's own field names only
    init = namespace["make"]({n: cls.__dict__[n] for n in names})
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    return init


for _cls in (
    Change,
    ObjRef,
    Evidence,
    BindingState,
    AttachState,
    MountState,
    ClaimRow,
    VolumeRow,
    VolumeUse,
    PodRow,
    Taint,
    NodeRow,
    AttachmentRow,
    ClassInfo,
    DriverInfo,
    Finding,
):
    _cls.__init__ = _slot_init(_cls)  # type: ignore[misc]
