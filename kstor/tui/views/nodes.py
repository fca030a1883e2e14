"""Nodes screen (home): one section per node with its attached volumes, its pods and, under each pod,
each volume's chain (PVC → PV → class/driver) and its binding / attach / mount badges.

Sections are cached by the identity of the model's NodeRow (the model hands back the *same* object
when nothing on a node changed), so a frame on a 1,000-node cluster rebuilds only what moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from kstor.model.types import (
    PV,
    PVC,
    AttachPhase,
    BindingPhase,
    ClaimRow,
    MountPhase,
    NodeReady,
    NodeRow,
    PodRow,
    VolumeRow,
    VolumeUse,
)
from kstor.tui.rows import ObjRef, Row
from kstor.tui.views.common import BAD, DIM, NAME, badge, section_row, tone

UNPLACED = "(on no node)"
_HEALTHY = {
    BindingPhase.BOUND.value,
    AttachPhase.ATTACHED.value,
    AttachPhase.NOT_REQUIRED.value,
    MountPhase.MOUNTED.value,
}


def short_volume(name: str) -> str:
    return name.removeprefix("kubernetes.io/csi/")


def node_header(node: NodeRow) -> Row:
    with_storage = sum(1 for p in node.pods if p.volumes)
    extra: list[tuple[str, str]] = [badge(node.ready.value), (" ", "")]
    if node.cordoned:
        extra += [badge("cordoned"), (" ", "")]
    if not node.exists:
        extra += [("(node object missing) ", BAD)]
    extra.append((f"zone={node.zone or '-'}  ", ""))
    taints = ", ".join(str(t) for t in node.taints) or "none"
    extra.append((f"taints: {taints}  ", busy_if(bool(node.taints))))
    extra.append(
        (
            f"attached {len(node.volumes_attached)} · in use {len(node.volumes_in_use)} · "
            f"pods {len(node.pods)} ({with_storage} with storage)",
            DIM,
        )
    )
    search = f"{node.name} {node.ready.value} {node.zone} {'cordoned' if node.cordoned else ''} {taints}"
    return Row(
        key=f"node/{node.name}",
        segments=((f" {node.name} ", "bold reverse"), (" ", ""), *extra),
        ref=ObjRef("Node", node.name),
        search=search.lower(),
        header=True,
        group=node.name,
    )


def busy_if(flag: bool) -> str:
    return "yellow" if flag else DIM


def volume_chain(use: VolumeUse) -> str:
    """`pvc ns/name → pv → class (driver)` — or the inline source for volumes without a claim."""
    if use.claim is None:
        return f"{use.kind} (inline)"
    parts = [f"pvc {use.claim.ref.name}", f"pv {use.pv.name}" if use.pv else "pv -"]
    cls = use.storage_class or "-"
    if use.pv is not None and use.pv.driver:
        cls += f" ({use.pv.driver})"
    elif use.pv is not None and use.pv.plugin:
        cls += f" ({use.pv.plugin})"
    parts.append(cls)
    return " → ".join(parts)


def state_label(phase: str, reason: object | None = None) -> str:
    return f"{phase}: {reason}" if reason else phase


def use_rows(use: VolumeUse, *, group: str, indent: str = "      ") -> list[Row]:
    binding = use.binding
    states = [
        state_label(binding.phase.value, binding.reason.value if binding.reason else None)
        if binding
        else "NoClaim",
        use.attach.phase.value,
        use.mount.phase.value,
    ]
    chain = volume_chain(use)
    segs: list[tuple[str, str]] = [
        (indent, ""),
        (f"{use.volume}  ", NAME),
        (chain, ""),
        ("  ", ""),
    ]
    for state in states:
        segs += [badge(state), (" ", "")]
    if use.pv is not None and use.pv.binding.phase is BindingPhase.TERMINATING:
        # The claim is still Bound, but its volume is being deleted: say so on the pod's line.
        segs += [badge("PV Terminating"), (" ", "")]
        states.append("pv terminating")
    if use.mount.path and use.mount.phase is MountPhase.MOUNTED:
        segs.append((f" {use.mount.path}", DIM))
    claim = use.claim
    ref = (
        ObjRef(PVC, claim.ref.name, claim.ref.namespace)
        if claim
        else ObjRef("Pod", use.pod.name, use.pod.namespace)
    )
    search = " ".join([use.pod.namespace, use.pod.name, use.volume, chain, group, *states]).lower()
    rows = [
        Row(
            key=f"use/{use.pod.namespace}/{use.pod.name}/{use.volume}",
            segments=tuple(segs),
            ref=ref,
            namespace=use.pod.namespace,
            search=search,
            group=group,
        )
    ]
    whys = unhealthy_reasons(use)
    if use.pv is not None and use.pv.binding.phase is BindingPhase.TERMINATING:
        msg = use.pv.binding.message or f"held by {', '.join(use.pv.binding.held_by)}"
        whys.append(f"pv: {one_line(msg)}")
    for why in whys:
        rows.append(
            Row(
                key=f"why/{use.pod.namespace}/{use.pod.name}/{use.volume}/{len(rows)}",
                segments=((indent + "  ↳ ", DIM), (why, tone_of_reason(why))),
                ref=ref,
                namespace=use.pod.namespace,
                search=search + " " + why.lower(),
                group=group,
            )
        )
    return rows


def tone_of_reason(text: str) -> str:
    return BAD if text.startswith(("mount:", "attach:")) or "error" in text.lower() else "yellow"


def unhealthy_reasons(use: VolumeUse) -> list[str]:
    """One line per state that is not healthy, with the model's message (why)."""
    out = []
    if use.binding is not None and use.binding.phase.value not in _HEALTHY and use.binding.message:
        out.append(f"binding: {one_line(use.binding.message)}")
    if (
        use.attach.phase.value not in _HEALTHY
        and use.attach.phase is not AttachPhase.NOT_ATTACHED
        and use.attach.message
    ):
        out.append(f"attach: {one_line(use.attach.message)}")
    if use.mount.phase.value not in _HEALTHY and use.mount.message:
        out.append(f"mount: {one_line(use.mount.message)}")
    return out


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def pod_rows(pod: PodRow, *, group: str) -> list[Row]:
    owner = f"  ({pod.owner})" if pod.owner else ""
    segs = (
        ("   pod ", DIM),
        (f"{pod.ref.namespace}/{pod.ref.name}", NAME),
        ("  ", ""),
        (pod.status or pod.phase, tone(pod.status or pod.phase)),
        (owner, DIM),
    )
    rows = [
        Row(
            key=f"pod/{pod.ref.namespace}/{pod.ref.name}",
            segments=segs,
            ref=ObjRef("Pod", pod.ref.name, pod.ref.namespace),
            namespace=pod.ref.namespace,
            search=pod_search(pod, group),
            group=group,
        )
    ]
    for use in pod.volumes:
        rows.extend(use_rows(use, group=group))
    return rows


