"""What chaos needs from a cluster, as small Protocols.

`ClusterApi` is the write/read surface (implemented over kstor.kube's client by
`chaos.connect`); `SimControl` is the embedded cluster's `/_sim/` control API (stop/start a
control loop, read the sim clock). Objects are raw JSON dicts; resources are named by plural.
"""

from __future__ import annotations

from typing import Any, Protocol

Obj = dict[str, Any]


class NotFound(Exception):
    """The object does not exist (HTTP 404)."""


class ApiFailure(Exception):
    """Any other refusal by the API server (message is the Status message)."""


class ClusterApi(Protocol):
    async def get(self, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        """The object, or None when it does not exist."""
        ...

    async def list(
        self, plural: str, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[Obj]: ...

    async def delete(
        self, plural: str, name: str, namespace: str | None = None, *, grace_period_seconds: int | None = None
    ) -> None:
        """Raises NotFound when the object is already gone."""
        ...

    async def patch(
        self, plural: str, name: str, body: Obj, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> Obj: ...

    async def evict(
        self, name: str, namespace: str, *, grace_period_seconds: int | None = None
    ) -> str | None:
        """None when the eviction was accepted; the refusal message when a PDB blocked it (429)."""
        ...

    async def scale(self, plural: str, name: str, namespace: str, replicas: int) -> None: ...

    async def create(self, plural: str, obj: Obj, namespace: str | None = None) -> Obj: ...


class SimControl(Protocol):
    async def loops(self) -> dict[str, bool]:
        """Every control loop of the embedded cluster and whether it runs."""
        ...

    async def stop_loop(self, name: str) -> None: ...

    async def start_loop(self, name: str) -> None: ...

    async def clock(self) -> tuple[float, float]:
        """(sim seconds since the embedded cluster started, speed factor)."""
        ...


def meta(obj: Obj) -> dict[str, Any]:
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    return str(meta(obj).get("name", ""))


def ns_of(obj: Obj) -> str:
    return str(meta(obj).get("namespace", "") or "")
