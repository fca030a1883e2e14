"""deployment-controller, replicaset-controller and statefulset-controller.

Names, labels, events and status fields follow pkg/controller/{deployment,replicaset,statefulset}.
Rollouts are simplified (the new ReplicaSet is scaled to the full count at once, old ones down as
new pods become available); what the dashboard reads — owners, names, counts, conditions — is real.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Hashable
from typing import TYPE_CHECKING

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj, QueueLoop, key_of
from kstor.sim.events import EventRecorder

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery rand.SafeEncodeString
HASH_LABEL = "pod-template-hash"
REVISION_ANN = "deployment.kubernetes.io/revision"
MAX_CREATES_PER_SYNC = 500


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """fnv-32a of the template, encoded as the controllers encode it (10 chars from a safe alphabet)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")) + (
        str(collision_count) if collision_count else ""
    )
    value = 0x811C9DC5
    for byte in data.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE_ALPHANUMS[ord(ch) % len(SAFE_ALPHANUMS)] for ch in str(value))


def active(pod: Obj) -> bool:
    return not pu.deleting(pod) and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def _now_condition(ctype: str, status: str, reason: str, message: str, now: str, old: Obj | None) -> Obj:
    transition = old.get("lastTransitionTime", now) if old and old.get("status") == status else now
    return {
        "type": ctype,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    }


def _dependent_facts(obj: Obj) -> tuple[object, ...]:
    """What the owner syncs read of a dependent (pod or ReplicaSet): owner, name, labels, deletion,
    phase, readiness, and for a ReplicaSet its spec and status."""
    meta = obj.get("metadata", {})
    return (
        pu.owner_uid(obj),
        meta.get("name"),
        meta.get("labels"),
        meta.get("annotations") if obj.get("kind") == "ReplicaSet" else None,
        pu.deleting(obj),
        obj.get("status", {}).get("phase"),
        pu.pod_ready(obj),
        obj.get("spec") if obj.get("kind") == "ReplicaSet" else None,
        obj.get("status") if obj.get("kind") == "ReplicaSet" else None,
    )


class OwnerLoop(QueueLoop):
    """A loop keyed by owner objects of `owner_plural` whose dependents are `dependent_plural`."""

    owner_plural = ""
    dependent_plural = "pods"

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self._hash_cache: dict[tuple[str, int, int], str] = {}

    def setup(self) -> None:
        self.inf(self.owner_plural).add_index("uid", lambda o: [pu.uid_of(o)])
        self.inf(self.dependent_plural).add_index(
            "owner", lambda o: [pu.owner_uid(o)] if pu.owner_uid(o) else []
        )

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None:
            return
        if plural == self.owner_plural:
            self.queue.add(key_of(obj))
            return
        # A DELETED event carries the last version as both old and new: it always matters.
        if event_type == "MODIFIED" and old and new and _dependent_facts(old) == _dependent_facts(new):
            return  # e.g. a mount annotation or a container status: nothing an owner sync reads
        for candidate in (old, new):
            uid = pu.owner_uid(candidate) if candidate else ""
            if uid:
                for owner in self.inf(self.owner_plural).by_index("uid", uid):
                    self.queue.add(key_of(owner))

    def enqueue_all(self) -> None:
        for key in list(self.inf(self.owner_plural).store):
            self.queue.add(key)

    def resync_interval(self) -> float | None:
        # Owners are synced by their own and their dependents' events; the periodic pass is a safety
        # net: every 30 sim s, but at least 2 s real plus 2 s per 1,000 owners (1,000 StatefulSets
        # every 2 s was a tenth of a core).
        owners = len(self.inf(self.owner_plural).store)
        real = self.resync_real_floor + 2 * owners / 1000
        return max(self.resync_seconds or 0.0, self.clock.speed * real)

    def cached_hash(self, owner: Obj, collision_count: int) -> str:
        """template_hash per (uid, generation): the template only changes with the generation."""
        meta = owner.get("metadata", {})
        key = (meta.get("uid", ""), meta.get("generation", 0), collision_count)
        found = self._hash_cache.get(key)
        if found is None:
            if len(self._hash_cache) > 100_000:
                self._hash_cache.clear()
            found = template_hash(owner.get("spec", {}).get("template") or {}, collision_count)
            self._hash_cache[key] = found
        return found

    def dependents(self, owner: Obj) -> list[Obj]:
        return self.inf(self.dependent_plural).by_index("owner", pu.uid_of(owner))

    def write_status(self, owner: Obj, status: Obj) -> None:
        merged = dict(owner.get("status") or {})
        merged.update(status)
        if merged == (owner.get("status") or {}):
            return
        try:
            result = self.registry.patch_entry(
                self.owner_plural,
                pu.name_of(owner),
                {"status": status},
                pu.ns_of(owner),
                subresource="status",
            ).obj
        except ApiError:
            return
        self.inf(self.owner_plural).observe(result)


