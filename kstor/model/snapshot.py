"""The immutable topology snapshot handed to the dashboard, the drill runner and the recorder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from kstor.model.types import (
    AttachmentRow,
    ClaimRow,
    ClassInfo,
    DriverInfo,
    Finding,
    NodeRow,
    ObjRef,
    PodRow,
    VolumeRow,
)

PodKey = tuple[str, str]  # (namespace, name)
ClaimKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Unplaced:
    """The "on no node" section: what no scheduled pod is using."""

    pods: tuple[PodRow, ...]  # pods without spec.nodeName (only those with storage volumes)
    pending_claims: tuple[ClaimRow, ...]  # PVCs not Bound (Pending, Lost)
    unused_claims: tuple[ClaimRow, ...]  # Bound PVCs no scheduled pod uses
    free_volumes: tuple[VolumeRow, ...]  # PVs not bound to a claim in use (Available, Released, ...)


@dataclass(frozen=True, eq=False)
class Topology:
    """One consistent view of the cluster's storage. Every mapping is an immutable CowMap (iteration
    order is unspecified: sort for display); a snapshot never changes once returned.

    Rows that did not change between two snapshots are identical objects. `generation` grows by one
    per batch that changed anything. `problems` holds the per-object lines steady() reports;
    `static_findings` the findings that do not depend on time (`findings(now=...)` adds the rest).
    """

    generation: int
    nodes: Mapping[str, NodeRow]  # by node name (includes nodes pods name but that are gone)
    pods: Mapping[PodKey, PodRow]  # every pod
    claims: Mapping[ClaimKey, ClaimRow]
    volumes: Mapping[str, VolumeRow]
    attachments: Mapping[str, AttachmentRow]
    classes: Mapping[str, ClassInfo]
    drivers: Mapping[str, DriverInfo]
    claim_users: Mapping[ClaimKey, frozenset[PodKey]]  # pods (scheduled or not) that reference a claim
    unplaced_refs: Mapping[ObjRef, PodRow | ClaimRow | VolumeRow] = field(repr=False)
    static_findings: Mapping[ObjRef, tuple[Finding, ...]] = field(repr=False)
    problems: Mapping[ObjRef, tuple[str, ...]] = field(repr=False)
    pending_claims: Mapping[ObjRef, ClaimRow] = field(repr=False)  # claims whose binding is Pending

    @cached_property
    def node_rows(self) -> tuple[NodeRow, ...]:
        """Nodes sorted by name."""
        return tuple(self.nodes[name] for name in sorted(self.nodes))

    @cached_property
    def unplaced(self) -> Unplaced:
        pods, pending, unused, free = [], [], [], []
        for ref in sorted(self.unplaced_refs):
            row = self.unplaced_refs[ref]
            if isinstance(row, PodRow):
                pods.append(row)
            elif isinstance(row, VolumeRow):
                free.append(row)
            elif row.phase == "Bound":
                unused.append(row)
            else:
                pending.append(row)
        return Unplaced(tuple(pods), tuple(pending), tuple(unused), tuple(free))

    def findings(self, *, now: datetime, pending_after: float = 60.0) -> tuple[Finding, ...]:
        """All findings at time `now`; PVCs count as stuck Pending after `pending_after` seconds."""
        from kstor.model.findings import all_findings

        return all_findings(self, now=now, pending_after=pending_after)

    def same_content(self, other: Topology) -> bool:
        """True when both snapshots describe the same cluster (ignores generation)."""
        return all(dict(getattr(self, name)) == dict(getattr(other, name)) for name in MAP_NAMES)


# The topology's maps, in one place for the builder and for comparisons.
MAP_NAMES = (
    "nodes",
    "pods",
    "claims",
    "volumes",
    "attachments",
    "classes",
    "drivers",
    "claim_users",
    "unplaced_refs",
    "static_findings",
    "problems",
    "pending_claims",
)

Snapshot = Topology
