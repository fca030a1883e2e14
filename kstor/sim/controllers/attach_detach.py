"""attachdetach-controller: VolumeAttachments for attachable CSI volumes, node.status.volumesAttached.

pkg/controller/volume/attachdetach: the desired state is every attachable volume of every scheduled,
not-terminated pod; detaches run before attaches; a volume the kubelet still reports in volumesInUse
is not detached unless the node is unhealthy and maxWaitForUnmountDuration (6 min) passed, or the
node has the out-of-service taint; a non-multi-attachable volume attached elsewhere gets one
Multi-Attach event per pod. Detach = delete the VolumeAttachment (the external attacher finishes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj, QueueLoop
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

MAX_WAIT_FOR_UNMOUNT = 360.0
ATTACH_TIMEOUT = 120.0  # csi_attacher waits this long for status.attached


@dataclass
class VolumeInfo:
    """One pod volume resolved to what the kubelet and the attach/detach controller need."""

    name: str  # the pod's volume name
    plugin: str  # nfs, csi, local-volume, host-path, empty-dir, configmap, secret, projected, ...
    spec_name: str  # PV name for PVC-backed volumes, else the volume name (names the mount dir)
    pv: Obj | None = None
    driver: str = ""
    handle: str = ""
    attachable: bool = False
    server: str = ""
    path: str = ""
    waiting: str = ""  # why it cannot be resolved yet (claim unbound, PV missing)

    @property
    def unique_name(self) -> str:
        return f"kubernetes.io/csi/{self.driver}^{self.handle}"

    def mount_path(self, pod_uid: str) -> str:
        base = f"/var/lib/kubelet/pods/{pod_uid}/volumes/kubernetes.io~{self.plugin}/{self.spec_name}"
        return base + "/mount" if self.plugin == "csi" else base


INLINE_PLUGINS = {
    "emptyDir": "empty-dir",
    "configMap": "configmap",
    "secret": "secret",
    "projected": "projected",
    "downwardAPI": "downward-api",
    "hostPath": "host-path",
}


def attach_required(driver: str, get_driver: Callable[[str], Obj | None]) -> bool:
    csidriver = get_driver(driver)
    if csidriver is None:
        return True  # no CSIDriver object: Kubernetes assumes attach is required
    return bool(csidriver.get("spec", {}).get("attachRequired", True))


def _from_pv(vol_name: str, pv: Obj, get_driver: Callable[[str], Obj | None]) -> VolumeInfo:
    spec = pv.get("spec", {})
    pv_name = pu.name_of(pv)
    if spec.get("csi"):
        csi = spec["csi"]
        driver = csi.get("driver", "")
        return VolumeInfo(
            vol_name, "csi", pv_name, pv=pv, driver=driver, handle=csi.get("volumeHandle", ""),
            attachable=attach_required(driver, get_driver),
        )  # fmt: skip
    if spec.get("nfs"):
        nfs = spec["nfs"]
        return VolumeInfo(
            vol_name, "nfs", pv_name, pv=pv, server=nfs.get("server", ""), path=nfs.get("path", "")
        )
    if spec.get("local"):
        return VolumeInfo(vol_name, "local-volume", pv_name, pv=pv, path=spec["local"].get("path", ""))
    if spec.get("hostPath"):
        return VolumeInfo(vol_name, "host-path", pv_name, pv=pv, path=spec["hostPath"].get("path", ""))
    return VolumeInfo(vol_name, "unknown", pv_name, pv=pv)


def resolve_volumes(
    pod: Obj,
    *,
    get_claim: Callable[[str, str], Obj | None],
    get_pv: Callable[[str], Obj | None],
    get_driver: Callable[[str], Obj | None],
) -> list[VolumeInfo]:
    out: list[VolumeInfo] = []
    ns = pu.ns_of(pod)
    for vol in pod.get("spec", {}).get("volumes") or []:
        name = vol.get("name", "")
        if vol.get("persistentVolumeClaim"):
            claim_name = vol["persistentVolumeClaim"].get("claimName", "")
            claim = get_claim(claim_name, ns)
            if claim is None:
                out.append(
                    VolumeInfo(name, "pvc", name, waiting=f'persistentvolumeclaim "{claim_name}" not found')
                )
                continue
            pv_name = claim.get("spec", {}).get("volumeName")
            pv = get_pv(pv_name) if pv_name else None
            if pv is None:
                out.append(
                    VolumeInfo(
                        name, "pvc", name, waiting=f'PVC {ns}/{claim_name} has non-bound phase: "Pending"'
                    )
                )
                continue
            out.append(_from_pv(name, pv, get_driver))
        elif vol.get("nfs"):
            nfs = vol["nfs"]
            out.append(VolumeInfo(name, "nfs", name, server=nfs.get("server", ""), path=nfs.get("path", "")))
        elif vol.get("csi"):
            out.append(VolumeInfo(name, "csi", name, driver=vol["csi"].get("driver", "")))
        else:
            plugin = next((p for k, p in INLINE_PLUGINS.items() if k in vol), "empty-dir")
            out.append(VolumeInfo(name, plugin, name))
    return out


def attachment_name(handle: str, driver: str, node: str) -> str:
    return "csi-" + hashlib.sha256(f"{handle}{driver}{node}".encode()).hexdigest()


def multi_attach_allowed(pv: Obj | None) -> bool:
    modes = set((pv or {}).get("spec", {}).get("accessModes") or [])
    return bool(modes & {"ReadWriteMany", "ReadOnlyMany"})


def _node_facts(node: Obj) -> tuple[object, ...]:
    ready = pu.condition(node, "Ready") or {}
    return (
        node.get("status", {}).get("volumesInUse"),
        ready.get("status"),
        node.get("spec", {}).get("taints"),
        pu.deleting(node),
    )


def _pod_facts(pod: Obj) -> tuple[object, ...]:
    return (pu.node_of(pod), pu.pod_terminated(pod))


def _matters(plural: str, old: Obj, new: Obj) -> bool:
    """Whether an update can change what a node sync decides. A pod's status, annotations and
    conditions, or a node's heartbeat and volumesAttached (our own write), cannot."""
    if plural == "pods":
        return _pod_facts(old) != _pod_facts(new)
    if plural == "nodes":
        return _node_facts(old) != _node_facts(new)
    return True