class ReplicaSetController(OwnerLoop):
    name = "replicaset-controller"
    plurals = ("replicasets", "pods")
    owner_plural = "replicasets"
    resync_seconds = 30.0
    resync_real_floor = 2.0

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, "replicaset-controller")

    async def sync(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple)
        rs = self.inf("replicasets").store.get(key)
        if rs is None or pu.deleting(rs):
            return None
        pods = [p for p in self.dependents(rs) if active(p)]
        want = int(rs.get("spec", {}).get("replicas", 1))
        requeue = None
        if len(pods) < want:
            for _ in range(min(want - len(pods), MAX_CREATES_PER_SYNC)):
                self._create_pod(rs)
            requeue = 0.0 if want - len(pods) > MAX_CREATES_PER_SYNC else None
        elif len(pods) > want:
            for pod in sorted(pods, key=self._deletion_rank)[: len(pods) - want]:
                self._delete_pod(rs, pod)
        pods = [p for p in self.dependents(rs) if active(p)]
        ready = sum(1 for p in pods if pu.pod_ready(p))
        labels = rs.get("spec", {}).get("template", {}).get("metadata", {}).get("labels") or {}
        fully = sum(
            1 for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
        )
        self.write_status(
            rs,
            {
                "replicas": len(pods),
                "fullyLabeledReplicas": fully,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs.get("metadata", {}).get("generation", 1),
            },
        )
        return requeue

    @staticmethod
    def _deletion_rank(pod: Obj) -> tuple[int, int, int, str]:
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(
            pod.get("status", {}).get("phase", "Pending"), 0
        )
        created = pod.get("metadata", {}).get("creationTimestamp", "")
        # unassigned < assigned, pending < running, not ready < ready, newer before older
        inverted = "".join(chr(0x10FFFF - ord(c)) for c in created)
        return (1 if pu.node_of(pod) else 0, phase_rank, 1 if pu.pod_ready(pod) else 0, inverted)

    def _create_pod(self, rs: Obj) -> None:
        template = rs.get("spec", {}).get("template", {})
        # create_entry copies the body; only top-level keys are set here, so shallow copies do
        meta = dict(template.get("metadata") or {})
        meta.pop("name", None)
        meta["generateName"] = f"{pu.name_of(rs)}-"
        meta["namespace"] = pu.ns_of(rs)
        meta["ownerReferences"] = [pu.owner_ref(rs, kind="ReplicaSet", api_version="apps/v1")]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta,
            "spec": template.get("spec") or {},
        }
        try:
            created = self.registry.create_entry("pods", pod, pu.ns_of(rs)).obj
        except ApiError as exc:
            self.recorder.warning(rs, "FailedCreate", f"Error creating: {exc.message}")
            return
        self.inf("pods").observe(created)
        self.recorder.normal(rs, "SuccessfulCreate", f"Created pod: {pu.name_of(created)}")

    def _delete_pod(self, rs: Obj, pod: Obj) -> None:
        try:
            result = self.registry.delete("pods", pu.name_of(pod), pu.ns_of(pod))
        except ApiError:
            return
        self.inf("pods").observe(result, deleted=not pu.deleting(result))
        self.recorder.normal(rs, "SuccessfulDelete", f"Deleted pod: {pu.name_of(pod)}")


