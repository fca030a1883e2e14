"""The detail pane's text for one object: the chain it belongs to, its recent events, its YAML."""

from __future__ import annotations

from typing import Any

import yaml

from kstor.model.types import NODE, POD, PV, PVC, STORAGE_CLASS, VOLUME_ATTACHMENT, ClaimRow, VolumeRow
from kstor.tui.frame import Frame
from kstor.tui.rows import ObjRef, format_age
from kstor.tui.views.common import BAD, DIM, NAME, tone
from kstor.tui.views.events import event_time
from kstor.tui.views.nodes import state_label, unhealthy_reasons, volume_chain

Line = list[tuple[str, str]]
MAX_EVENTS = 12


def describe(frame: Frame, ref: ObjRef) -> list[Line]:
    """Chain + events for `ref`, as lines of (text, style)."""
    obj = frame.get(ref.kind, ref.namespace, ref.name)
    lines: list[Line] = [[(ref.label(), "bold underline")]]
    if obj is None and ref.kind not in (NODE,):
        lines.append([("(not in the cluster any more)", DIM)])
    lines.append([("", "")])
    lines.append([("Chain", "bold")])
    lines.extend(chain(frame, ref))
    lines.append([("", "")])
    uid = ((obj or {}).get("metadata") or {}).get("uid")
    events = frame.events_for(ref.kind, ref.namespace, ref.name, uid=uid)
    lines.append([(f"Events ({len(events)})", "bold")])
    for ev in events[:MAX_EVENTS]:
        count = int(ev.get("count") or 1)
        lines.append(
            [
                (f"  {format_age(frame.now - event_time(ev)):>6}  ", DIM),
                (f"{ev.get('type', '')} ", BAD if ev.get("type") == "Warning" else DIM),
                (f"{ev.get('reason', '')}", "bold"),
                (f" (x{count})" if count > 1 else "", DIM),
                (f"  {' '.join((ev.get('message') or '').split())}", ""),
            ]
        )
    if not events:
        lines.append([("  none", DIM)])
    return lines


def yaml_text(frame: Frame, ref: ObjRef) -> str:
    obj = frame.get(ref.kind, ref.namespace, ref.name)
    if obj is None:
        return f"# {ref.label()}: not in the cluster any more\n"
    clean = dict(obj)
    meta = dict(clean.get("metadata") or {})
    meta.pop("managedFields", None)
    clean["metadata"] = meta
    return yaml.safe_dump(clean, sort_keys=False, default_flow_style=False)


def chain(frame: Frame, ref: ObjRef) -> list[Line]:
    topo = frame.topology
    if topo is None:
        return [[("  (model not ready)", DIM)]]
    if ref.kind == PVC:
        claim = topo.claims.get((ref.namespace or "", ref.name))
        return claim_chain(frame, claim) if claim else [[("  unknown claim", DIM)]]
    if ref.kind == PV:
        pv = topo.volumes.get(ref.name)
        if pv is None:
            return [[("  unknown volume", DIM)]]
        claim = topo.claims.get((pv.claim.namespace, pv.claim.name)) if pv.claim else None
        return (
            claim_chain(frame, claim)
            if claim and claim.volume_name == pv.name
            else volume_chain_lines(frame, pv, depth=1)
        )
    if ref.kind == POD:
        return pod_chain(frame, ref)
    if ref.kind == NODE:
        return node_chain(frame, ref.name)
    if ref.kind == VOLUME_ATTACHMENT:
        va = topo.attachments.get(ref.name)
        if va is None:
            return [[("  unknown attachment", DIM)]]
        state = "attached" if va.attached else "not attached"
        out = [[(f"  va {va.name}", NAME), (f"  {va.attacher} → node {va.node}  ", ""), (state, tone(state))]]
        for err in (va.attach_error, va.detach_error):
            if err:
                out.append([(f"    error: {err}", BAD)])
        pv = topo.volumes.get(va.pv)
        if pv is not None:
            out.extend(volume_chain_lines(frame, pv, depth=1))
        return out
    if ref.kind == STORAGE_CLASS:
        sc = topo.classes.get(ref.name)
        if sc is None:
            return [[("  unknown class", DIM)]]
        users = [v.name for v in topo.volumes.values() if v.storage_class == sc.name]
        return [
            [
                (f"  class {sc.name}", NAME),
                (f"  provisioner {sc.provisioner}  {sc.binding_mode}  reclaim {sc.reclaim_policy}", ""),
            ],
            [(f"    {len(users)} volume(s): {', '.join(users[:10])}", DIM)],
        ]
    return [[(f"  {ref.label()}", "")]]


