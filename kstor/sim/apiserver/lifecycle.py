"""Deletion as a real cluster does it: graceful pods, finalizers, propagation policies (the garbage
collector's part done inline), namespace termination, and pod eviction checked against PDBs.

A mixin of `Registry`: it uses the registry's store and write helpers.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kstor.sim.apiserver import errors
from kstor.sim.apiserver.pdbhelper import update_disruption_allowed_condition
from kstor.sim.apiserver.resources import RESOURCES, Resource, lookup
from kstor.sim.apiserver.selectors import combine, field_matcher, label_matcher, selector_matches
from kstor.sim.apiserver.watch import Entry, WatchEvent

if TYPE_CHECKING:
    from kstor.sim.apiserver.registry import Registry

FOREGROUND = "foregroundDeletion"
_MAX_DISRUPTED_PODS = 2000  # eviction.go MaxDisruptedPodSize
ORPHAN = "orphan"
_TERMINAL_PHASES = ("Succeeded", "Failed")


class LifecycleMixin:
    # Set by the disruption controller when it starts: from then on eviction trusts the PDB status
    # it maintains, as a real API server does. A registry without that loop computes budgets inline.
    pdb_status_maintained: bool = False

    # --- delete ----------------------------------------------------------------------------------
    def delete(
        self: Registry,
        plural: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        res = lookup(plural)
        entry = self._entry(res, name, self._ns(res, namespace))
        obj = entry.obj
        meta = obj["metadata"]
        self._check_preconditions(res, name, meta, preconditions or {})
        if propagation_policy not in (None, "Foreground", "Background", "Orphan"):
            raise errors.bad_request(f"unsupported propagationPolicy {propagation_policy!r}")
        if dry_run:
            return entry.copy()
        if plural == "namespaces":
            return self._delete_namespace(entry).copy()
        grace = self._grace_for(res, obj, grace_period_seconds)
        if propagation_policy == "Orphan":
            self._orphan_dependents(meta["uid"])
        new = entry.copy()
        new_meta = new["metadata"]
        finalizers = list(new_meta.get("finalizers") or [])
        if (
            propagation_policy == "Foreground"
            and self._dependents.get(meta["uid"])
            and FOREGROUND not in finalizers
        ):
            finalizers.append(FOREGROUND)
            new_meta["finalizers"] = finalizers
        if meta.get("deletionTimestamp"):
            if grace == 0 and not finalizers:
                return self._remove(res, new).copy()
            if (
                grace is not None
                and res.plural == "pods"
                and grace < int(meta.get("deletionGracePeriodSeconds") or 0)
            ):
                new_meta["deletionGracePeriodSeconds"] = grace
                new_meta["deletionTimestamp"] = self._deadline(grace)
            if new == obj:
                return entry.copy()
            stored = self._store(res, new, "MODIFIED", entry)
            self._after_foreground_mark(res, stored)
            return stored.copy()
        if not finalizers and not grace:
            return self._remove(res, new).copy()
        new_meta["deletionTimestamp"] = self._deadline(grace or 0)
        new_meta["deletionGracePeriodSeconds"] = grace or 0
        stored = self._store(res, new, "MODIFIED", entry)
        self._after_foreground_mark(res, stored)
        return stored.copy()

    def delete_collection(
        self: Registry,
        plural: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> dict[str, Any]:
        res = lookup(plural)
        match = combine(label_matcher(label_selector), field_matcher(field_selector))
        targets = [e.obj["metadata"] for e in self._entries(res, namespace) if match is None or match(e.obj)]
        items = []
        for meta in targets:
            try:
                items.append(
                    self.delete(
                        plural,
                        meta["name"],
                        meta.get("namespace"),
                        propagation_policy=propagation_policy,
                        grace_period_seconds=grace_period_seconds,
                    )
                )
            except errors.ApiError as exc:
                if exc.code != 404:  # already gone through a cascade: fine
                    raise
        return {
            "kind": res.list_kind,
            "apiVersion": res.api_version,
            "metadata": {"resourceVersion": str(self.resource_version)},
            "items": items,
        }

    def _check_preconditions(
        self: Registry, res: Resource, name: str, meta: dict[str, Any], pre: dict[str, Any]
    ) -> None:
        uid, rv = pre.get("uid"), pre.get("resourceVersion")
        if uid and uid != meta.get("uid"):
            raise errors.conflict(
                res.group_resource,
                name,
                why=f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}",
            )
        if rv and str(rv) != meta.get("resourceVersion"):
            raise errors.conflict(
                res.group_resource,
                name,
                why=f"Precondition failed: ResourceVersion in precondition: {rv}, "
                f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
            )

    def _grace_for(self: Registry, res: Resource, obj: dict[str, Any], requested: int | None) -> int | None:
        """Pods bound to a node are deleted gracefully; everything else at once (grace None/0)."""
        if res.plural != "pods":
            return 0 if requested == 0 else None
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in _TERMINAL_PHASES:
            return 0
        if requested is not None:
            return max(0, int(requested))
        return int(spec.get("terminationGracePeriodSeconds", 30) or 0)

    def _grace_pending(self: Registry, res: Resource, obj: dict[str, Any]) -> bool:
        """A deleting pod on a node waits for its kubelet (which deletes it with grace 0)."""
        meta = obj["metadata"]
        return res.plural == "pods" and bool(meta.get("deletionGracePeriodSeconds"))

    def _deadline(self: Registry, grace: int) -> str:
        return (self.clock.now() + timedelta(seconds=grace)).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- removal and the garbage collector's part ----------------------------------------------------
    def _remove(self: Registry, res: Resource, obj: dict[str, Any]) -> Entry:
        meta = obj["metadata"]
        ns = meta.get("namespace", "") if res.namespaced else ""
        by_name = self._data[res.plural].get(ns, {})
        old = by_name.pop(meta["name"], None)
        if not by_name and ns in self._data[res.plural]:
            del self._data[res.plural][ns]
        obj["metadata"]["resourceVersion"] = str(self._next_rv())
        entry = Entry(obj, self.resource_version)
        self._index_owners(old, None)
        self._emit(res.plural, WatchEvent("DELETED", entry, old))
        self._after_removal(res, obj)
        return entry

    def _after_removal(self: Registry, res: Resource, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        for dep in sorted(self._dependents.get(meta["uid"], ())):  # Background: dependents go next
            self._delete_quietly(dep, None)
        for ref in meta.get("ownerReferences") or []:
            self._maybe_finish_foreground(ref.get("uid", ""))
        ns = meta.get("namespace")
        if res.namespaced and ns:
            self._maybe_finish_namespace(ns)

    def _delete_quietly(self: Registry, key: tuple[str, str, str], policy: str | None) -> None:
        plural, ns, name = key
        try:
            self.delete(plural, name, ns or None, propagation_policy=policy)
        except errors.ApiError as exc:
            if exc.code != 404:
                raise

    def _orphan_dependents(self: Registry, uid: str) -> None:
        for plural, ns, name in sorted(self._dependents.get(uid, ())):
            res = RESOURCES[plural]
            entry = self._entry(res, name, ns)
            new = entry.copy()
            refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self._store(res, new, "MODIFIED", entry)

    def _after_foreground_mark(self: Registry, res: Resource, entry: Entry) -> None:
        meta = entry.obj["metadata"]
        if FOREGROUND not in (meta.get("finalizers") or []):
            return
        for dep in sorted(self._dependents.get(meta["uid"], ())):
            self._delete_quietly(dep, "Foreground")
        self._maybe_finish_foreground(meta["uid"])

    def _find_by_uid(self: Registry, uid: str) -> tuple[Resource, Entry] | None:
        key = self._by_uid.get(uid)
        if key is None:
            return None
        plural, ns, name = key
        entry = self._data[plural].get(ns, {}).get(name)
        return (RESOURCES[plural], entry) if entry is not None else None

    def _maybe_finish_foreground(self: Registry, owner_uid: str) -> None:
        if not owner_uid:
            return
        found = self._find_by_uid(owner_uid)
        if found is None:
            return
        res, entry = found
        meta = entry.obj["metadata"]
        if not meta.get("deletionTimestamp") or FOREGROUND not in (meta.get("finalizers") or []):
            return
        for plural, ns, name in self._dependents.get(owner_uid, ()):
            dep = self._data[plural].get(ns, {}).get(name)
            if dep is None:
                continue
            for ref in dep.obj["metadata"].get("ownerReferences") or []:
                if ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion"):
                    return
        new = entry.copy()
        new["metadata"]["finalizers"] = [f for f in meta["finalizers"] if f != FOREGROUND]
        if not new["metadata"]["finalizers"]:
            del new["metadata"]["finalizers"]
            if not self._grace_pending(res, new):
                self._remove(res, new)
                return
        self._store(res, new, "MODIFIED", entry)

    # --- namespaces --------------------------------------------------------------------------------
    def _delete_namespace(self: Registry, entry: Entry) -> Entry:
        name = entry.obj["metadata"]["name"]
        if not entry.obj["metadata"].get("deletionTimestamp"):
            new = entry.copy()
            new["metadata"]["deletionTimestamp"] = self.clock.timestamp()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new.setdefault("status", {})["phase"] = "Terminating"
            entry = self._store(RESOURCES["namespaces"], new, "MODIFIED", entry)
        for res in RESOURCES.values():
            if not res.namespaced:
                continue
            for obj_name in sorted(self._data[res.plural].get(name, {})):
                self._delete_quietly((res.plural, name, obj_name), None)
        return self._maybe_finish_namespace(name) or entry

    def _maybe_finish_namespace(self: Registry, name: str) -> Entry | None:
        ns_entry = self._data["namespaces"].get("", {}).get(name)
        if ns_entry is None or not ns_entry.obj["metadata"].get("deletionTimestamp"):
            return None
        if any(self._data[r.plural].get(name) for r in RESOURCES.values() if r.namespaced):
            return None
        final = ns_entry.copy()
        final.get("spec", {}).pop("finalizers", None)
        return self._remove(RESOURCES["namespaces"], final)

    # --- eviction ----------------------------------------------------------------------------------
    def evict(self: Registry, name: str, namespace: str, eviction: dict[str, Any]) -> dict[str, Any]:
        """pods/eviction: refuse with 429 when a PDB allows no disruption, else delete gracefully."""
        pods = RESOURCES["pods"]
        entry = self._entry(pods, name, namespace)
        pod = entry.obj
        options = eviction.get("deleteOptions") or {}
        phase = (pod.get("status") or {}).get("phase")
        if not pod["metadata"].get("deletionTimestamp") and phase not in (*_TERMINAL_PHASES, "Pending"):
            self._check_disruption_budget(pod, namespace)
        self.delete(
            "pods",
            name,
            namespace,
            grace_period_seconds=options.get("gracePeriodSeconds"),
            preconditions=options.get("preconditions"),
        )
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    def _check_disruption_budget(self: Registry, pod: dict[str, Any], namespace: str) -> None:
        labels = pod["metadata"].get("labels") or {}
        pdbs = [
            e for e in self._entries(RESOURCES["poddisruptionbudgets"], namespace) if _selects(e.obj, labels)
        ]
        if not pdbs:
            return
        if len(pdbs) > 1:
            raise errors.internal(
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support."
            )
        pdb_entry = pdbs[0]
        pdb = pdb_entry.obj
        if not _pod_ready(pod) and (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            return  # an unhealthy pod may always go (AlwaysAllow)
        if self.pdb_status_maintained:
            self._check_and_decrement(pod, pdb_entry)
            return
        selected = [
            e.obj
            for e in self._entries(RESOURCES["pods"], namespace)
            if _selects(pdb, e.obj["metadata"].get("labels") or {})
        ]
        expected = len(selected)
        healthy = sum(1 for p in selected if _pod_ready(p) and not p["metadata"].get("deletionTimestamp"))
        desired = _desired_healthy(pdb.get("spec") or {}, expected)
        allowed = max(0, healthy - desired)
        if not _pod_ready(pod) and healthy >= desired:
            return  # an unhealthy pod may go while the budget holds (IfHealthyBudget)
        if allowed <= 0:
            raise errors.too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                retry_after=0,
                causes=[
                    {
                        "reason": "DisruptionBudget",
                        "message": f"The disruption budget {pdb['metadata']['name']} needs {desired} healthy "
                        f"pods and has {healthy} currently",
                    }
                ],
            )
        new = pdb_entry.copy()
        status = new.setdefault("status", {})
        status.update(
            {
                "currentHealthy": healthy,
                "desiredHealthy": desired,
                "expectedPods": expected,
                "disruptionsAllowed": allowed - 1,
                "observedGeneration": new["metadata"].get("generation", 1),
            }
        )
        status.setdefault("disruptedPods", {})[pod["metadata"]["name"]] = self.clock.timestamp()
        self._store(RESOURCES["poddisruptionbudgets"], new, "MODIFIED", pdb_entry)

    def _check_and_decrement(self: Registry, pod: dict[str, Any], pdb_entry: Entry) -> None:
        """eviction.go with the disruption controller's status: refuse (429) when it is stale or
        allows nothing, else take one disruption and record the pod in status.disruptedPods."""
        pdb = pdb_entry.obj
        name = pdb["metadata"]["name"]
        status = pdb.get("status") or {}
        healthy, desired = int(status.get("currentHealthy") or 0), int(status.get("desiredHealthy") or 0)
        if not _pod_ready(pod) and healthy >= desired > 0:
            return  # an unhealthy pod may go while the budget holds (IfHealthyBudget)
        if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 1):
            raise errors.too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                retry_after=10,
                causes=[
                    {
                        "reason": "DisruptionBudget",
                        "message": f"The disruption budget {name} is still being processed by the server.",
                    }
                ],
            )
        allowed = int(status.get("disruptionsAllowed") or 0)
        if allowed < 0:
            raise errors.forbidden(
                "poddisruptionbudget", name, "pdb disruptions allowed is negative", "policy"
            )
        if len(status.get("disruptedPods") or {}) > _MAX_DISRUPTED_PODS:
            raise errors.forbidden(
                "poddisruptionbudget",
                name,
                "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
                "policy",
            )
        if allowed == 0:
            raise errors.too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                retry_after=0,
                causes=[
                    {
                        "reason": "DisruptionBudget",
                        "message": f"The disruption budget {name} needs {desired} healthy "
                        f"pods and has {healthy} currently",
                    }
                ],
            )
        new = pdb_entry.copy()
        new_status = new.setdefault("status", {})
        new_status["disruptionsAllowed"] = allowed - 1
        if allowed - 1 == 0:
            update_disruption_allowed_condition(new_status, self.clock.timestamp())
        new_status.setdefault("disruptedPods", {})[pod["metadata"]["name"]] = self.clock.timestamp()
        self._store(RESOURCES["poddisruptionbudgets"], new, "MODIFIED", pdb_entry)


def _selects(pdb: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = (pdb.get("spec") or {}).get("selector")
    return selector is not None and selector_matches(selector, labels)


def _pod_ready(pod: dict[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _scaled(value: Any, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def _desired_healthy(spec: dict[str, Any], expected: int) -> int:
    if spec.get("maxUnavailable") is not None:
        return max(0, expected - _scaled(spec["maxUnavailable"], expected))
    if spec.get("minAvailable") is not None:
        return _scaled(spec["minAvailable"], expected)
    return min(1, expected)  # neither set: treated as minAvailable 1
