"""Build one row from raw objects plus the rows it depends on (classes, drivers, claims, PVs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kstor.model.attach import attach_state
from kstor.model.binding import claim_binding, volume_binding
from kstor.model.fields import (
    DEFAULT_CLASS,
    MOUNTS_ANNOTATION,
    NON_STORAGE_SOURCES,
    UNATTACHABLE,
    ZONE_LABEL,
    Obj,
    annotations,
    deleting,
    effective_class,
    events_about,
    field_evidence,
    meta,
    name_of,
    namespace_of,
    spec,
    status,
    storage_of,
    uid_of,
    volume_source_key,
)
from kstor.model.mount import mount_path, mount_state, mounts_record, pod_status
from kstor.model.source import ObjectSource
from kstor.model.types import (
    POD,
    PV,
    PVC,
    AttachmentRow,
    AttachPhase,
    AttachState,
    BindingPhase,
    BindingState,
    ClaimRow,
    ClassInfo,
    DriverInfo,
    Evidence,
    MountState,
    NodeReady,
    NodeRow,
    ObjRef,
    PendingReason,
    PodRow,
    Taint,
    VolumeRow,
    VolumeUse,
)

MountRecord = dict[str, dict[str, str]] | None  # the parsed kstor.io/mounts annotation, if any


def class_info(sc: Obj) -> ClassInfo:
    params = tuple(sorted((str(k), str(v)) for k, v in (sc.get("parameters") or {}).items()))
    return ClassInfo(
        name=name_of(sc),
        provisioner=sc.get("provisioner") or "",
        reclaim_policy=sc.get("reclaimPolicy") or "Delete",
        binding_mode=sc.get("volumeBindingMode") or "Immediate",
        is_default=annotations(sc).get(DEFAULT_CLASS) == "true",
        allow_expansion=bool(sc.get("allowVolumeExpansion")),
        parameters=params,
    )


def driver_info(driver: Obj) -> DriverInfo:
    attach = spec(driver).get("attachRequired")
    return DriverInfo(
        name=name_of(driver),
        attach_required=True if attach is None else bool(attach),
        pod_info_on_mount=bool(spec(driver).get("podInfoOnMount")),
    )


def attach_needs(plugin: str, driver: str, drivers: Mapping[str, DriverInfo]) -> tuple[bool, Evidence]:
    """Whether a PV-backed volume goes through attach/detach, as the attach/detach controller decides:
    CSI asks its CSIDriver object (no object means attach is required), NFS & co. never attach."""
    if plugin == "csi":
        info = drivers.get(driver)
        if info is None:
            return True, field_evidence(f"csidriver/{driver}", "absent (attach required by default)")
        return info.attach_required, field_evidence(
            f"csidriver/{driver}.spec.attachRequired", str(info.attach_required).lower()
        )
    if plugin in UNATTACHABLE:
        return False, field_evidence("spec", f"{plugin} volumes are not attachable")
    return True, field_evidence("spec", f"{plugin} volumes are attachable")


def _source_detail(plugin: str, src: Obj) -> str:
    if plugin == "nfs":
        return f"nfs {src.get('server', '')}:{src.get('path', '')}"
    if plugin == "csi":
        return f"csi {src.get('driver', '')} {src.get('volumeHandle', '')}"
    if plugin in ("hostPath", "local"):
        return f"{plugin} {src.get('path', '')}"
    return plugin


def volume_row(
    pv: Obj, *, drivers: Mapping[str, DriverInfo], claim: Obj | None, holders: tuple[str, ...]
) -> VolumeRow:
    """`claim`: the PVC named by claimRef if it exists (and has the same uid when claimRef has one);
    `holders`: pods (with a node) using that claim."""
    pv_spec = spec(pv)
    plugin = volume_source_key(pv_spec)
    src = pv_spec.get(plugin) or {}
    driver = src.get("driver") or "" if plugin == "csi" else ""
    ref = pv_spec.get("claimRef")
    claim_ref = ObjRef(PVC, ref.get("namespace") or "", ref.get("name") or "") if ref else None
    held = (
        (f"pvc/{claim_ref.namespace}/{claim_ref.name}",) if claim is not None and claim_ref else ()
    ) + holders
    return VolumeRow(
        name=name_of(pv),
        uid=uid_of(pv),
        phase=status(pv).get("phase") or "Pending",
        storage_class=effective_class(pv) or "",
        plugin=plugin,
        driver=driver,
        claim=claim_ref,
        claim_uid=(ref or {}).get("uid") or "",
        reclaim_policy=pv_spec.get("persistentVolumeReclaimPolicy") or "Retain",
        capacity=storage_of(pv_spec.get("capacity")),
        access_modes=tuple(pv_spec.get("accessModes") or ()),
        finalizers=tuple(meta(pv).get("finalizers") or ()),
        created=meta(pv).get("creationTimestamp") or "",
        deleting=deleting(pv),
        attach_required=attach_needs(plugin, driver, drivers)[0],
        binding=volume_binding(pv, claim_exists=claim is not None, holders=held),
        source_detail=_source_detail(plugin, src),
    )


def claim_row(
    pvc: Obj, *, classes: Mapping[str, ClassInfo], source: ObjectSource, holders: tuple[str, ...]
) -> ClaimRow:
    """`holders`: "pod/<ns>/<name>" of pods with a node that use the claim (pvc-protection)."""
    pvc_spec = spec(pvc)
    class_name = effective_class(pvc)
    volume_name = pvc_spec.get("volumeName") or ""
    pv = source.get(PV, None, volume_name) if volume_name else None
    events = events_about(source.events_for(PVC, namespace_of(pvc), name_of(pvc)), uid_of(pvc))
    storage_class = classes.get(class_name) if class_name else None
    return ClaimRow(
        ref=ObjRef(PVC, namespace_of(pvc), name_of(pvc)),
        uid=uid_of(pvc),
        phase=status(pvc).get("phase") or "Pending",
        storage_class=class_name,
        class_exists=storage_class is not None,
        volume_name=volume_name,
        requested=storage_of((pvc_spec.get("resources") or {}).get("requests")),
        capacity=storage_of(status(pvc).get("capacity")),
        access_modes=tuple(pvc_spec.get("accessModes") or ()),
        created=meta(pvc).get("creationTimestamp") or "",
        deleting=deleting(pvc),
        binding=claim_binding(
            pvc, class_name=class_name, storage_class=storage_class, pv=pv, events=events, holders=holders
        ),
    )


def storage_volumes(pod: Obj) -> Iterable[tuple[Obj, str]]:
    """(volume, source key) for the pod's volumes that hold storage (not configMap, secret, ...)."""
    for volume in spec(pod).get("volumes") or ():
        key = volume_source_key(volume)
        if key and key not in NON_STORAGE_SOURCES:
            yield volume, key