def claim_chain(frame: Frame, claim: ClaimRow) -> list[Line]:
    topo = frame.topology
    assert topo is not None
    out: list[Line] = []
    for ns, name in claim_users(frame, claim):
        pod = topo.pods.get((ns, name))
        where = f" ({pod.status}, node {pod.node or '-'})" if pod else ""
        out.append([(f"  pod {ns}/{name}", NAME), (where, DIM)])
    b = claim.binding
    state = state_label(b.phase.value, b.reason.value if b.reason else None)
    out.append(
        [
            (f"  └ pvc {claim.ref.namespace}/{claim.ref.name}  ", NAME),
            (state, tone(state)),
            (f"  {claim.requested or claim.capacity}  class {claim.storage_class or '-'}", DIM),
        ]
    )
    if b.message and b.phase.value != "Bound":
        out.append([(f"      why: {' '.join(b.message.split())}", "yellow")])
    if b.held_by:
        out.append([(f"      held by: {', '.join(b.held_by)}", "yellow")])
    pv = topo.volumes.get(claim.volume_name) if claim.volume_name else None
    if pv is not None:
        out.extend(volume_chain_lines(frame, pv, depth=2))
    elif claim.volume_name:
        out.append([(f"    └ pv {claim.volume_name} (missing)", BAD)])
    return out


def claim_users(frame: Frame, claim: ClaimRow) -> list[tuple[str, str]]:
    """(namespace, pod) of the pods that use a claim: the model's index when it has one."""
    topo = frame.topology
    assert topo is not None
    key = (claim.ref.namespace, claim.ref.name)
    index = getattr(topo, "claim_users", None)
    if index is not None:
        return sorted(index.get(key) or ())
    return sorted(
        k
        for k, pod in topo.pods.items()
        if any(u.claim is not None and u.claim.ref == claim.ref for u in pod.volumes)
    )


def volume_chain_lines(frame: Frame, pv: VolumeRow, *, depth: int) -> list[Line]:
    topo = frame.topology
    assert topo is not None
    pad = "  " * depth
    b = pv.binding
    out: list[Line] = [
        [
            (f"{pad}└ pv {pv.name}  ", NAME),
            (b.phase.value, tone(b.phase.value)),
            (f"  {pv.capacity}  {pv.reclaim_policy}  {pv.source_detail}", DIM),
        ]
    ]
    if b.held_by:
        out.append([(f"{pad}    held by: {', '.join(b.held_by)}", "yellow")])
    sc = topo.classes.get(pv.storage_class)
    cls = f"class {pv.storage_class or '-'}" + (
        f"  provisioner {sc.provisioner}  {sc.binding_mode}" if sc else "  (no StorageClass object)"
    )
    out.append(
        [
            (f"{pad}  └ {cls}", ""),
            (
                f"  driver {pv.driver or pv.plugin}  attach "
                f"{'required' if pv.attach_required else 'not required'}",
                DIM,
            ),
        ]
    )
    for va in topo.attachments.values():
        if va.pv == pv.name:
            state = "attached" if va.attached else ("detaching" if va.deleting else "attaching")
            out.append(
                [
                    (f"{pad}  └ va {va.name} on {va.node}  ", ""),
                    (state, tone(state)),
                    (f"  {va.attach_error or va.detach_error}", BAD),
                ]
            )
    return out


def pod_chain(frame: Frame, ref: ObjRef) -> list[Line]:
    topo = frame.topology
    assert topo is not None
    pod = topo.pods.get((ref.namespace or "", ref.name))
    if pod is None:
        return [[("  unknown pod", DIM)]]
    out: list[Line] = [
        [
            (f"  pod {pod.ref.namespace}/{pod.ref.name}  ", NAME),
            (pod.status, tone(pod.status)),
            (f"  node {pod.node or '-'}  {pod.owner}", DIM),
        ]
    ]
    for use in pod.volumes:
        states = [
            state_label(use.binding.phase.value) if use.binding else "NoClaim",
            use.attach.phase.value,
            use.mount.phase.value,
        ]
        line: Line = [(f"  └ {use.volume}: {volume_chain(use)}  ", "")]
        for s in states:
            line += [(s, tone(s)), (" ", "")]
        out.append(line)
        if use.mount.path:
            out.append([(f"      path {use.mount.path}", DIM)])
        out.extend([[(f"      {why}", "yellow")] for why in unhealthy_reasons(use)])
    return out


def node_chain(frame: Frame, name: str) -> list[Line]:
    topo = frame.topology
    assert topo is not None
    node = topo.nodes.get(name)
    if node is None:
        return [[("  unknown node", DIM)]]
    out: list[Line] = [
        [
            (f"  node {name}  ", NAME),
            (node.ready.value, tone(node.ready.value)),
            ("  cordoned" if node.cordoned else "", "yellow"),
            (f"  zone {node.zone or '-'}", DIM),
        ]
    ]
    for t in node.taints:
        out.append([(f"    taint {t}", "yellow")])
    for v in node.volumes_attached:
        use = "in use" if v in node.volumes_in_use else "not in use"
        out.append([(f"    attached {v} ({use})", "")])
    out.append(
        [(f"    {len(node.pods)} pod(s), {sum(len(p.volumes) for p in node.pods)} volume use(s)", DIM)]
    )
    return out


def object_summary(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    return f"{obj.get('kind', '')} {(obj.get('metadata') or {}).get('name', '')}"
