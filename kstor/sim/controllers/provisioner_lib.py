"""sig-storage-lib-external-provisioner's ProvisionController, for the simulated external provisioners.

A provisioner acts only while its loop runs *and* its Deployment has a running pod (phase Running,
not deleting), as a real one does only while its process runs. Running, not Ready: the NFS
provisioner's pod turns unready while its NFS mount hangs, yet the process keeps trying and failing.

Claims: provision when `volume.kubernetes.io/storage-provisioner`
names it, `spec.volumeName` is empty and (WaitForFirstConsumer) `selected-node` is set. Volumes:
delete Released + Delete volumes it provisioned. Failures are retried with per-item exponential
back-off and given up after `failed_threshold` tries until the next resync, like the library.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import RESYNC, Obj, QueueLoop
from kstor.sim.controllers.util import (
    ANN_BETA_STORAGE_PROVISIONER,
    ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    claim_reference,
    is_not_found,
    mutate,
)
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster

IDX_NAMESPACE = "storage/namespace"
FINALIZER_PV = "external-provisioner.volume.kubernetes.io/finalizer"


class ProvisionError(Exception):
    """Provisioning failed; `reschedule` asks the scheduler to pick another node (selected-node removed)."""

    def __init__(self, message: str, *, reschedule: bool = False) -> None:
        super().__init__(message)
        self.reschedule = reschedule


class ExternalProvisioner(QueueLoop):
    """Subclasses set the Deployment it runs as and implement `provision` and `delete`."""

    plurals = (
        "storageclasses",
        "persistentvolumeclaims",
        "persistentvolumes",
        "pods",
        "deployments",
        "nodes",
    )
    resync_seconds = 900.0  # the library's 15 min resync
    deployment_namespace = ""
    deployment_name = ""
    default_provisioner = ""
    add_finalizer = False
    backoff_base = 0.005  # workqueue.DefaultControllerRateLimiter: 5 ms doubling ...
    backoff_max = 1000.0  # ... up to 1000 s
    failed_threshold = 15

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.world = cluster.world

    # --- the driver's part ---------------------------------------------------------------------------
    def provision(self, claim: Obj, sc: Obj, node: Obj | None, pv_name: str) -> Obj:
        """Return the new PV (name, spec); raise ProvisionError on failure."""
        raise NotImplementedError

    def delete(self, pv: Obj) -> None:
        """Remove the backing storage; raise ProvisionError on failure."""
        raise NotImplementedError

    def provisioner_name(self) -> str:
        return self.default_provisioner

    # --- the Deployment it runs as -------------------------------------------------------------------
    def deployment(self) -> Obj | None:
        return self.inf("deployments").get(self.deployment_name, self.deployment_namespace)

    def container_env(self) -> dict[str, str]:
        dep = self.deployment() or {}
        version = dep.get("metadata", {}).get("resourceVersion")
        cached = getattr(self, "_env_cache", None)
        if cached is not None and cached[0] == version:
            return cached[1]
        env: dict[str, str] = {}
        for container in dep.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []:
            for item in container.get("env") or []:
                if "value" in item:
                    env[item.get("name", "")] = str(item["value"])
        self._env_cache = (version, env)
        return env

    def active_pod(self) -> Obj | None:
        dep = self.deployment()
        if dep is None:
            return None
        selector = dep.get("spec", {}).get("selector")
        for pod in self.inf("pods").by_index(IDX_NAMESPACE, self.deployment_namespace):
            labels = pod.get("metadata", {}).get("labels") or {}
            if not pu.deleting(pod) and pu.match_label_selector(selector, labels) and _running(pod):
                return pod
        return None

    def _recorder_for(self, pod: Obj) -> EventRecorder:
        host = pu.name_of(pod)
        if self._host != host:  # a new pod is a new process with a new identity
            self._host = host
            component = f"{self.provisioner_name()}_{host}_{self.cluster.ids.uid()}"
            self.recorder = EventRecorder(self.registry, component)
        return self.recorder

    # --- queueing ------------------------------------------------------------------------------------
    def setup(self) -> None:
        self.inf("pods").add_index(IDX_NAMESPACE, lambda pod: [pu.ns_of(pod)])
        self._host = ""
        self.recorder = EventRecorder(self.registry, self.provisioner_name())
        self._failures: dict[Hashable, int] = {}

    def resync_interval(self) -> float | None:
        # 15 sim minutes is 0.9 s real at speed 1000, and each pass reads every claim and volume:
        # at least 2 s real plus 1 s per 1,000 claims (a safety net: events drive the work).
        real = 2.0 + len(self.inf("persistentvolumeclaims").store) / 1000
        return max(self.resync_seconds or 0.0, self.clock.speed * real)

    def enqueue_all(self) -> None:
        for (ns, name), claim in self.inf("persistentvolumeclaims").store.items():
            if self._claim_is_mine(claim):
                self.queue.add(("pvc", ns, name))
        for (_, name), pv in self.inf("persistentvolumes").store.items():
            if self._volume_is_mine(pv):
                self.queue.add(("pv", name))

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if new is None:
            return
        if plural == "persistentvolumeclaims" and event_type != "DELETED" and self._claim_is_mine(new):
            self.queue.add(("pvc", pu.ns_of(new), pu.name_of(new)))
        elif plural == "persistentvolumes" and event_type != "DELETED" and self._volume_is_mine(new):
            self.queue.add(("pv", pu.name_of(new)))
        elif plural == "pods" and pu.ns_of(new) == self.deployment_namespace:
            if _running(new) and (old is None or not _running(old)):
                self.enqueue_all()  # our pod (re)started: look at everything again

    def _claim_is_mine(self, claim: Obj) -> bool:
        if claim.get("spec", {}).get("volumeName"):
            return False
        ann = claim.get("metadata", {}).get("annotations") or {}
        name = ann.get(ANN_STORAGE_PROVISIONER) or ann.get(ANN_BETA_STORAGE_PROVISIONER)
        return name == self.provisioner_name()

    def _volume_is_mine(self, pv: Obj) -> bool:
        ann = pv.get("metadata", {}).get("annotations") or {}
        return ann.get(ANN_PROVISIONED_BY) == self.provisioner_name() and (
            pv.get("status", {}).get("phase") == "Released" or pu.deleting(pv)
        )

    async def sync(self, key: Hashable) -> float | None:
        if key == RESYNC or not isinstance(key, tuple):
            return None
        pod = self.active_pod()
        if pod is None:
            return None  # not running: a pod becoming Ready re-enqueues everything
        recorder = self._recorder_for(pod)
        try:
            ok = (
                self._sync_claim(key[1], key[2], recorder)
                if key[0] == "pvc"
                else self._sync_volume(key[1], recorder)
            )
        except ProvisionError:
            ok = False
        if ok:
            self._failures.pop(key, None)
            return None
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        if failures >= self.failed_threshold:
            self._failures.pop(key, None)
            return None  # "giving up": only the next resync or change tries again
        return min(self.backoff_base * 2 ** (failures - 1), self.backoff_max)

    # --- provisioning --------------------------------------------------------------------------------
    def _should_provision(self, claim: Obj, sc: Obj | None) -> bool:
        if not self._claim_is_mine(claim) or pu.deleting(claim):
            return False
        if sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            return bool((claim["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE))
        return True

    def _sync_claim(self, namespace: str, name: str, recorder: EventRecorder) -> bool:
        claim = self.inf("persistentvolumeclaims").get(name, namespace)
        if claim is None:
            return True
        cls_name = pu.claim_class(claim)
        sc = self.inf("storageclasses").get(cls_name) if cls_name else None
        if not self._should_provision(claim, sc):
            return True
        pv_name = f"pvc-{pu.uid_of(claim)}"
        if self.inf("persistentvolumes").get(pv_name) is not None or self._exists(
            "persistentvolumes", pv_name
        ):
            return True
        if sc is None or sc.get("provisioner") != self.provisioner_name():
            return sc is not None  # class missing: retry; class now names another provisioner: stop
        node = None
        node_name = (claim["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE)
        if node_name:
            node = self.inf("nodes").get(node_name)
            if node is None:
                self._fail(claim, recorder, f'nodes "{node_name}" not found', reschedule=True)
                return False
        recorder.normal(
            claim,
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{namespace}/{name}"',
        )
        try:
            pv = self.provision(claim, sc, node, pv_name)
        except ProvisionError as exc:
            message = f'failed to provision volume with StorageClass "{cls_name}": {exc}'
            self._fail(claim, recorder, message, reschedule=exc.reschedule)
            return False
        self._store_volume(claim, sc, pv, cls_name)
        recorder.normal(claim, "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}")
        return True

    def _store_volume(self, claim: Obj, sc: Obj, pv: Obj, cls_name: str) -> None:
        meta = pv.setdefault("metadata", {})
        meta.setdefault("annotations", {})[ANN_PROVISIONED_BY] = sc.get("provisioner", "")
        if self.add_finalizer:
            meta.setdefault("finalizers", []).append(FINALIZER_PV)
        pv["spec"]["claimRef"] = claim_reference(claim)
        pv["spec"]["storageClassName"] = cls_name
        pv.setdefault("apiVersion", "v1")
        pv.setdefault("kind", "PersistentVolume")
        try:
            self.registry.create("persistentvolumes", pv)
        except Exception as exc:
            if getattr(exc, "code", None) != 409:  # already there: a previous attempt stored it
                raise

    def _fail(self, claim: Obj, recorder: EventRecorder, message: str, *, reschedule: bool) -> None:
        recorder.warning(claim, "ProvisioningFailed", message)
        if reschedule and ANN_SELECTED_NODE in (claim["metadata"].get("annotations") or {}):

            def unselect(obj: Obj) -> bool:
                return (obj["metadata"].get("annotations") or {}).pop(ANN_SELECTED_NODE, None) is not None

            mutate(self.registry, "persistentvolumeclaims", pu.name_of(claim), pu.ns_of(claim), unselect)

    # --- deleting ------------------------------------------------------------------------------------
    def _sync_volume(self, name: str, recorder: EventRecorder) -> bool:
        pv = self.inf("persistentvolumes").get(name)
        if pv is None:
            return True
        if pu.deleting(pv):
            self._drop_finalizer(name)
            return True
        if pv.get("status", {}).get("phase") != "Released":
            return True
        if pv.get("spec", {}).get("persistentVolumeReclaimPolicy") != "Delete":
            return True
        try:
            self.delete(pv)
        except ProvisionError as exc:
            recorder.warning(pv, "VolumeFailedDelete", str(exc))
            return False
        try:
            self.registry.delete("persistentvolumes", name)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        self._drop_finalizer(name)
        return True

    def _drop_finalizer(self, name: str) -> None:
        if not self.add_finalizer:
            return

        def drop(obj: Obj) -> bool:
            finalizers = obj["metadata"].get("finalizers") or []
            if FINALIZER_PV not in finalizers:
                return False
            obj["metadata"]["finalizers"] = [f for f in finalizers if f != FINALIZER_PV]
            return True

        try:
            mutate(self.registry, "persistentvolumes", name, None, drop)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def _exists(self, plural: str, name: str, namespace: str | None = None) -> bool:
        try:
            self.registry.get(plural, name, namespace)
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise
        return True


def _running(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") == "Running"


def quantity_request(claim: Obj) -> Any:
    return ((claim.get("spec", {}).get("resources") or {}).get("requests") or {}).get("storage", "0")