def claim_name_of(pod: Obj, volume: Obj, key: str) -> str | None:
    if key == "persistentVolumeClaim":
        return (volume.get(key) or {}).get("claimName") or None
    if key == "ephemeral":  # generic ephemeral volume: the PVC is named <pod>-<volume>
        return f"{name_of(pod)}-{volume.get('name', '')}"
    return None


def pod_row(
    pod: Obj,
    *,
    claims: Mapping[tuple[str, str], ClaimRow],
    volumes: Mapping[str, VolumeRow],
    drivers: Mapping[str, DriverInfo],
    source: ObjectSource,
    node: Obj | None,
) -> PodRow:
    pod_meta, pod_status_ = meta(pod), status(pod)
    ns, name, uid = pod_meta.get("namespace") or "", pod_meta.get("name") or "", pod_meta.get("uid") or ""
    ref = ObjRef(POD, ns, name)
    found = list(storage_volumes(pod))
    uses: tuple[VolumeUse, ...] = ()
    if found:  # events (and the mount record) are only worth reading for pods with storage
        events = source.events_for(POD, ns, name)
        events = events_about(events, uid) if events else []
        record = mounts_record((pod_meta.get("annotations") or {}).get(MOUNTS_ANNOTATION))
        uses = tuple(
            _volume_use(
                pod,
                ref,
                volume,
                key,
                claims=claims,
                volumes=volumes,
                drivers=drivers,
                source=source,
                node=node,
                events=events,
                record=record,
            )
            for volume, key in found
        )
    owners = pod_meta.get("ownerReferences") or ()
    return PodRow(
        ref=ref,
        uid=uid,
        node=spec(pod).get("nodeName") or "",
        phase=pod_status_.get("phase") or "Pending",
        status=pod_status(pod),
        deleting=bool(pod_meta.get("deletionTimestamp")),
        owner=f"{owners[0].get('kind', '')}/{owners[0].get('name', '')}" if owners else "",
        volumes=uses,
        ready=_ready(pod_status_),
    )


