"""kubelet/<node>: one loop per node — volume manager, pod status, node heartbeats.

For each pod bound to its node: report attachable volumes in node.status.volumesInUse, wait for
attach (volumesAttached + VolumeAttachment attached), mount (NFS fails while the server is down,
with the real mount.nfs text and growing back-off), record mounts in the `kstor.io/mounts`
annotation, then run the containers (Pulled/Created/Started). A deleted pod is unmounted and then
finally deleted with gracePeriodSeconds=0. The Lease in kube-node-lease is renewed every 10 sim
seconds and the Ready condition kept True. Stopping the loop stops all of it, as a dead kubelet.

All kubelets share one pod watch: a dispatcher routes events by spec.nodeName.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.attach_detach import VolumeInfo, resolve_volumes
from kstor.sim.controllers.base import Controller
from kstor.sim.controllers.informers import Key, Obj, QueueLoop, key_of, shared_informers
from kstor.sim.controllers.node_lifecycle import LEASE_NAMESPACE, heartbeat_interval
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster

log = logging.getLogger(__name__)

HEARTBEAT = ("__heartbeat__",)
NFS_CHECK = ("__nfs__",)
MOUNT_TIMEOUT = 120.0  # WaitForAttachAndMount
MOUNT_REAL_PER_PENDING = 0.01
IDX_STARTING = "kubelet-starting"
BACKOFF_START = 0.5
BACKOFF_MAX = 122.0  # the 2m2s exponential back-off cap of volume operations
STATUS_REPORT_EVERY = 6  # heartbeats between forced node status refreshes
PLURALS = ("csidrivers", "persistentvolumes", "persistentvolumeclaims", "volumeattachments", "nodes", "pods")


@dataclass
class PodState:
    mounts: dict[str, dict[str, str]] = field(default_factory=dict)
    backoff: dict[str, float] = field(default_factory=dict)
    retry_at: dict[str, float] = field(default_factory=dict)
    first_seen: float = 0.0
    timeout_reported_at: float | None = None
    started_at: str = ""
    in_use: frozenset[str] = frozenset()  # attachable volumes this pod needs (volumesInUse)
    killing: bool = False
    ip: str = ""
    nfs_up: bool | None = None  # the NFS server's state this pod was last synced with


def _starting(pod: Obj) -> list[bool]:
    """Bound to a node, not deleting, still Pending: a pod some kubelet is working on."""
    starting = pu.node_of(pod) and not pu.deleting(pod) and pod.get("status", {}).get("phase") == "Pending"
    return [True] if starting else []


class Dispatcher:
    """Routes shared informer events to the kubelet of the node they concern."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[str, str, Obj | None, Obj | None], None]] = {}

    def handle(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        targets: set[str] = set()
        for obj in (old, new):
            if obj is None:
                continue
            if plural == "pods":
                targets.add(pu.node_of(obj))
            elif plural == "nodes":
                targets.add(pu.name_of(obj))
            elif plural == "volumeattachments":
                targets.add(obj.get("spec", {}).get("nodeName", ""))
        for target in targets:
            route = self.routes.get(target)
            if route is not None:
                route(plural, event_type, old, new)


_DISPATCHERS: weakref.WeakKeyDictionary[Any, Dispatcher] = weakref.WeakKeyDictionary()


def dispatcher(cluster: SimCluster) -> Dispatcher:
    found = _DISPATCHERS.get(cluster.registry)
    if found is None:
        found = _DISPATCHERS[cluster.registry] = Dispatcher()
    return found


class Kubelet(QueueLoop):
    def __init__(self, cluster: SimCluster, node_name: str) -> None:
        super().__init__(cluster)
        self.node_name = node_name
        self.name = f"kubelet/{node_name}"
        self.recorder = EventRecorder(cluster.registry, "kubelet", node_name)
        self.pods: dict[Key, PodState] = {}
        self._own_rv: dict[Key, str] = {}  # resourceVersion of our last write of each pod
        self.in_use: set[str] = set()
        self.nfs_pods: set[Key] = set()
        self._nfs_armed = False
        self.beats = 0
        self._ip_seq = 1
        self._subnet = zlib.crc32(node_name.encode()) % 250 + 1

    # --- plumbing ----------------------------------------------------------------------------------
    async def run(self) -> None:
        self.queue = type(self.queue)(self.clock)
        informers = shared_informers(self.cluster)
        route = dispatcher(self.cluster)
        async with informers.use(PLURALS, None):
            pods = informers.informer("pods")
            pods.add_index("node", lambda p: [pu.node_of(p)] if pu.node_of(p) else [])
            informers.informer("volumeattachments").add_index(
                "node", lambda va: [va.get("spec", {}).get("nodeName", "")]
            )
            pods.add_index(IDX_STARTING, _starting)
            for plural in ("pods", "nodes", "volumeattachments"):
                informers.informer(plural).add_handler(route.handle)
            route.routes[self.node_name] = self.on_event
            try:
                self.enqueue_all()
                # Stagger heartbeats so a thousand kubelets do not renew in the same instant.
                self.queue.add(HEARTBEAT)
                self._nfs_armed = False
                while True:
                    for key in await self.queue.get_batch():
                        await self._sync_one(key)
                        await self.pace()
                    await asyncio.sleep(0)
            finally:
                if route.routes.get(self.node_name) == self.on_event:
                    del route.routes[self.node_name]

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if plural == "pods":
            obj = new or old
            if obj is None:
                return
            key = key_of(obj)
            if new is not None and event_type != "DELETED":
                if self._own_rv.get(key) == new["metadata"].get("resourceVersion"):
                    return
            else:
                self._own_rv.pop(key, None)
            self.queue.add(key)
        else:
            # Node and VolumeAttachment changes only matter to pods still waiting for a volume:
            # a mounted volume is not looked at again (and a pod being torn down polls on its own).
            for pod in self.inf("pods").by_index("node", self.node_name):
                key = key_of(pod)
                state = self.pods.get(key)
                if state is None or any(m["state"] != "mounted" for m in state.mounts.values()):
                    self.queue.add(key)

    def enqueue_all(self) -> None:
        for pod in self.inf("pods").by_index("node", self.node_name):
            self.queue.add(key_of(pod))
        for key in list(self.pods):
            self.queue.add(key)

    async def sync(self, key: Hashable) -> float | None:
        if key == HEARTBEAT:
            self._heartbeat()
            interval = heartbeat_interval(self.cluster)
            return interval * (0.9 + 0.2 * self.cluster.ids.random())
        if key == NFS_CHECK:
            # Only kubelets with NFS pods poll the server's state (1,000 idle timers add up).
            if not self.nfs_pods:
                self._nfs_armed = False
                return None
            # Compared per pod, not with the state this check saw last time: the server can come up and
            # go down again between two checks while the pods synced on their own in between.
            up = bool(self.cluster.world.get("nfs_up", True))
            for pod_key in self.nfs_pods:
                state = self.pods.get(pod_key)
                if state is None or state.nfs_up != up:
                    self.queue.add(pod_key)
            return max(1.0, heartbeat_interval(self.cluster) / 5)
        assert isinstance(key, tuple)
        pod = self.inf("pods").store.get(key)
        if pod is None or pu.node_of(pod) != self.node_name:
            self._forget(key)
            return None
        if pu.deleting(pod):
            return self._terminate(key, pod)
        return self._sync_pod(key, pod)

    def _forget(self, key: Key) -> None:
        self.pods.pop(key, None)
        self._own_rv.pop(key, None)
        self.nfs_pods.discard(key)
        self._update_in_use()

    # --- volumes -----------------------------------------------------------------------------------
    def _volumes(self, pod: Obj) -> list[VolumeInfo]:
        return resolve_volumes(
            pod,
            get_claim=lambda n, ns: self.inf("persistentvolumeclaims").get(n, ns),
            get_pv=lambda n: self.inf("persistentvolumes").get(n),
            get_driver=lambda n: self.inf("csidrivers").get(n),
        )

    def _attached(self, info: VolumeInfo) -> bool:
        node = self.inf("nodes").get(self.node_name) or {}
        listed = {v.get("name") for v in node.get("status", {}).get("volumesAttached") or []}
        if info.unique_name not in listed:
            return False
        for va in self.inf("volumeattachments").by_index("node", self.node_name):
            if (va.get("spec", {}).get("source") or {}).get("persistentVolumeName") == info.spec_name:
                return bool((va.get("status") or {}).get("attached"))
        return False

    def _sync_pod(self, key: Key, pod: Obj) -> float | None:
        now = self.clock.elapsed()
        state = self.pods.get(key)
        if state is None:
            state = self.pods[key] = PodState(first_seen=now)
        volumes = self._volumes(pod)
        uid = pu.uid_of(pod)
        nfs_up = bool(self.cluster.world.get("nfs_up", True))
        state.nfs_up = nfs_up
        if any(v.plugin == "nfs" for v in volumes):
            self.nfs_pods.add(key)
            if not self._nfs_armed:
                self._nfs_armed = True
                self.queue.add_after(NFS_CHECK, 1.0)
        delays: list[float] = []
        unmounted: list[str] = []
        unattached: list[str] = []
        for info in volumes:
            mount = state.mounts.get(info.name)
            if mount and mount["state"] == "mounted":
                continue
            path = info.mount_path(uid)
            if info.waiting:
                state.mounts[info.name] = {"path": path, "state": "mounting", "message": info.waiting}
                unmounted.append(info.name)
                delays.append(5.0)
                continue
            if info.attachable and not self._attached(info):
                state.mounts[info.name] = {"path": path, "state": "mounting", "message": ""}
                unmounted.append(info.name)
                unattached.append(info.name)
                continue
            if now < state.retry_at.get(info.name, 0.0):
                unmounted.append(info.name)
                delays.append(state.retry_at[info.name] - now)
                continue
            if info.plugin == "nfs" and not nfs_up:
                message = self._nfs_failure(info, path)
                state.mounts[info.name] = {"path": path, "state": "failed", "message": message}
                self.recorder.warning(pod, "FailedMount", message)
                backoff = min(BACKOFF_MAX, state.backoff.get(info.name, BACKOFF_START / 2) * 2)
                state.backoff[info.name] = backoff
                state.retry_at[info.name] = now + backoff
                unmounted.append(info.name)
                delays.append(backoff)
                continue
            state.mounts[info.name] = {"path": path, "state": "mounted", "message": ""}
            state.backoff.pop(info.name, None)
            state.retry_at.pop(info.name, None)
        state.in_use = frozenset(v.unique_name for v in volumes if v.attachable and v.pv is not None)
        self._update_in_use()
        if unmounted:
            waited = now - state.first_seen
            # 2 min of sim time, at least 2 s real plus 10 ms per pod in the cluster still starting on
            # its node: thousands of volumes attached and mounted at once are a backlog the sim works
            # through in real time, not a stuck attach (a real attacher has two real minutes for it).
            pending = self.inf("pods").count(IDX_STARTING, True)
            floor = 2.0 + MOUNT_REAL_PER_PENDING * pending
            timeout = pu.sim_timeout(self.clock, MOUNT_TIMEOUT, real_floor=floor)
            if waited >= timeout and (
                state.timeout_reported_at is None or now - state.timeout_reported_at >= timeout
            ):
                state.timeout_reported_at = now
                self.recorder.warning(
                    pod,
                    "FailedMount",
                    "Unable to attach or mount volumes: "
                    f"unmounted volumes=[{' '.join(sorted(unmounted))}], "
                    f"unattached volumes=[{' '.join(sorted(unattached))}]: "
                    "timed out waiting for the condition",
                )
            delays.append(max(1.0, timeout - waited % timeout))
        else:
            self._start_containers(pod, state)
        nfs_degraded = not nfs_up and any(v.plugin == "nfs" for v in volumes)
        self._write_mounts(pod, state)
        self._write_status(pod, state, running=not unmounted, ready=not unmounted and not nfs_degraded)
        return min(delays) if delays else None

    @staticmethod
    def _nfs_failure(info: VolumeInfo, path: str) -> str:
        return (
            f'MountVolume.SetUp failed for volume "{info.spec_name}" : mount failed: exit status 32\n'
            "Mounting command: mount\n"
            f"Mounting arguments: -t nfs {info.server}:{info.path} {path}\n"
            "Output: mount.nfs: Connection timed out"
        )

    def _update_in_use(self) -> None:
        wanted: set[str] = set()
        for state in self.pods.values():
            wanted |= state.in_use
        if wanted == self.in_use:
            return
        self.in_use = wanted
        try:
            result = self.registry.patch_entry(
                "nodes",
                self.node_name,
                {"status": {"volumesInUse": sorted(wanted) or None}},
                subresource="status",
            ).obj
        except ApiError:
            return
        self.inf("nodes").observe(result)

    # --- containers and status ---------------------------------------------------------------------
    def _start_containers(self, pod: Obj, state: PodState) -> None:
        if state.started_at:
            return
        state.started_at = self.clock.timestamp()
        for container in pod.get("spec", {}).get("containers") or []:
            name, image = container.get("name", ""), container.get("image", "")
            self.recorder.normal(pod, "Pulled", f'Container image "{image}" already present on machine')
            self.recorder.normal(pod, "Created", f"Created container: {name}")
            self.recorder.normal(pod, "Started", f"Started container {name}")

    def _write_mounts(self, pod: Obj, state: PodState) -> None:
        text = json.dumps(state.mounts, sort_keys=True)
        current = (pod.get("metadata", {}).get("annotations") or {}).get(pu.ANN_MOUNTS)
        if current == text:
            return
        try:
            result = self.registry.patch_entry(
                "pods", pu.name_of(pod), {"metadata": {"annotations": {pu.ANN_MOUNTS: text}}}, pu.ns_of(pod)
            ).obj
        except ApiError:
            return
        self._observe_own(result)

    def _observe_own(self, pod: Obj) -> None:
        """Cache our own pod write; its event must not queue the pod again (this sync wrote it)."""
        self._own_rv[key_of(pod)] = pod["metadata"].get("resourceVersion", "")
        self.inf("pods").observe(pod)

    def _pod_ip(self, state: PodState) -> str:
        if not state.ip:
            state.ip = f"10.244.{self._subnet}.{self._ip_seq % 250 + 2}"
            self._ip_seq += 1
        return state.ip

    def _host_ip(self) -> str:
        node = self.inf("nodes").get(self.node_name) or {}
        for addr in node.get("status", {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return addr.get("address", "")
        return f"172.18.0.{self._subnet + 1}"

    def _write_status(self, pod: Obj, state: PodState, *, running: bool, ready: bool) -> None:
        old_status = pod.get("status") or {}
        now = self.clock.timestamp()
        old_conds = {c.get("type"): c for c in old_status.get("conditions") or []}
        names = [c.get("name", "") for c in pod.get("spec", {}).get("containers") or []]
        not_ready_msg = f"containers with unready status: [{' '.join(names)}]"

        def cond(ctype: str, ok: bool, reason: str = "", message: str = "") -> Obj:
            status = "True" if ok else "False"
            old = old_conds.get(ctype) or {}
            out: Obj = {
                "type": ctype,
                "status": status,
                "lastProbeTime": None,
                "lastTransitionTime": old.get("lastTransitionTime", now)
                if old.get("status") == status
                else now,
            }
            if not ok and reason:
                out["reason"], out["message"] = reason, message
            return out

        conditions = [
            cond("PodReadyToStartContainers", running),
            cond("Initialized", True),
            cond("Ready", ready, "ContainersNotReady", not_ready_msg),
            cond("ContainersReady", ready, "ContainersNotReady", not_ready_msg),
            cond("PodScheduled", True),
        ]
        statuses = []
        for container in pod.get("spec", {}).get("containers") or []:
            name = container.get("name", "")
            entry: Obj = {
                "name": name,
                "image": container.get("image", ""),
                "imageID": "",
                "ready": ready,
                "restartCount": 0,
                "started": running,
                "lastState": {},
            }
            if running:
                digest = hashlib.sha256(f"{pu.uid_of(pod)}/{name}".encode()).hexdigest()
                entry["containerID"] = f"containerd://{digest}"
                entry["imageID"] = f"{container.get('image', '')}@sha256:{digest[:64]}"
                entry["state"] = {"running": {"startedAt": state.started_at or now}}
            else:
                entry["state"] = {"waiting": {"reason": "ContainerCreating"}}
            statuses.append(entry)
        host_ip = self._host_ip()
        status: Obj = {
            "phase": "Running" if running else "Pending",
            "conditions": conditions,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "startTime": old_status.get("startTime") or now,
            "containerStatuses": statuses,
            "qosClass": old_status.get("qosClass") or "BestEffort",
        }
        if running:
            ip = self._pod_ip(state)
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
        if all(old_status.get(k) == v for k, v in status.items()):
            return
        try:
            result = self.registry.patch_entry(
                "pods", pu.name_of(pod), {"status": status}, pu.ns_of(pod), subresource="status"
            ).obj
        except ApiError:
            return
        self._observe_own(result)

    # --- termination -------------------------------------------------------------------------------
    def _terminate(self, key: Key, pod: Obj) -> float | None:
        state = self.pods.get(key) or PodState(first_seen=self.clock.elapsed())
        self.pods[key] = state
        if not state.killing:
            state.killing = True
            if state.started_at:
                for container in pod.get("spec", {}).get("containers") or []:
                    self.recorder.normal(pod, "Killing", f"Stopping container {container.get('name', '')}")
        nfs_up = bool(self.cluster.world.get("nfs_up", True))
        stuck = False
        volumes = {v.name: v for v in self._volumes(pod)}
        for name, mount in list(state.mounts.items()):
            info = volumes.get(name)
            if (
                mount["state"] in ("mounted", "unmounting")
                and info is not None
                and info.plugin == "nfs"
                and not nfs_up
            ):
                mount["state"] = "unmounting"  # a hard NFS mount hangs until the server answers
                stuck = True
            else:
                del state.mounts[name]
        if stuck:
            self._write_mounts(pod, state)
            return 5.0
        self.pods.pop(key, None)
        self.nfs_pods.discard(key)
        self._update_in_use()
        try:
            result = self.registry.delete("pods", pu.name_of(pod), pu.ns_of(pod), grace_period_seconds=0)
        except ApiError as exc:
            return None if exc.code == 404 else 1.0
        self.inf("pods").observe(result, deleted=not pu.deleting(result))
        return None

    # --- node heartbeat ----------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        node = self.inf("nodes").get(self.node_name)
        if node is None:
            return
        self._renew_lease(node)
        self.beats += 1
        ready = pu.condition(node, "Ready") or {}
        if ready.get("status") != "True" or self.beats % STATUS_REPORT_EVERY == 1:
            self._post_node_status(node, was_ready=ready.get("status") == "True")

    def _renew_lease(self, node: Obj) -> None:
        spec = {
            "holderIdentity": self.node_name,
            "leaseDurationSeconds": 40,
            "renewTime": self.clock.micro_timestamp(),
        }
        try:
            self.registry.patch_entry("leases", self.node_name, {"spec": spec}, LEASE_NAMESPACE)
        except ApiError as exc:
            if exc.code != 404:
                return
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": self.node_name,
                    "namespace": LEASE_NAMESPACE,
                    "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Node", "name": self.node_name, "uid": pu.uid_of(node)}
                    ],
                },
                "spec": spec,
            }
            try:
                self.registry.create("leases", lease, LEASE_NAMESPACE)
            except ApiError:
                return

    def _post_node_status(self, node: Obj, *, was_ready: bool) -> None:
        now = self.clock.timestamp()
        wanted = {
            "MemoryPressure": (
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
        }
        old = {c.get("type"): c for c in node.get("status", {}).get("conditions") or []}
        conditions = [
            c for c in node.get("status", {}).get("conditions") or [] if c.get("type") not in wanted
        ]
        for ctype, (status, reason, message) in wanted.items():
            prev = old.get(ctype) or {}
            conditions.append(
                {
                    "type": ctype,
                    "status": status,
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": prev.get("lastTransitionTime", now)
                    if prev.get("status") == status
                    else now,
                    "reason": reason,
                    "message": message,
                }
            )
        try:
            result = self.registry.patch_entry(
                "nodes", self.node_name, {"status": {"conditions": conditions}}, subresource="status"
            ).obj
        except ApiError:
            return
        self.inf("nodes").observe(result)
        if not was_ready:
            self.recorder.normal(result, "NodeReady", f"Node {self.node_name} status is now: NodeReady")


class KubeletManager(QueueLoop):
    """Starts a kubelet for every node that appears after the cluster was built."""

    name = "kubelet-manager"
    plurals = ("nodes",)

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if event_type == "ADDED" and new is not None:
            self.queue.add(pu.name_of(new))

    def enqueue_all(self) -> None:
        for node in list(self.inf("nodes").store.values()):
            self.queue.add(pu.name_of(node))

    async def sync(self, key: Hashable) -> float | None:
        if not isinstance(key, str):
            return None
        name = f"kubelet/{key}"
        if name in self.cluster.controllers.names():
            return None
        self.cluster.controllers.add(Kubelet(self.cluster, key))
        self.cluster.controllers.start(name)
        return None


def build(cluster: SimCluster) -> list[Controller]:
    loops: list[Controller] = [KubeletManager(cluster)]
    for node in cluster.registry.list("nodes").get("items", []):
        loops.append(Kubelet(cluster, pu.name_of(node)))
    return loops