class AttachDetachController(QueueLoop):
    name = "attachdetach-controller"
    plurals = (
        "csidrivers",
        "persistentvolumes",
        "persistentvolumeclaims",
        "nodes",
        "volumeattachments",
        "pods",
    )
    resync_seconds = 60.0
    resync_real_floor = 2.0

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, "attachdetach-controller")
        self.detach_requested: dict[tuple[str, str], float] = {}
        self.multi_attach_reported: set[tuple[str, str]] = set()
        self.attached_reported: set[tuple[str, str]] = set()  # (pod uid, pv)
        self.errors_reported: dict[tuple[str, str], str] = {}
        self.attach_started: dict[tuple[str, str], float] = {}

    def setup(self) -> None:
        self.inf("pods").add_index("node", lambda p: [pu.node_of(p)] if pu.node_of(p) else [])
        self.inf("pods").add_index("claim", lambda p: [f"{pu.ns_of(p)}/{c}" for c in pu.pod_claims(p)])
        self.inf("volumeattachments").add_index("node", lambda va: [va.get("spec", {}).get("nodeName", "")])
        self.inf("volumeattachments").add_index(
            "pv", lambda va: [((va.get("spec", {}).get("source") or {}).get("persistentVolumeName") or "")]
        )

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        # A DELETED event carries the last version as both old and new: it always matters.
        if event_type == "MODIFIED" and old and new and not _matters(plural, old, new):
            return
        for obj in (old, new):
            if obj is None:
                continue
            if plural == "pods" and pu.node_of(obj):
                self.queue.add(pu.node_of(obj))
            elif plural == "volumeattachments":
                self.queue.add(obj.get("spec", {}).get("nodeName", ""))
            elif plural == "nodes":
                self.queue.add(pu.name_of(obj))
            elif plural == "persistentvolumeclaims":
                self._enqueue_claim_users(f"{pu.ns_of(obj)}/{pu.name_of(obj)}")
            elif plural == "persistentvolumes":
                ref = obj.get("spec", {}).get("claimRef") or {}
                if ref.get("name"):
                    self._enqueue_claim_users(f"{ref.get('namespace', '')}/{ref['name']}")
        if plural == "csidrivers":
            self.enqueue_all()

    def _enqueue_claim_users(self, claim_key: str) -> None:
        for pod in self.inf("pods").by_index("claim", claim_key):
            if pu.node_of(pod):
                self.queue.add(pu.node_of(pod))

    def resync_keys(self) -> int:
        return len(self.inf("nodes").store) + len(self.inf("volumeattachments").store)

    def enqueue_all(self) -> None:
        for node in self.inf("nodes").store.values():
            self.queue.add(pu.name_of(node))
        for value in self.inf("volumeattachments").index_values("node"):
            self.queue.add(value)

    # --- desired state ---------------------------------------------------------------------------------
    def desired(self, node: str) -> dict[str, tuple[VolumeInfo, list[Obj]]]:
        """Attachable volumes wanted on a node: PV name -> (volume, pods using it)."""
        out: dict[str, tuple[VolumeInfo, list[Obj]]] = {}
        for pod in self.inf("pods").by_index("node", node):
            if pu.pod_terminated(pod):
                continue
            for info in self._volumes(pod):
                if info.attachable and info.pv is not None:
                    out.setdefault(info.spec_name, (info, []))[1].append(pod)
        return out

    def _volumes(self, pod: Obj) -> list[VolumeInfo]:
        return resolve_volumes(
            pod,
            get_claim=lambda n, ns: self.inf("persistentvolumeclaims").get(n, ns),
            get_pv=lambda n: self.inf("persistentvolumes").get(n),
            get_driver=lambda n: self.inf("csidrivers").get(n),
        )

    # --- reconcile one node ---------------------------------------------------------------------------
    async def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, str) or not key:
            return None
        node_name = key
        node = self.inf("nodes").get(node_name)
        wanted = self.desired(node_name) if node is not None else {}
        attachments = self.inf("volumeattachments").by_index("node", node_name)
        by_pv = {
            (va.get("spec", {}).get("source") or {}).get("persistentVolumeName", ""): va for va in attachments
        }
        delays: list[float] = []
        for pv_name, va in by_pv.items():
            if pv_name not in wanted:
                delay = self._maybe_detach(node_name, node, pv_name, va)
                if delay is not None:
                    delays.append(delay)
        for pv_name, (info, pods) in wanted.items():
            self.detach_requested.pop((node_name, pv_name), None)
            delay = self._attach(node_name, info, pods, by_pv.get(pv_name))
            if delay is not None:
                delays.append(delay)
        if node is not None:
            self._report_attached(node, by_pv)
        return min(delays) if delays else None

    def _maybe_detach(self, node_name: str, node: Obj | None, pv_name: str, va: Obj) -> float | None:
        if pu.deleting(va):
            return None
        now = self.clock.elapsed()
        requested = self.detach_requested.setdefault((node_name, pv_name), now)
        in_use = False
        healthy = False
        out_of_service = False
        if node is not None:
            attachment_unique = self._unique_for(va)
            in_use = attachment_unique in (node.get("status", {}).get("volumesInUse") or [])
            healthy = pu.node_ready(node)
            out_of_service = any(
                t.get("key") == pu.TAINT_OUT_OF_SERVICE for t in node.get("spec", {}).get("taints") or []
            )
        timeout = now - requested >= MAX_WAIT_FOR_UNMOUNT
        force = not healthy and (timeout or out_of_service)
        if in_use and not force:
            return max(1.0, MAX_WAIT_FOR_UNMOUNT - (now - requested)) if not healthy else None
        try:
            self.registry.delete("volumeattachments", pu.name_of(va))
        except ApiError:
            return 1.0
        self.detach_requested.pop((node_name, pv_name), None)
        self.multi_attach_reported = {k for k in self.multi_attach_reported if k[0] != pv_name}
        self.attached_reported = {k for k in self.attached_reported if k[1] != pv_name}
        return None

    def _unique_for(self, va: Obj) -> str:
        pv_name = (va.get("spec", {}).get("source") or {}).get("persistentVolumeName", "")
        pv = self.inf("persistentvolumes").get(pv_name)
        handle = ((pv or {}).get("spec", {}).get("csi") or {}).get("volumeHandle", "")
        return f"kubernetes.io/csi/{va.get('spec', {}).get('attacher', '')}^{handle}"

    def _attach(self, node_name: str, info: VolumeInfo, pods: list[Obj], va: Obj | None) -> float | None:
        pv_name = info.spec_name
        if va is None:
            elsewhere = [
                other
                for other in self.inf("volumeattachments").by_index("pv", pv_name)
                if other.get("spec", {}).get("nodeName") != node_name
            ]
            if elsewhere and not multi_attach_allowed(info.pv):
                self._report_multi_attach(node_name, info, pods, elsewhere)
                return None
            return self._create_attachment(node_name, info)
        if pu.deleting(va):
            return 1.0  # a detach of this very attachment is finishing; attach again afterwards
        status = va.get("status") or {}
        if status.get("attached"):
            self.attach_started.pop((node_name, pv_name), None)
            for pod in pods:
                mark = (pu.uid_of(pod), pv_name)
                if mark not in self.attached_reported:
                    self.attached_reported.add(mark)
                    self.recorder.normal(
                        pod,
                        "SuccessfulAttachVolume",
                        f'AttachVolume.Attach succeeded for volume "{pv_name}" ',
                    )
            return None
        error = (status.get("attachError") or {}).get("message")
        started = self.attach_started.setdefault((node_name, pv_name), self.clock.elapsed())
        timeout = pu.sim_timeout(self.clock, ATTACH_TIMEOUT, real_floor=2.0)
        if not error and self.clock.elapsed() - started >= timeout:
            error = (
                f"timed out waiting for external-attacher of {info.driver} CSI driver "
                f"to attach volume {info.handle}"
            )
            self.attach_started[(node_name, pv_name)] = self.clock.elapsed()
        if error:
            for pod in pods:
                mark = (pu.uid_of(pod), pv_name)
                if self.errors_reported.get(mark) != error or not status.get("attachError"):
                    self.errors_reported[mark] = error
                    self.recorder.warning(
                        pod,
                        "FailedAttachVolume",
                        f'AttachVolume.Attach failed for volume "{pv_name}" : {error}',
                    )
        return max(1.0, timeout - (self.clock.elapsed() - started))

    def _create_attachment(self, node_name: str, info: VolumeInfo) -> float | None:
        va = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "VolumeAttachment",
            "metadata": {"name": attachment_name(info.handle, info.driver, node_name)},
            "spec": {
                "attacher": info.driver,
                "nodeName": node_name,
                "source": {"persistentVolumeName": info.spec_name},
            },
        }
        try:
            created = self.registry.create_entry("volumeattachments", va).obj
        except ApiError as exc:
            return None if exc.code == 409 else 1.0
        self.inf("volumeattachments").observe(created)
        self.attach_started[(node_name, info.spec_name)] = self.clock.elapsed()
        return ATTACH_TIMEOUT

    def _report_multi_attach(
        self, node_name: str, info: VolumeInfo, pods: list[Obj], elsewhere: list[Obj]
    ) -> None:
        if (info.spec_name, node_name) in self.multi_attach_reported:
            return
        self.multi_attach_reported.add((info.spec_name, node_name))
        other_nodes = {va.get("spec", {}).get("nodeName", "") for va in elsewhere}
        users = [p for n in sorted(other_nodes) for p in self.desired(n).get(info.spec_name, (None, []))[1]]
        for pod in pods:
            names = [pu.name_of(u) for u in users if pu.ns_of(u) == pu.ns_of(pod)]
            others = sum(1 for u in users if pu.ns_of(u) != pu.ns_of(pod))
            if not users:
                detail = "Volume is already exclusively attached to one node and can't be attached to another"
            elif names:
                detail = f"Volume is already used by pod(s) {', '.join(names)}"
                if others:
                    detail += f" and {others} pod(s) in different namespaces"
            else:
                detail = f"Volume is already used by {others} pod(s) in different namespaces"
            self.recorder.warning(
                pod, "FailedAttachVolume", f'Multi-Attach error for volume "{info.spec_name}" {detail}'
            )

    def _report_attached(self, node: Obj, by_pv: dict[str, Obj]) -> None:
        want = []
        for va in by_pv.values():
            if (va.get("status") or {}).get("attached") and not pu.deleting(va):
                want.append({"name": self._unique_for(va), "devicePath": ""})
        want.sort(key=lambda v: v["name"])
        have = node.get("status", {}).get("volumesAttached") or []
        if sorted(have, key=lambda v: v.get("name", "")) == want:
            return
        try:
            result = self.registry.patch_entry(
                "nodes", pu.name_of(node), {"status": {"volumesAttached": want or None}}, subresource="status"
            ).obj
        except ApiError:
            return
        self.inf("nodes").observe(result)


def build(cluster: SimCluster) -> list[Controller]:
    return [AttachDetachController(cluster)]