def _ready(pod_status: Obj) -> bool:
    for cond in pod_status.get("conditions") or ():
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            return True
    return False


def _volume_use(
    pod: Obj,
    pod_ref: ObjRef,
    volume: Obj,
    key: str,
    *,
    claims: Mapping[tuple[str, str], ClaimRow],
    volumes: Mapping[str, VolumeRow],
    drivers: Mapping[str, DriverInfo],
    source: ObjectSource,
    node: Obj | None,
    events: list[Obj],
    record: MountRecord,
) -> VolumeUse:
    vol_name = volume.get("name") or ""
    read_only = bool((volume.get(key) or {}).get("readOnly"))
    claim_name = claim_name_of(pod, volume, key)
    if claim_name is None:
        attach, mount = _inline_states(
            pod, vol_name, volume.get(key) or {}, key=key, events=events, record=record
        )
        return VolumeUse(
            pod=pod_ref,
            volume=vol_name,
            kind=key,
            claim=None,
            pv=None,
            storage_class=None,
            binding=None,
            attach=attach,
            mount=mount,
            read_only=read_only,
        )
    claim = claims.get((pod_ref.namespace, claim_name))
    pv = volumes.get(claim.volume_name) if claim is not None and claim.volume_name else None
    binding = claim.binding if claim is not None else _missing_claim(vol_name, claim_name)
    if pv is None:
        attach, mount = _unbound_states(pod, vol_name, claim_name, events=events, record=record)
    else:
        attach, mount = _bound_states(
            pod, vol_name, pv, drivers=drivers, source=source, node=node, events=events, record=record
        )
    return VolumeUse(
        pod=pod_ref,
        volume=vol_name,
        kind="pvc",
        claim=claim,
        pv=pv,
        storage_class=claim.storage_class if claim else None,
        binding=binding,
        attach=attach,
        mount=mount,
        read_only=read_only,
    )


def _inline_states(
    pod: Obj, vol_name: str, src: Obj, *, key: str, events: list[Obj], record: MountRecord
) -> tuple[AttachState, MountState]:
    """Inline sources (nfs, hostPath, inline CSI, ...) have no claim and are never attached here
    (inline CSI volumes are ephemeral; inline in-tree block volumes are deprecated and ignored)."""
    attach = AttachState(
        AttachPhase.NOT_REQUIRED,
        "no attach step for this volume",
        (field_evidence(f"spec.volumes[{vol_name}].{key}", "inline volume: no attach"),),
    )
    path = mount_path(pod, plugin=key, spec_name=vol_name, host_path=src.get("path") or "")
    mount = mount_state(pod, volume=vol_name, spec_name=vol_name, path=path, record=record, pod_events=events)
    return attach, mount


def _missing_claim(vol_name: str, claim_name: str) -> BindingState:
    return BindingState(
        BindingPhase.PENDING,
        f'persistentvolumeclaim "{claim_name}" not found',
        (field_evidence(f"spec.volumes[{vol_name}].persistentVolumeClaim.claimName", claim_name),),
        reason=PendingReason.CLAIM_MISSING,
    )


def _unbound_states(
    pod: Obj, vol_name: str, claim_name: str, *, events: list[Obj], record: MountRecord
) -> tuple[AttachState, MountState]:
    attach = AttachState(
        AttachPhase.NOT_ATTACHED,
        "claim is not bound to a PV yet",
        (field_evidence(f"pvc/{namespace_of(pod)}/{claim_name}.spec.volumeName", '""'),),
    )
    path = mount_path(pod, plugin="csi", spec_name=vol_name)
    mount = mount_state(pod, volume=vol_name, spec_name=vol_name, path=path, record=record, pod_events=events)
    return attach, mount