def pod_search(pod: PodRow, group: str) -> str:
    """A pod matches a filter on any of its volumes' states too, so it stays above them."""
    states = " ".join(
        f"{u.volume} {u.attach.phase.value} {u.mount.phase.value} "
        f"{u.binding.phase.value if u.binding else ''} {u.claim.ref.name if u.claim else ''}"
        for u in pod.volumes
    )
    return f"{pod.ref.namespace} {pod.ref.name} {pod.status} {group} {pod.owner} {states}".lower()


def node_section(node: NodeRow) -> list[Row]:
    rows = [node_header(node)]
    if node.volumes_attached or node.volumes_in_use:
        in_use = set(node.volumes_in_use)
        names = ", ".join(
            short_volume(v) + ("" if v in in_use else " (not in use)") for v in node.volumes_attached
        )
        rows.append(
            Row(
                key=f"node/{node.name}/attached",
                segments=(("   attached: ", DIM), (names or "none", "")),
                ref=ObjRef("Node", node.name),
                search=f"{node.name} {names}".lower(),
                group=node.name,
            )
        )
    for pod in node.pods:
        if pod.volumes:
            rows.extend(pod_rows(pod, group=node.name))
    return rows


def claim_row(claim: ClaimRow) -> Row:
    b = claim.binding
    state = state_label(b.phase.value, b.reason.value if b.reason else None)
    segs = [
        ("   pvc ", DIM),
        (f"{claim.ref.namespace}/{claim.ref.name}", NAME),
        ("  ", ""),
        badge(state),
        (f"  class {claim.storage_class or '-'}", DIM),
    ]
    if claim.volume_name:
        segs.append((f"  → pv {claim.volume_name}", ""))
    if b.phase is not BindingPhase.BOUND and b.message:
        segs.append((f"  {one_line(b.message)}", "yellow"))
    if b.held_by:
        segs.append((f"  held by {', '.join(b.held_by)}", "yellow"))
    return Row(
        key=f"unplaced/pvc/{claim.ref.namespace}/{claim.ref.name}",
        segments=tuple(segs),
        ref=ObjRef(PVC, claim.ref.name, claim.ref.namespace),
        namespace=claim.ref.namespace,
        search=f"{claim.ref.namespace} {claim.ref.name} {state} {b.message} pvc".lower(),
        group=UNPLACED,
    )


