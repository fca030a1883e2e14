"""The kinds the embedded API server serves: group/version, kind, scope, names, subresources.

Resources are named by their plural, which is unique across these kinds (see docs/sim-internals.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    group: str
    version: str
    namespaced: bool
    singular: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # e.g. status, scale, eviction
    verbs: tuple[str, ...] = field(default=ALL_VERBS)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def group_resource(self) -> str:
        """`plural.group` as errors and RBAC messages name it (plain plural in the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _r(
    plural: str,
    kind: str,
    gv: str,
    *,
    namespaced: bool,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
) -> Resource:
    group, _, version = gv.rpartition("/")
    return Resource(
        plural=plural,
        kind=kind,
        group=group,
        version=version,
        namespaced=namespaced,
        singular=kind.lower(),
        short_names=short,
        categories=categories,
        subresources=sub,
    )


RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        _r("namespaces", "Namespace", "v1", namespaced=False, short=("ns",), sub=("status",)),
        _r("nodes", "Node", "v1", namespaced=False, short=("no",), sub=("status",)),
        _r(
            "pods",
            "Pod",
            "v1",
            namespaced=True,
            short=("po",),
            categories=("all",),
            sub=("status", "eviction", "binding"),
        ),
        _r("persistentvolumes", "PersistentVolume", "v1", namespaced=False, short=("pv",), sub=("status",)),
        _r(
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            "v1",
            namespaced=True,
            short=("pvc",),
            sub=("status",),
        ),
        _r("events", "Event", "v1", namespaced=True, short=("ev",)),
        _r(
            "deployments",
            "Deployment",
            "apps/v1",
            namespaced=True,
            short=("deploy",),
            categories=("all",),
            sub=("status", "scale"),
        ),
        _r(
            "replicasets",
            "ReplicaSet",
            "apps/v1",
            namespaced=True,
            short=("rs",),
            categories=("all",),
            sub=("status", "scale"),
        ),
        _r(
            "statefulsets",
            "StatefulSet",
            "apps/v1",
            namespaced=True,
            short=("sts",),
            categories=("all",),
            sub=("status", "scale"),
        ),
        _r("storageclasses", "StorageClass", "storage.k8s.io/v1", namespaced=False, short=("sc",)),
        _r("volumeattachments", "VolumeAttachment", "storage.k8s.io/v1", namespaced=False, sub=("status",)),
        _r("csidrivers", "CSIDriver", "storage.k8s.io/v1", namespaced=False),
        _r("csinodes", "CSINode", "storage.k8s.io/v1", namespaced=False),
        _r(
            "poddisruptionbudgets",
            "PodDisruptionBudget",
            "policy/v1",
            namespaced=True,
            short=("pdb",),
            sub=("status",),
        ),
        _r("leases", "Lease", "coordination.k8s.io/v1", namespaced=True),
    )
}

# Kinds whose spec changes bump metadata.generation (their controllers report observedGeneration).
GENERATION_KINDS = frozenset({"deployments", "replicasets", "statefulsets", "poddisruptionbudgets"})

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def group_versions() -> dict[str, list[Resource]]:
    """`group/version` (or `v1` for core) → its resources, in a stable order."""
    out: dict[str, list[Resource]] = {}
    for res in RESOURCES.values():
        out.setdefault(res.api_version, []).append(res)
    return out


def lookup(plural: str) -> Resource:
    """The resource for a plural; KeyError with the known names otherwise."""
    try:
        return RESOURCES[plural]
    except KeyError:
        raise KeyError(f"unknown resource {plural!r}; known: {', '.join(sorted(RESOURCES))}") from None