def _bound_states(
    pod: Obj,
    vol_name: str,
    pv: VolumeRow,
    *,
    drivers: Mapping[str, DriverInfo],
    source: ObjectSource,
    node: Obj | None,
    events: list[Obj],
    record: MountRecord,
) -> tuple[AttachState, MountState]:
    required, why = attach_needs(pv.plugin, pv.driver, drivers)
    attach = attach_state(
        volume=pv.name,
        required=required,
        required_evidence=why,
        node=spec(pod).get("nodeName") or "",
        pod_deleting=deleting(pod),
        attachments=list(source.attachments_for_volume(pv.name)) if required else [],
        pod_events=events,
    )
    src = spec(source.get(PV, None, pv.name) or {}).get(pv.plugin) or {}
    path = mount_path(pod, plugin=pv.plugin, spec_name=pv.name, host_path=src.get("path") or "")
    mount = mount_state(
        pod,
        volume=vol_name,
        spec_name=pv.name,
        path=path,
        record=record,
        pod_events=events,
        in_use_evidence=_in_use(node, pv, src),
    )
    return attach, mount


def unique_volume_name(pv: VolumeRow, src: Obj) -> str:
    """The name the kubelet and the attach/detach controller use in node status."""
    if pv.plugin == "csi":
        return f"kubernetes.io/csi/{pv.driver}^{src.get('volumeHandle', '')}"
    return f"kubernetes.io/{pv.plugin}/{pv.name}"


def _in_use(node: Obj | None, pv: VolumeRow, src: Obj) -> Evidence | None:
    if node is None or not pv.attach_required:
        return None
    unique = unique_volume_name(pv, src)
    if unique in (status(node).get("volumesInUse") or ()):
        return field_evidence(f"node/{name_of(node)}.status.volumesInUse", unique)
    return None


def node_row(name: str, node: Obj | None, pods: tuple[PodRow, ...]) -> NodeRow:
    if node is None:
        return NodeRow(
            name=name,
            exists=False,
            ready=NodeReady.UNKNOWN,
            ready_evidence=None,
            cordoned=False,
            taints=(),
            zone="",
            volumes_attached=(),
            volumes_in_use=(),
            pods=pods,
        )
    ready, evidence = NodeReady.UNKNOWN, None
    for cond in status(node).get("conditions") or ():
        if cond.get("type") == "Ready":
            value = cond.get("status")
            ready = {"True": NodeReady.READY, "False": NodeReady.NOT_READY}.get(value, NodeReady.UNKNOWN)
            evidence = Evidence(
                "condition", "Ready", f"{value} ({cond.get('reason', '')})", cond.get("lastTransitionTime")
            )
    taints = tuple(
        Taint(t.get("key") or "", t.get("value") or "", t.get("effect") or "")
        for t in spec(node).get("taints") or ()
    )
    return NodeRow(
        name=name,
        exists=True,
        ready=ready,
        ready_evidence=evidence,
        cordoned=bool(spec(node).get("unschedulable")),
        taints=taints,
        zone=(meta(node).get("labels") or {}).get(ZONE_LABEL, ""),
        volumes_attached=tuple(v.get("name", "") for v in status(node).get("volumesAttached") or ()),
        volumes_in_use=tuple(status(node).get("volumesInUse") or ()),
        pods=pods,
    )


def with_pods(row: NodeRow, pods: tuple[PodRow, ...]) -> NodeRow:
    """`row` with another pod list (the node object itself unchanged: nothing else to re-read)."""
    return NodeRow(
        row.name,
        row.exists,
        row.ready,
        row.ready_evidence,
        row.cordoned,
        row.taints,
        row.zone,
        row.volumes_attached,
        row.volumes_in_use,
        pods,
    )


def attachment_row(va: Obj) -> AttachmentRow:
    va_spec, va_status = spec(va), status(va)
    return AttachmentRow(
        name=name_of(va),
        attacher=va_spec.get("attacher") or "",
        node=va_spec.get("nodeName") or "",
        pv=(va_spec.get("source") or {}).get("persistentVolumeName") or "",
        attached=bool(va_status.get("attached")),
        deleting=deleting(va),
        attach_error=(va_status.get("attachError") or {}).get("message") or "",
        detach_error=(va_status.get("detachError") or {}).get("message") or "",
        finalizers=tuple(meta(va).get("finalizers") or ()),
    )