class DeploymentController(OwnerLoop):
    name = "deployment-controller"
    plurals = ("deployments", "replicasets")
    owner_plural = "deployments"
    dependent_plural = "replicasets"
    resync_seconds = 30.0
    resync_real_floor = 2.0

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, "deployment-controller")

    async def sync(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple)
        deploy = self.inf("deployments").store.get(key)
        if deploy is None or pu.deleting(deploy):
            return None
        spec = deploy.get("spec", {})
        owned = self.dependents(deploy)
        tmpl_hash = self.cached_hash(deploy, int(deploy.get("status", {}).get("collisionCount", 0)))
        new_rs = next(
            (rs for rs in owned if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == tmpl_hash), None
        )
        old = [rs for rs in owned if rs is not new_rs]
        want = int(spec.get("replicas", 1))
        created = False
        if spec.get("paused"):
            pass
        elif new_rs is None:
            new_rs = self._create_rs(deploy, tmpl_hash, old, want)
            created = new_rs is not None
        else:
            self._scale(deploy, new_rs, want)
        if new_rs is not None and not spec.get("paused"):
            recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
            new_available = int(new_rs.get("status", {}).get("availableReplicas", 0))
            for rs in old:
                cur = int(rs.get("spec", {}).get("replicas", 0))
                target = 0 if recreate else max(0, min(cur, want - new_available))
                if target < cur:
                    self._scale(deploy, rs, target)
        self._update_status(deploy, new_rs, owned, created=created)
        return None

    def _create_rs(self, deploy: Obj, tmpl_hash: str, old: list[Obj], want: int) -> Obj | None:
        template = copy.deepcopy(deploy.get("spec", {}).get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = tmpl_hash
        selector = copy.deepcopy(deploy.get("spec", {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = tmpl_hash
        revision = 1 + max(
            (int((rs["metadata"].get("annotations") or {}).get(REVISION_ANN, "0") or 0) for rs in old),
            default=0,
        )
        name = f"{pu.name_of(deploy)}-{tmpl_hash}"
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": pu.ns_of(deploy),
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    REVISION_ANN: str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(want),
                    "deployment.kubernetes.io/max-replicas": str(want + 1),
                },
                "ownerReferences": [pu.owner_ref(deploy, kind="Deployment", api_version="apps/v1")],
            },
            "spec": {"replicas": want, "selector": selector, "template": template},
        }
        try:
            created = self.registry.create_entry("replicasets", rs, pu.ns_of(deploy)).obj
        except ApiError:
            return None
        self.inf("replicasets").observe(created)
        self.recorder.normal(deploy, "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {want}")
        return created

    def _scale(self, deploy: Obj, rs: Obj, replicas: int) -> None:
        cur = int(rs.get("spec", {}).get("replicas", 0))
        if cur == replicas:
            return
        try:
            result = self.registry.patch_entry(
                "replicasets",
                pu.name_of(rs),
                {
                    "metadata": {"annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas)}},
                    "spec": {"replicas": replicas},
                },
                pu.ns_of(rs),
            ).obj
        except ApiError:
            return
        self.inf("replicasets").observe(result)
        verb = "up" if replicas > cur else "down"
        self.recorder.normal(
            deploy,
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {pu.name_of(rs)} from {cur} to {replicas}",
        )

    def _update_status(self, deploy: Obj, new_rs: Obj | None, owned: list[Obj], *, created: bool) -> None:
        owned = self.dependents(deploy)
        want = int(deploy.get("spec", {}).get("replicas", 1))

        def total(field: str, rss: list[Obj]) -> int:
            return sum(int(rs.get("status", {}).get(field, 0)) for rs in rss)

        available = total("availableReplicas", owned)
        updated = total("replicas", [new_rs]) if new_rs is not None else 0
        now = self.clock.timestamp()
        old_conds = {c.get("type"): c for c in deploy.get("status", {}).get("conditions") or []}
        if available >= want:
            avail = _now_condition(
                "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.",
                now, old_conds.get("Available"),
            )  # fmt: skip
        else:
            avail = _now_condition(
                "Available", "False", "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.", now, old_conds.get("Available"),
            )  # fmt: skip
        rs_name = pu.name_of(new_rs) if new_rs else ""
        if created:
            prog = ("NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
        elif new_rs is not None and int(new_rs.get("status", {}).get("availableReplicas", 0)) >= want:
            prog = ("NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
        else:
            prog = ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        old_prog = old_conds.get("Progressing")
        progressing = _now_condition("Progressing", "True", prog[0], prog[1], now, old_prog)
        for cond, old_cond in ((avail, old_conds.get("Available")), (progressing, old_prog)):
            if old_cond and all(old_cond.get(k) == cond[k] for k in ("status", "reason", "message")):
                cond["lastUpdateTime"] = old_cond.get("lastUpdateTime", now)
        status = {
            "observedGeneration": deploy.get("metadata", {}).get("generation", 1),
            "replicas": total("replicas", owned),
            "updatedReplicas": updated,
            "readyReplicas": total("readyReplicas", owned),
            "availableReplicas": available,
            "unavailableReplicas": max(0, want - available),
            "conditions": [avail, progressing],
        }
        self.write_status(deploy, status)


class StatefulSetController(OwnerLoop):
    name = "statefulset-controller"
    plurals = ("statefulsets", "pods", "persistentvolumeclaims")
    owner_plural = "statefulsets"
    resync_seconds = 30.0
    resync_real_floor = 2.0

    def __init__(self, cluster: SimCluster) -> None:
        super().__init__(cluster)
        self.recorder = EventRecorder(cluster.registry, "statefulset-controller")

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        if plural == "persistentvolumeclaims":
            return  # claims are looked up when a set syncs; their changes need no action
        super().on_event(plural, event_type, old, new)

    async def sync(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple)
        sts = self.inf("statefulsets").store.get(key)
        if sts is None or pu.deleting(sts):
            return None
        spec = sts.get("spec", {})
        want = int(spec.get("replicas", 1))
        ordered = (spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
        revision = f"{pu.name_of(sts)}-{self.cached_hash(sts, 0)}"
        by_ord: dict[int, Obj] = {}
        pattern = re.compile(rf"^{re.escape(pu.name_of(sts))}-(\d+)$")
        for pod in self.dependents(sts):
            match = pattern.match(pu.name_of(pod))
            if match:
                by_ord[int(match.group(1))] = pod
        for ordinal in range(want):
            pod = by_ord.get(ordinal)
            if pod is None:
                if not self._create(sts, ordinal, revision):
                    break
                if ordered:
                    break
                continue
            if pod.get("status", {}).get("phase") == "Failed" and not pu.deleting(pod):
                self._delete(sts, pod)
                if ordered:
                    break
                continue
            if ordered and (pu.deleting(pod) or not pu.pod_ready(pod)):
                break
        else:
            self._scale_down(sts, by_ord, want, ordered=ordered)
        self._update_status(sts, revision, want)
        return None

    def _scale_down(self, sts: Obj, by_ord: dict[int, Obj], want: int, *, ordered: bool) -> None:
        extra = sorted((o for o in by_ord if o >= want), reverse=True)
        if not extra:
            return
        if ordered and any(pu.deleting(p) or not pu.pod_ready(p) for o, p in by_ord.items() if o < want):
            return
        for ordinal in extra:
            pod = by_ord[ordinal]
            if pu.deleting(pod):
                if ordered:
                    return
                continue
            self._delete(sts, pod)
            if ordered:
                return

    def _claim_name(self, sts: Obj, template: Obj, ordinal: int) -> str:
        return f"{pu.name_of(template)}-{pu.name_of(sts)}-{ordinal}"

    def _create(self, sts: Obj, ordinal: int, revision: str) -> bool:
        spec = sts.get("spec", {})
        ns, set_name = pu.ns_of(sts), pu.name_of(sts)
        pod_name = f"{set_name}-{ordinal}"
        selector_labels = (spec.get("selector") or {}).get("matchLabels") or {}
        for template in spec.get("volumeClaimTemplates") or []:
            claim_name = self._claim_name(sts, template, ordinal)
            existing = self.inf("persistentvolumeclaims").get(claim_name, ns)
            if existing is not None:
                if pu.deleting(existing):
                    return False  # real controller waits: the pod cannot use a claim being deleted
                continue
            claim = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": claim_name,
                    "namespace": ns,
                    "labels": {**(template.get("metadata", {}).get("labels") or {}), **selector_labels},
                    "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
                },
                "spec": template.get("spec") or {},  # create_entry copies it
            }
            if not claim["metadata"]["annotations"]:
                del claim["metadata"]["annotations"]
            try:
                created = self.registry.create_entry("persistentvolumeclaims", claim, ns).obj
            except ApiError as exc:
                if exc.code != 409:
                    self.recorder.warning(
                        sts,
                        "FailedCreate",
                        f"create Claim {claim_name} for Pod {pod_name} in StatefulSet {set_name} failed "
                        f"error: {exc.message}",
                    )
                    return False
                continue
            self.inf("persistentvolumeclaims").observe(created)
            self.recorder.normal(
                sts,
                "SuccessfulCreate",
                f"create Claim {claim_name} Pod {pod_name} in StatefulSet {set_name} success",
            )
        template = spec.get("template") or {}
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels.update(
            {
                "statefulset.kubernetes.io/pod-name": pod_name,
                "apps.kubernetes.io/pod-index": str(ordinal),
                "controller-revision-hash": revision,
            }
        )
        pod_spec = dict(template.get("spec") or {})  # top-level keys set below; create_entry copies
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        volumes = [v for v in pod_spec.get("volumes") or []]
        claim_vols = {t.get("metadata", {}).get("name") for t in spec.get("volumeClaimTemplates") or []}
        volumes = [v for v in volumes if v.get("name") not in claim_vols]
        for template_claim in spec.get("volumeClaimTemplates") or []:
            volumes.append(
                {
                    "name": pu.name_of(template_claim),
                    "persistentVolumeClaim": {"claimName": self._claim_name(sts, template_claim, ordinal)},
                }
            )
        if volumes:
            pod_spec["volumes"] = volumes
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": ns,
                "labels": labels,
                "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
                "ownerReferences": [pu.owner_ref(sts, kind="StatefulSet", api_version="apps/v1")],
            },
            "spec": pod_spec,
        }
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        try:
            created_pod = self.registry.create_entry("pods", pod, ns).obj
        except ApiError as exc:
            if exc.code != 409:
                self.recorder.warning(
                    sts,
                    "FailedCreate",
                    f"create Pod {pod_name} in StatefulSet {set_name} failed error: {exc.message}",
                )
            return False
        self.inf("pods").observe(created_pod)
        self.recorder.normal(
            sts, "SuccessfulCreate", f"create Pod {pod_name} in StatefulSet {set_name} successful"
        )
        return True

    def _delete(self, sts: Obj, pod: Obj) -> None:
        try:
            result = self.registry.delete("pods", pu.name_of(pod), pu.ns_of(pod))
        except ApiError:
            return
        self.inf("pods").observe(result, deleted=not pu.deleting(result))
        self.recorder.normal(
            sts,
            "SuccessfulDelete",
            f"delete Pod {pu.name_of(pod)} in StatefulSet {pu.name_of(sts)} successful",
        )

    def _update_status(self, sts: Obj, revision: str, want: int) -> None:
        pods = [p for p in self.dependents(sts) if not pu.deleting(p)]
        ready = sum(1 for p in pods if pu.pod_ready(p))
        current = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision
        )
        self.write_status(
            sts,
            {
                "observedGeneration": sts.get("metadata", {}).get("generation", 1),
                "replicas": len(pods),
                "readyReplicas": ready,
                "currentReplicas": current,
                "updatedReplicas": current,
                "availableReplicas": ready,
                "currentRevision": revision,
                "updateRevision": revision,
                "collisionCount": 0,
            },
        )


def build(cluster: SimCluster) -> list[Controller]:
    return [DeploymentController(cluster), ReplicaSetController(cluster), StatefulSetController(cluster)]
