"""The embedded API server's state and request path (contract: docs/sim-internals.md).

The HTTP layer and the in-process control loops call the same methods, so both get the same
defaulting, validation, admission, resourceVersions, conflicts and watch events. Methods are
synchronous and atomic on the event loop. Stored dicts are never mutated (copy-on-write); every
method that hands an object to a caller hands a copy, except `items()` (read-only view).
"""

from __future__ import annotations

import base64
import importlib
import itertools
import json
import weakref
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any

from kstor.sim.apiserver import errors
from kstor.sim.apiserver.lifecycle import LifecycleMixin
from kstor.sim.apiserver.patch import apply_patch
from kstor.sim.apiserver.resources import DEFAULT_NAMESPACES, GENERATION_KINDS, RESOURCES, Resource, lookup
from kstor.sim.apiserver.selectors import combine, field_matcher, label_matcher
from kstor.sim.apiserver.watch import Entry, Watch, WatchEvent, dumps
from kstor.sim.clock import Clock
from kstor.sim.ids import IdSource


def _optional_hook(module: str) -> Any:
    """H2's defaulting/validation modules; the registry works without them (before they exist)."""
    try:
        return importlib.import_module(f"kstor.sim.apiserver.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"kstor.sim.apiserver.{module}":
            raise
        return None


_defaults = _optional_hook("defaults")
_validation = _optional_hook("validation")

# Kinds whose status a create request cannot set (the strategies' PrepareForCreate reset it).
_STATUS_RESET_ON_CREATE = frozenset(
    {
        "pods",
        "persistentvolumes",
        "persistentvolumeclaims",
        "deployments",
        "replicasets",
        "statefulsets",
        "volumeattachments",
        "poddisruptionbudgets",
        "namespaces",
    }
)
_SNAPSHOTS_KEPT = 64
_KIND_TO_PLURAL = {(r.api_version, r.kind): r.plural for r in RESOURCES.values()}
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


class Registry(LifecycleMixin):
    def __init__(self, clock: Clock, *, history_size: int = 20_000) -> None:
        self.clock = clock
        # uids, generated names: SimCluster replaces this with its own (seedable) source
        self.ids = IdSource()
        self.history_size = history_size
        self.resource_version = 0
        self._data: dict[str, dict[str, dict[str, Entry]]] = {p: {} for p in RESOURCES}
        self._history: dict[str, deque[WatchEvent]] = {p: deque() for p in RESOURCES}
        self._compacted: dict[str, int] = dict.fromkeys(RESOURCES, 0)
        # Weak: a control loop that is cancelled mid-iteration never closes its watch; once nothing
        # holds it, it drops out here instead of queueing every later event forever.
        self._watchers: dict[str, list[weakref.ref[Watch]]] = {p: [] for p in RESOURCES}
        self._snapshots: OrderedDict[str, tuple[int, list[Entry]]] = OrderedDict()
        self._dependents: dict[str, set[tuple[str, str, str]]] = {}  # owner uid -> dependents' keys
        self._by_uid: dict[str, tuple[str, str, str]] = {}  # uid -> (plural, namespace, name)
        for name in DEFAULT_NAMESPACES:
            self.create("namespaces", {"metadata": {"name": name}})

    # --- reading ---------------------------------------------------------------------------------
    def get(self, plural: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        res = lookup(plural)
        return self._entry(res, name, self._ns(res, namespace)).copy()

    def entry(self, plural: str, name: str, namespace: str | None = None) -> Entry:
        """The stored version itself (read-only): `.obj`, and `.raw` its JSON bytes."""
        res = lookup(plural)
        return self._entry(res, name, self._ns(res, namespace))

    def items(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """The stored objects themselves, fast and read-only: callers must not mutate them."""
        return [e.obj for e in self._entries(lookup(plural), namespace)]

    def list(
        self,
        plural: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        res = lookup(plural)
        entries, meta = self.list_entries(
            plural,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
        )
        return {
            "kind": res.list_kind,
            "apiVersion": res.api_version,
            "metadata": meta,
            "items": [e.copy() for e in entries],
        }

    def list_entries(
        self,
        plural: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> tuple[list[Entry], dict[str, Any]]:
        """Entries of one page plus the list's metadata (resourceVersion, continue, remainingItemCount)."""
        res = lookup(plural)
        if continue_token:
            snapshot_id, offset = self._decode_continue(continue_token)
            found = self._snapshots.get(snapshot_id)
            if found is None:
                raise errors.expired(
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter."
                )
            rv, entries = found
        else:
            match = combine(label_matcher(label_selector), field_matcher(field_selector))
            entries = [e for e in self._entries(res, namespace) if match is None or match(e.obj)]
            rv, offset, snapshot_id = self.resource_version, 0, ""
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if not limit or limit <= 0 or offset + limit >= len(entries):
            if continue_token:
                self._snapshots.pop(snapshot_id, None)
            return entries[offset:], meta
        if not snapshot_id:
            snapshot_id = self.ids.hex(8)
            self._snapshots[snapshot_id] = (rv, entries)
            while len(self._snapshots) > _SNAPSHOTS_KEPT:
                self._snapshots.popitem(last=False)
        end = offset + limit
        token = json.dumps({"id": snapshot_id, "rv": rv, "start": end}).encode()
        meta["continue"] = base64.urlsafe_b64encode(token).decode()
        meta["remainingItemCount"] = len(entries) - end
        return entries[offset:end], meta

    @staticmethod
    def _decode_continue(token: str) -> tuple[str, int]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            return str(data["id"]), int(data["start"])
        except (ValueError, KeyError, TypeError):
            raise errors.bad_request("invalid continue token") from None

    # --- writing ---------------------------------------------------------------------------------
    def create(
        self, plural: str, obj: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        return self.create_entry(plural, obj, namespace, dry_run=dry_run).copy()

    def create_entry(
        self, plural: str, obj: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> Entry:
        """`create()` returning the stored (read-only) entry: the HTTP layer sends its cached JSON."""
        return self.create_owned_entry(plural, json.loads(dumps(obj)), namespace, dry_run=dry_run)

    def create_owned_entry(
        self, plural: str, obj: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> Entry:
        """`create_entry()` for a caller that hands `obj` over: a freshly built tree of plain JSON values
        (dict, list, str, int, float, bool, None) that it never touches again, so the defensive copy
        is skipped (the EventRecorder writes thousands of these)."""
        res = lookup(plural)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        ns = self._body_ns(res, obj, namespace)
        obj = {"apiVersion": res.api_version, "kind": res.kind, **obj}
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + self.ids.suffix(5)
        name = meta.get("name") or ""
        if not name:
            raise errors.invalid(
                res.kind,
                "",
                [
                    {
                        "reason": "FieldValueRequired",
                        "field": "metadata.name",
                        "message": "Required value: name or generateName is required",
                    }
                ],
                res.group,
            )
        if res.namespaced:
            self._check_namespace_open(res, ns, name)
        if name in self._data[plural].get(ns, {}):
            raise errors.already_exists(res.group_resource, name)
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(key, None)
        meta["uid"] = self.ids.uid()
        meta["creationTimestamp"] = self.clock.timestamp()
        if plural in GENERATION_KINDS:
            meta["generation"] = 1
        if plural in _STATUS_RESET_ON_CREATE:
            obj.pop("status", None)
        self._apply_defaults(plural, obj)
        self._admit_create(plural, obj)
        if _validation is not None:
            causes = _validation.validate_create(plural, obj)
            if causes:
                raise errors.invalid(res.kind, name, causes, res.group)
        if dry_run:
            return Entry(obj, 0)
        return self._store(res, obj, "ADDED", None)

    def update(
        self,
        plural: str,
        obj: dict[str, Any],
        namespace: str | None = None,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        return self.update_entry(plural, obj, namespace, subresource=subresource, dry_run=dry_run).copy()

    def update_entry(
        self,
        plural: str,
        obj: dict[str, Any],
        namespace: str | None = None,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Entry:
        res = lookup(plural)
        new = json.loads(dumps(obj))
        ns = self._body_ns(res, new, namespace)
        name = (new.get("metadata") or {}).get("name") or ""
        old = self._entry(res, name, ns)
        wanted_rv = (new.get("metadata") or {}).get("resourceVersion")
        return self._update(res, old, new, wanted_rv=wanted_rv, subresource=subresource, dry_run=dry_run)

    def patch(
        self,
        plural: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        return self.patch_entry(
            plural, name, patch, namespace, patch_type=patch_type, subresource=subresource, dry_run=dry_run
        ).copy()

    def patch_entry(
        self,
        plural: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Entry:
        res = lookup(plural)
        old = self._entry(res, name, self._ns(res, namespace))
        new = json.loads(dumps(apply_patch(old.obj, patch, patch_type)))
        wanted_rv = (new.get("metadata") or {}).get("resourceVersion")
        if wanted_rv == old.obj["metadata"]["resourceVersion"]:
            wanted_rv = None  # unchanged by the patch: no precondition
        return self._update(res, old, new, wanted_rv=wanted_rv, subresource=subresource, dry_run=dry_run)

    def _update(
        self,
        res: Resource,
        old: Entry,
        new: dict[str, Any],
        *,
        wanted_rv: str | None,
        subresource: str | None,
        dry_run: bool,
    ) -> Entry:
        old_obj = old.obj
        name = old_obj["metadata"]["name"]
        if wanted_rv and str(wanted_rv) != old_obj["metadata"]["resourceVersion"]:
            raise errors.conflict(res.group_resource, name)
        if subresource == "status":
            # `new` is already a private copy (update_entry/patch_entry decode it), so its status can be
            # taken as is; everything else is the stored version's, shared copy-on-write. Only metadata
            # is written below (resourceVersion), so only it gets a (shallow) copy.
            merged = dict(old_obj)
            merged["metadata"] = dict(old_obj["metadata"])
            if "status" in new:
                merged["status"] = new["status"]
            new = merged
        elif subresource is not None:
            raise errors.bad_request(f"unsupported subresource {subresource!r} for update")
        else:
            if res.has_status:
                if "status" in old_obj:
                    new["status"] = old_obj["status"]
                else:
                    new.pop("status", None)
            self._keep_system_metadata(old_obj, new)
            self._apply_defaults(res.plural, new, old_obj)
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        meta, old_meta = new["metadata"], old_obj["metadata"]
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise errors.invalid(
                    res.kind,
                    name,
                    [
                        {
                            "reason": "FieldValueForbidden",
                            "field": "metadata.finalizers",
                            "message": "Forbidden: no new finalizers can be added if the object is being "
                            f"deleted, found new finalizers {json.dumps(sorted(added))}",
                        }
                    ],
                    res.group,
                )
        if _validation is not None and subresource is None:
            causes = _validation.validate_update(res.plural, old_obj, new)
            if causes:
                raise errors.invalid(res.kind, name, causes, res.group)
        if res.plural in GENERATION_KINDS and new.get("spec") != old_obj.get("spec"):
            meta["generation"] = int(old_meta.get("generation") or 1) + 1
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == old_obj:
            return old  # no-op writes do not bump the resourceVersion (as real servers)
        if dry_run:
            return Entry(new, 0)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not self._grace_pending(res, new):
            return self._remove(res, new)
        return self._store(res, new, "MODIFIED", old)

    @staticmethod
    def _keep_system_metadata(old: dict[str, Any], new: dict[str, Any]) -> None:
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        old_meta = old["metadata"]
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
            "name",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)

    def bind(self, name: str, namespace: str, node_name: str) -> dict[str, Any]:
        """pods/binding: set spec.nodeName once, and the PodScheduled condition, as the binding REST does."""
        res = lookup("pods")
        old = self._entry(res, name, namespace)
        current = (old.obj.get("spec") or {}).get("nodeName")
        if current:
            raise errors.conflict("pods", name, why=f'pod {name} is already assigned to node "{current}"')
        if old.obj["metadata"].get("deletionTimestamp"):
            raise errors.conflict(
                "pods", name, why=f"pod {name} is being deleted, cannot be assigned to a host"
            )
        new = old.copy()
        new.setdefault("spec", {})["nodeName"] = node_name
        status = new.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": self.clock.timestamp(),
            }
        )
        status["conditions"] = conditions
        return self._store(res, new, "MODIFIED", old).copy()

    # --- scale subresource -------------------------------------------------------------------------
    def get_scale(self, plural: str, name: str, namespace: str) -> dict[str, Any]:
        res = lookup(plural)
        if "scale" not in res.subresources:
            raise errors.not_found(res.group_resource, name)
        obj = self._entry(res, name, namespace).obj
        meta = obj["metadata"]
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 1))},
            "status": {
                "replicas": int((obj.get("status") or {}).get("replicas", 0)),
                "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items())),
            },
        }

    def update_scale(
        self, plural: str, name: str, namespace: str, scale: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        res = lookup(plural)
        old = self._entry(res, name, namespace)
        wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(
                "Scale",
                name,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "field": "spec.replicas",
                        "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                    }
                ],
                "autoscaling",
            )
        new = old.copy()
        new.setdefault("spec", {})["replicas"] = replicas
        self._update(res, old, new, wanted_rv=wanted_rv, subresource=None, dry_run=dry_run)
        return self.get_scale(plural, name, namespace)

    # --- watch -----------------------------------------------------------------------------------
    def watch(
        self,
        plural: str,
        namespace: str | None = None,
        *,
        resource_version: str | int | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        bookmarks: bool = False,
        bookmark_interval: float = 1.0,
    ) -> Watch:
        res = lookup(plural)
        ns_filter = namespace if res.namespaced else None
        sel = combine(label_matcher(label_selector), field_matcher(field_selector))
        if ns_filter is not None:
            inner = sel

            def matcher(obj: dict[str, Any]) -> bool:
                return obj["metadata"].get("namespace") == ns_filter and (inner is None or inner(obj))
        else:
            matcher = sel  # type: ignore[assignment]

        def bookmark() -> dict[str, Any]:
            return {
                "kind": res.kind,
                "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.resource_version)},
            }

        def on_close(w: Watch) -> None:
            self._watchers[plural] = [r for r in self._watchers[plural] if r() not in (None, w)]

        watch = Watch(
            matcher=matcher,
            bookmark=bookmark if bookmarks else None,
            on_close=on_close,
            bookmark_interval=bookmark_interval,
            max_pending=self.history_size + 10_000,
        )
        rv = self._parse_rv(resource_version)
        if rv is None:
            for entry in self._entries(res, namespace):
                if matcher is None or matcher(entry.obj):
                    watch.push("ADDED", entry)
        elif rv < self._compacted[plural]:  # as the watch cache: resumable from (oldest event RV - 1)
            watch.push("ERROR", errors.too_old(rv, self._compacted[plural]).status())
            watch.closed = True
            return watch
        else:
            history = self._history[plural]
            # history is in resourceVersion order: skip the part the client has seen
            newer = 0
            for event in reversed(history):
                if event.rv <= rv:
                    break
                newer += 1
            watch.replay(itertools.islice(history, len(history) - newer, None))
        self._watchers[plural].append(weakref.ref(watch))
        return watch

    @staticmethod
    def _parse_rv(value: str | int | None) -> int | None:
        if value in (None, "", "0", 0):
            return None
        try:
            return int(value)  # type: ignore[arg-type]
        except ValueError:
            raise errors.bad_request(f"invalid resource version: {value}") from None

    # --- faults the server exposes ---------------------------------------------------------------
    def drop_watches(self) -> int:
        """Close every open watch (as an API server restart or a load balancer timeout does)."""
        watches = [w for lst in self._watchers.values() for r in lst if (w := r()) is not None]
        for w in watches:
            w.close()
        return len(watches)

    def compact(self) -> None:
        """Forget all history: every watch resumed from an older resourceVersion gets 410 Expired."""
        for plural in RESOURCES:
            self._history[plural].clear()
            self._compacted[plural] = self.resource_version
        self._snapshots.clear()

    # --- bulk load and state -------------------------------------------------------------------
    def load(self, objects: Iterable[dict[str, Any]]) -> int:
        """Store objects as given (restore/benchmarks): no admission, validation, events or history.

        Defaults are applied (as a real server does when it reads objects from etcd) and missing
        uid/creationTimestamp/resourceVersion filled in. kind/apiVersion pick the resource.
        """
        count = 0
        now = self.clock.timestamp()
        for obj in objects:
            plural = _KIND_TO_PLURAL.get((obj.get("apiVersion", ""), obj.get("kind", "")))
            if plural is None:
                raise errors.bad_request(f"unknown kind {obj.get('apiVersion')}/{obj.get('kind')}")
            res = RESOURCES[plural]
            meta = obj.setdefault("metadata", {})
            ns = (meta.get("namespace") or "default") if res.namespaced else ""
            if res.namespaced:
                meta["namespace"] = ns
            if "uid" not in meta:
                meta["uid"] = self.ids.uid()
            if "creationTimestamp" not in meta:
                meta["creationTimestamp"] = now
            rv = int(meta.get("resourceVersion") or 0)
            if rv <= 0:
                self.resource_version += 1
                rv = self.resource_version
                meta["resourceVersion"] = str(rv)
            self.resource_version = max(self.resource_version, rv)
            self._apply_defaults(plural, obj)
            entry = Entry(obj, rv)
            old = self._data[plural].setdefault(ns, {}).get(meta["name"])
            self._data[plural][ns][meta["name"]] = entry
            self._index_owners(old, entry)
            count += 1
        return count

    def dump(self) -> dict[str, Any]:
        """Every stored object and the counter, JSON-ready (for --state)."""
        return {
            "resourceVersion": self.resource_version,
            "objects": [e.obj for plural in RESOURCES for e in self._entries(RESOURCES[plural], None)],
        }

    def restore(self, state: dict[str, Any]) -> None:
        for plural in RESOURCES:
            self._data[plural].clear()
            self._history[plural].clear()
        self._dependents.clear()
        self._by_uid.clear()
        self.load(state.get("objects") or [])
        self.resource_version = max(self.resource_version, int(state.get("resourceVersion") or 0))
        for plural in RESOURCES:
            self._compacted[plural] = self.resource_version

    # --- internals -------------------------------------------------------------------------------
    def _ns(self, res: Resource, namespace: str | None) -> str:
        if not res.namespaced:
            return ""
        return namespace or "default"

    def _body_ns(self, res: Resource, obj: dict[str, Any], namespace: str | None) -> str:
        meta = obj.setdefault("metadata", {})
        if not res.namespaced:
            meta.pop("namespace", None)
            return ""
        body_ns = meta.get("namespace")
        if namespace and body_ns and body_ns != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        ns = namespace or body_ns or "default"
        meta["namespace"] = ns
        return ns

    def _entry(self, res: Resource, name: str, ns: str) -> Entry:
        entry = self._data[res.plural].get(ns, {}).get(name)
        if entry is None:
            raise errors.not_found(res.group_resource, name)
        return entry

    def _entries(self, res: Resource, namespace: str | None) -> list[Entry]:
        data = self._data[res.plural]
        if res.namespaced and namespace:
            by_name = data.get(namespace, {})
            return [by_name[n] for n in sorted(by_name)]
        return [data[ns][n] for ns in sorted(data) for n in sorted(data[ns])]

    def _check_namespace_open(self, res: Resource, ns: str, name: str) -> None:
        ns_entry = self._data["namespaces"].get("", {}).get(ns)
        if ns_entry is None:
            raise errors.not_found("namespaces", ns)
        if ns_entry.obj["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                res.group_resource,
                name,
                f"unable to create new content in namespace {ns} because it is being terminated",
            )

    def _apply_defaults(self, plural: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
        if _defaults is not None:
            _defaults.apply_defaults(plural, obj, old)
        if plural == "namespaces":  # needed before H2's defaults exist; harmless after
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj.setdefault("status", {}).setdefault("phase", "Active")

    def _admit_create(self, plural: str, obj: dict[str, Any]) -> None:
        """Admission plugins: StorageObjectInUseProtection and DefaultStorageClass."""
        meta = obj["metadata"]
        finalizer = {
            "persistentvolumeclaims": "kubernetes.io/pvc-protection",
            "persistentvolumes": "kubernetes.io/pv-protection",
        }.get(plural)
        if finalizer:
            finalizers = meta.setdefault("finalizers", [])
            if finalizer not in finalizers:
                finalizers.append(finalizer)
        if plural == "persistentvolumeclaims":
            spec = obj.setdefault("spec", {})
            has_class = "storageClassName" in spec or BETA_CLASS_ANNOTATION in (meta.get("annotations") or {})
            if not has_class:
                default = self._default_class()
                if default:
                    spec["storageClassName"] = default

    def _default_class(self) -> str | None:
        best: tuple[str, str] | None = None
        for entry in self._entries(RESOURCES["storageclasses"], None):
            meta = entry.obj["metadata"]
            if (meta.get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
                key = (meta.get("creationTimestamp", ""), meta["name"])
                if best is None or key > best:
                    best = key
        return best[1] if best else None

    def _next_rv(self) -> int:
        self.resource_version += 1
        return self.resource_version

    def _store(self, res: Resource, obj: dict[str, Any], event_type: str, old: Entry | None) -> Entry:
        rv = self._next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        entry = Entry(obj, rv)
        meta = obj["metadata"]
        self._data[res.plural].setdefault(meta.get("namespace", "") if res.namespaced else "", {})[
            meta["name"]
        ] = entry
        self._index_owners(old, entry)
        self._emit(res.plural, WatchEvent(event_type, entry, old))
        return entry

    def _emit(self, plural: str, event: WatchEvent) -> None:
        history = self._history[plural]
        if len(history) >= self.history_size:
            self._compacted[plural] = history.popleft().rv
        history.append(event)
        dead = False
        for ref in self._watchers[plural]:
            w = ref()
            if w is None:
                dead = True
            else:
                w.offer(event)
        if dead:
            self._watchers[plural] = [r for r in self._watchers[plural] if r() is not None]

    def _index_owners(self, old: Entry | None, new: Entry | None) -> None:
        def refs(entry: Entry | None) -> set[str]:
            if entry is None:
                return set()
            return {r.get("uid", "") for r in entry.obj["metadata"].get("ownerReferences") or []}

        source = new or old
        if source is None:
            return
        meta = source.obj["metadata"]
        plural = _KIND_TO_PLURAL[(source.obj["apiVersion"], source.obj["kind"])]
        key = (plural, meta.get("namespace", ""), meta["name"])
        if new is not None:
            self._by_uid[meta["uid"]] = key
        else:
            self._by_uid.pop(meta.get("uid", ""), None)
        if (
            old is not None
            and new is not None
            and old.obj["metadata"].get("ownerReferences") == meta.get("ownerReferences")
        ):
            return  # most updates keep their owners: the dependents index is already right
        old_refs, new_refs = refs(old), refs(new)
        for uid in old_refs - new_refs:
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.discard(key)
                if not deps:
                    del self._dependents[uid]
        for uid in new_refs - old_refs:
            self._dependents.setdefault(uid, set()).add(key)
