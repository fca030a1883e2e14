"""The Kubernetes resources kstor reads and writes: where each lives in the REST API."""

from __future__ import annotations

from dataclasses import dataclass

from kstor.errors import KstorError


@dataclass(frozen=True, slots=True)
class ResourceKind:
    kind: str
    plural: str
    version: str
    group: str = ""
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base


_ALL = [
    ResourceKind("StorageClass", "storageclasses", "v1", "storage.k8s.io", namespaced=False),
    ResourceKind("CSIDriver", "csidrivers", "v1", "storage.k8s.io", namespaced=False),
    ResourceKind("CSINode", "csinodes", "v1", "storage.k8s.io", namespaced=False),
    ResourceKind("VolumeAttachment", "volumeattachments", "v1", "storage.k8s.io", namespaced=False),
    ResourceKind("PersistentVolume", "persistentvolumes", "v1", namespaced=False),
    ResourceKind("PersistentVolumeClaim", "persistentvolumeclaims", "v1"),
    ResourceKind("Pod", "pods", "v1"),
    ResourceKind("Node", "nodes", "v1", namespaced=False),
    ResourceKind("Namespace", "namespaces", "v1", namespaced=False),
    ResourceKind("Event", "events", "v1"),
    ResourceKind("Deployment", "deployments", "v1", "apps"),
    ResourceKind("ReplicaSet", "replicasets", "v1", "apps"),
    ResourceKind("StatefulSet", "statefulsets", "v1", "apps"),
    ResourceKind("PodDisruptionBudget", "poddisruptionbudgets", "v1", "policy"),
]
KINDS: dict[str, ResourceKind] = {k.kind: k for k in _ALL}
_ALIASES = {k.plural: k.kind for k in _ALL} | {k.kind.lower(): k.kind for k in _ALL} | {
    "pvc": "PersistentVolumeClaim",
    "pv": "PersistentVolume",
    "sc": "StorageClass",
    "va": "VolumeAttachment",
    "deploy": "Deployment",
    "sts": "StatefulSet",
    "pdb": "PodDisruptionBudget",
}

# What the dashboard watches, in the order the informers start (small, cluster-wide kinds first).
WATCHED_KINDS: tuple[str, ...] = (
    "StorageClass",
    "CSIDriver",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "VolumeAttachment",
    "Pod",
    "Event",
)

STORAGE_EVENT_OBJECT_KINDS = frozenset(
    {"PersistentVolumeClaim", "PersistentVolume", "Pod", "VolumeAttachment", "Node", "StorageClass"}
)
# Reasons that concern storage even when the involved object is of another kind (or when pod events
# are too noisy to keep them all); from the PV controller, scheduler, attach/detach, kubelet, provisioners.
STORAGE_EVENT_REASONS = frozenset(
    {
        "WaitForFirstConsumer", "WaitForPodScheduled", "FailedBinding", "VolumeMismatch", "ClaimLost",
        "ClaimMisbound", "ProvisioningFailed", "ProvisioningSucceeded", "Provisioning",
        "ExternalProvisioning", "VolumeFailedDelete", "VolumeRecycled", "VolumeFailedRecycle",
        "VolumeUnknownReclaimPolicy", "SuccessfulAttachVolume", "FailedAttachVolume",
        "SuccessfulDetachVolume", "FailedDetachVolume", "FailedMount", "FailedUnMount",
        "FailedMapVolume", "SuccessfulMountVolume", "VolumeResizeFailed", "FileSystemResizeFailed",
        "FailedScheduling", "NodeNotReady", "NodeReady", "Evicted",
    }
)


def resolve_kind(name: str) -> ResourceKind:
    """A kind by its name, plural or short name (`pvc`, `pods`, `PersistentVolume`)."""
    kind = KINDS.get(name) or KINDS.get(_ALIASES.get(name.lower(), ""))
    if kind is None:
        raise KstorError(f"unknown resource kind {name!r}; known: {', '.join(sorted(KINDS))}")
    return kind


def is_storage_event(event: dict) -> bool:
    """True for events about storage objects or with a storage-related reason."""
    involved = event.get("involvedObject") or {}
    return involved.get("kind") in STORAGE_EVENT_OBJECT_KINDS or event.get("reason") in STORAGE_EVENT_REASONS
