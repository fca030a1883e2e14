"""Writes for chaos (and reads that must not go through the Store): raw JSON in, raw JSON out.

Every failure is a typed `kstor.kube.errors` exception carrying the server's Status reason and
message; an eviction refused by a PodDisruptionBudget is a normal result, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kstor.kube.errors import Conflict, TooManyRequests
from kstor.kube.kinds import resolve_kind
from kstor.kube.transport import Transport

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}
Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EvictionResult:
    evicted: bool
    reason: str = ""  # the Status reason when refused (TooManyRequests for a PDB)
    message: str = ""


class KubeClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Obj:
        return await self.transport.request("GET", resolve_kind(kind).path(namespace=namespace, name=name))

    async def list(self, kind: str, *, namespace: str | None = None, label_selector: str | None = None,
                   field_selector: str | None = None, page_size: int = 500) -> list[Obj]:
        path = resolve_kind(kind).path(namespace=namespace)
        items: list[Obj] = []
        cont = None
        while True:
            params = {"limit": page_size, "continue": cont, "labelSelector": label_selector,
                      "fieldSelector": field_selector}
            page = await self.transport.request("GET", path, params=params)
            items.extend(page.get("items") or [])
            cont = (page.get("metadata") or {}).get("continue")
            if not cont:
                return items

    async def create(self, kind: str, obj: Obj, *, namespace: str | None = None,
                     dry_run: bool = False) -> Obj:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        path = resolve_kind(kind).path(namespace=ns)
        return await self.transport.request("POST", path, body=obj, params=_dry(dry_run))

    async def replace(self, kind: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        meta = obj.get("metadata") or {}
        path = resolve_kind(kind).path(namespace=meta.get("namespace"), name=meta["name"])
        return await self.transport.request("PUT", path, body=obj, params=_dry(dry_run))

    async def delete(
        self,
        kind: str,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> Obj:
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            body["dryRun"] = ["All"]
        path = resolve_kind(kind).path(namespace=namespace, name=name)
        return await self.transport.request("DELETE", path, body=body)

    async def patch(
        self,
        kind: str,
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: str = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        path = resolve_kind(kind).path(namespace=namespace, name=name, sub=subresource)
        return await self.transport.request(
            "PATCH", path, body=patch, content_type=PATCH_TYPES[patch_type],
            params=_dry(dry_run),
        )

    async def evict(self, name: str, *, namespace: str, grace_period_seconds: int | None = None,
                    dry_run: bool = False) -> EvictionResult:
        """policy/v1 Eviction. A PodDisruptionBudget refusal (429) comes back as `evicted=False`."""
        body: Obj = {"apiVersion": "policy/v1", "kind": "Eviction",
                     "metadata": {"name": name, "namespace": namespace}}
        options: Obj = {}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            options["dryRun"] = ["All"]
        if options:
            body["deleteOptions"] = options
        path = resolve_kind("Pod").path(namespace=namespace, name=name, sub="eviction")
        try:
            await self.transport.request("POST", path, body=body)
        except TooManyRequests as exc:
            return EvictionResult(False, exc.reason or "TooManyRequests", exc.message)
        return EvictionResult(True)

    async def scale(self, kind: str, name: str, replicas: int, *, namespace: str) -> Obj:
        """Set replicas through the scale subresource (Deployment, StatefulSet, ReplicaSet)."""
        return await self.patch(kind, name, {"spec": {"replicas": replicas}}, namespace=namespace,
                                subresource="scale")

    async def get_scale(self, kind: str, name: str, *, namespace: str) -> int:
        path = resolve_kind(kind).path(namespace=namespace, name=name, sub="scale")
        scale = await self.transport.request("GET", path)
        return int((scale.get("spec") or {}).get("replicas") or 0)

    async def cordon(self, node: str) -> Obj:
        return await self.patch("Node", node, {"spec": {"unschedulable": True}})

    async def uncordon(self, node: str) -> Obj:
        return await self.patch("Node", node, {"spec": {"unschedulable": None}})

    async def add_taint(self, node: str, *, key: str, effect: str, value: str | None = None) -> Obj:
        taint = {"key": key, "effect": effect, **({"value": value} if value is not None else {})}

        def add(taints: list[Obj]) -> list[Obj]:
            kept = [t for t in taints if (t.get("key"), t.get("effect")) != (key, effect)]
            return [*kept, taint]

        return await self._update_taints(node, add)

    async def remove_taint(self, node: str, *, key: str, effect: str | None = None) -> Obj:
        def remove(taints: list[Obj]) -> list[Obj]:
            return [t for t in taints if not (t.get("key") == key and effect in (None, t.get("effect")))]

        return await self._update_taints(node, remove)

    async def _update_taints(self, node: str, change: Callable[[list[Obj]], list[Obj]],
                             attempts: int = 5) -> Obj:
        # Read-modify-write with the resourceVersion, retried on conflict: a merge patch would
        # replace the whole list and drop taints another controller added meanwhile.
        for attempt in range(attempts):
            obj = await self.get("Node", node)
            spec = obj.setdefault("spec", {})
            spec["taints"] = change(list(spec.get("taints") or []))
            try:
                return await self.replace("Node", obj)
            except Conflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


def _dry(dry_run: bool) -> dict[str, str] | None:
    return {"dryRun": "All"} if dry_run else None
