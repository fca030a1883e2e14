"""Events as the control loops of a real cluster write them (core/v1 Event, with aggregation).

client-go's recorder folds a repeat of the same (object, type, reason, message, source) into the
existing Event by bumping `count` and `lastTimestamp`; `kubectl describe` prints it as
`(x4 over 2m)`. The embedded cluster does the same so the dashboard's counts are honest.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kstor.sim.apiserver.errors import ApiError

if TYPE_CHECKING:
    from kstor.sim.apiserver.registry import Registry

log = logging.getLogger(__name__)
NORMAL = "Normal"
WARNING = "Warning"


def object_reference(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata", {})
    ref = {
        "kind": obj.get("kind", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


class EventRecorder:
    """Writes Events from one component (e.g. `persistentvolume-controller`, `kubelet` on a host)."""

    def __init__(self, registry: Registry, component: str, host: str | None = None) -> None:
        self.registry = registry
        self.component = component
        self.host = host
        self._names: dict[tuple[str, str, str, str], str] = {}

    def event(self, obj: dict[str, Any], event_type: str, reason: str, message: str) -> dict[str, Any]:
        """Record one Event (or fold a repeat into it); returns the stored Event, READ-ONLY."""
        ref = object_reference(obj)
        namespace = ref.get("namespace") or "default"
        key = (ref["uid"] or ref["name"], event_type, reason, message)
        now = self.registry.clock.timestamp()
        name = self._names.get(key)
        if name is not None:
            # A repeat: patch count and lastTimestamp of the stored Event (one registry write, no
            # get-copy-update round trip); the write path (defaults, validation, RV, watch) is the same.
            try:
                stored = self.registry.entry("events", name, namespace).obj
            except ApiError:  # expired or deleted: start a new series
                stored = None
            if stored is not None:
                patch = {"count": int(stored.get("count", 1)) + 1, "lastTimestamp": now}
                try:
                    return self.registry.patch_entry("events", name, patch, namespace).obj
                except ApiError as exc:
                    log.debug("event %s/%s rejected: %s", namespace, name, exc.message)
                    return stored
        name = f"{ref['name']}.{self.registry.ids.hex(8)}"
        source: dict[str, str] = {"component": self.component}
        if self.host:
            source["host"] = self.host
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host or "",
        }
        self._names[key] = name
        try:
            # `event` is built here from strings and the stored object's reference, and dropped after.
            return self.registry.create_owned_entry("events", event, namespace).obj
        except ApiError as exc:
            # client-go drops an event the server refuses ("Server rejected event (will not retry!)"),
            # e.g. in a namespace that is being deleted; the control loop must carry on.
            log.debug("event %s/%s rejected: %s", namespace, name, exc.message)
            return event

    def normal(self, obj: dict[str, Any], reason: str, message: str) -> dict[str, Any]:
        return self.event(obj, NORMAL, reason, message)

    def warning(self, obj: dict[str, Any], reason: str, message: str) -> dict[str, Any]:
        return self.event(obj, WARNING, reason, message)