def volume_row(pv: VolumeRow) -> Row:
    b = pv.binding
    segs = [
        ("   pv ", DIM),
        (pv.name, NAME),
        ("  ", ""),
        badge(b.phase.value),
        (f"  {pv.reclaim_policy}  class {pv.storage_class or '-'}  {pv.source_detail}", DIM),
    ]
    if pv.claim is not None:
        segs.append((f"  claim {pv.claim.namespace}/{pv.claim.name}", ""))
    if b.held_by:
        segs.append((f"  held by {', '.join(b.held_by)}", "yellow"))
    elif b.message and b.phase is not BindingPhase.BOUND:
        segs.append((f"  {one_line(b.message)}", "yellow"))
    return Row(
        key=f"unplaced/pv/{pv.name}",
        segments=tuple(segs),
        ref=ObjRef(PV, pv.name),
        search=f"{pv.name} {b.phase.value} {pv.storage_class} pv {b.message}".lower(),
        group=UNPLACED,
    )


class NodesView:
    """Builds the Nodes screen's rows, reusing the rows of nodes (and unplaced objects) whose model row
    did not change. The two halves are built apart so a frame where only one moved reuses the other."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[NodeRow, list[Row]]] = {}
        self._unplaced: dict[int, tuple[object, list[Row]]] = {}

    def rows(
        self,
        nodes: Iterable[NodeRow],
        *,
        pending_pods: Iterable[PodRow] = (),
        claims: Iterable[ClaimRow] = (),
        volumes: Iterable[VolumeRow] = (),
    ) -> list[Row]:
        return [*self.node_rows(nodes), *self.unplaced_rows((*pending_pods, *claims, *volumes))]

    def node_rows(self, nodes: Iterable[NodeRow]) -> list[Row]:
        """One section per node, in the order given."""
        sections: list[list[Row]] = []
        cache: dict[str, tuple[NodeRow, list[Row]]] = {}
        for node in nodes:
            hit = self._cache.get(node.name)
            section = hit[1] if hit is not None and hit[0] is node else node_section(node)
            cache[node.name] = (node, section)
            sections.append(section)
        self._cache = cache
        return list(chain.from_iterable(sections))

    def unplaced_rows(self, items: Iterable[PodRow | ClaimRow | VolumeRow]) -> list[Row]:
        """The "on no node" section: its header, then the rows of each item in the order given."""
        body: list[list[Row]] = []
        unplaced: dict[int, tuple[object, list[Row]]] = {}
        for item in items:
            hit_rows = self._unplaced.get(id(item))
            if hit_rows is not None and hit_rows[0] is item:
                rows = hit_rows[1]
            elif isinstance(item, PodRow):
                rows = pod_rows(item, group=UNPLACED)
            elif isinstance(item, ClaimRow):
                rows = [claim_row(item)]
            else:
                rows = [volume_row(item)]
            unplaced[id(item)] = (item, rows)
            body.append(rows)
        self._unplaced = unplaced
        flat = list(chain.from_iterable(body))
        return [unplaced_header(len(flat)), *flat]


def unplaced_header(count: int) -> Row:
    return section_row(
        "unplaced",
        f"On no node ({count} rows: unscheduled pods, claims and volumes no node uses)",
        group=UNPLACED,
    )


def unplaced_rows(
    *, pending_pods: Iterable[PodRow], claims: Iterable[ClaimRow], volumes: Iterable[VolumeRow]
) -> list[Row]:
    return NodesView().rows((), pending_pods=pending_pods, claims=claims, volumes=volumes)


def healthy_use(use: VolumeUse) -> bool:
    return (
        not unhealthy_reasons(use)
        and (use.binding is None or use.binding.phase.value in _HEALTHY)
        and use.attach.phase.value in _HEALTHY | {AttachPhase.NOT_ATTACHED.value}
        and use.mount.phase.value in _HEALTHY
    )


__all__ = ["UNPLACED", "NodeReady", "NodesView", "healthy_use", "node_section", "unplaced_rows"]
