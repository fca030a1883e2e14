"""A chaos session: the guardrail check, then a connection through kstor.kube, adapted to the
small Protocols the actions use (`ClusterApi`, `SimControl`, `ClusterClock`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chaos.api import ApiFailure, NotFound, Obj
from chaos.clock import ClusterClock, SimClock, WallClock
from chaos.config import ChaosConfig, check_context
from chaos.errors import ActionError
from kstor.kube import errors as kube_errors
from kstor.kube.client import KubeClient
from kstor.kube.connect import ClusterInfo, Connection, connect, load_kubeconfig
from kstor.kube.transport import Transport


class KubeApi:
    """`ClusterApi` over kstor.kube's write client (raw JSON, typed errors mapped to chaos's)."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def get(self, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return await self.client.get(plural, name, namespace=namespace)
        except kube_errors.NotFound:
            return None
        except kube_errors.ApiError as exc:
            raise ApiFailure(exc.message) from None

    async def list(
        self, plural: str, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[Obj]:
        try:
            return await self.client.list(plural, namespace=namespace, label_selector=label_selector)
        except kube_errors.ApiError as exc:
            raise ApiFailure(f"list {plural}: {exc.message}") from None

    async def delete(
        self, plural: str, name: str, namespace: str | None = None, *, grace_period_seconds: int | None = None
    ) -> None:
        try:
            await self.client.delete(
                plural, name, namespace=namespace, grace_period_seconds=grace_period_seconds
            )
        except kube_errors.NotFound:
            raise NotFound(name) from None
        except kube_errors.ApiError as exc:
            raise ActionError(f"delete {plural}/{name}: {exc.message}") from None

    async def patch(
        self, plural: str, name: str, body: Obj, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> Obj:
        try:
            return await self.client.patch(plural, name, body, namespace=namespace, patch_type=patch_type)
        except kube_errors.NotFound:
            raise ActionError(f'{plural} "{name}" not found') from None
        except kube_errors.ApiError as exc:
            raise ActionError(f"patch {plural}/{name}: {exc.message}") from None

    async def evict(
        self, name: str, namespace: str, *, grace_period_seconds: int | None = None
    ) -> str | None:
        try:
            result = await self.client.evict(
                name, namespace=namespace, grace_period_seconds=grace_period_seconds
            )
        except kube_errors.NotFound:
            raise NotFound(name) from None
        except kube_errors.ApiError as exc:
            raise ActionError(f"evict pod {namespace}/{name}: {exc.message}") from None
        return None if result.evicted else (result.message or result.reason or "eviction refused")

    async def scale(self, plural: str, name: str, namespace: str, replicas: int) -> None:
        try:
            await self.client.scale(plural, name, replicas, namespace=namespace)
        except kube_errors.ApiError as exc:
            raise ActionError(f"scale {plural}/{name}: {exc.message}") from None

    async def create(self, plural: str, obj: Obj, namespace: str | None = None) -> Obj:
        try:
            return await self.client.create(plural, obj, namespace=namespace)
        except kube_errors.ApiError as exc:
            raise ActionError(
                f"create {plural}/{(obj.get('metadata') or {}).get('name')}: {exc.message}"
            ) from None


class HttpSimControl:
    """`SimControl` over the embedded cluster's `/_sim/` endpoints (same server, same token)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def _call(self, method: str, path: str) -> Any:
        try:
            return await self.transport.request(method, path, body={} if method == "POST" else None)
        except kube_errors.ApiError as exc:
            raise ActionError(f"{method} {path}: {exc.message}") from None

    async def loops(self) -> dict[str, bool]:
        return parse_loops(await self._call("GET", "/_sim/loops"))

    async def stop_loop(self, name: str) -> None:
        await self._call("POST", f"/_sim/loops/{quote(name, safe='/')}/stop")

    async def start_loop(self, name: str) -> None:
        await self._call("POST", f"/_sim/loops/{quote(name, safe='/')}/start")

    async def clock(self) -> tuple[float, float]:
        return parse_clock(await self._call("GET", "/_sim/clock"))


def parse_loops(body: Any) -> dict[str, bool]:
    """`{name: running}`, from either a mapping or a list of `{name, running}` items."""
    if isinstance(body, dict) and "loops" in body:
        body = body["loops"]
    if isinstance(body, dict):
        return {str(k): bool(v.get("running", True) if isinstance(v, dict) else v) for k, v in body.items()}
    if isinstance(body, list):
        return {
            str(i["name"]): bool(i.get("running", True)) for i in body if isinstance(i, dict) and "name" in i
        }
    raise ActionError(f"unexpected answer from /_sim/loops: {str(body)[:80]}")


def parse_clock(body: Any) -> tuple[float, float]:
    if not isinstance(body, dict):
        raise ActionError(f"unexpected answer from /_sim/clock: {str(body)[:80]}")
    for key in ("elapsed", "elapsed_seconds", "sim_seconds", "seconds"):
        if key in body:
            return float(body[key]), float(body.get("speed") or 1.0)
    raise ActionError(f"unexpected answer from /_sim/clock: {str(body)[:80]}")


@dataclass
class Session:
    info: ClusterInfo
    kubeconfig: str | None
    connection: Connection
    api: KubeApi
    sim: HttpSimControl | None
    clock: ClusterClock

    async def close(self) -> None:
        await self.connection.close()


async def check_guardrails(
    kubeconfig: str | None, context: str | None, config: ChaosConfig | None = None
) -> ClusterInfo:
    """Resolve the context from the kubeconfig (no request to the cluster) and refuse it if not allowed."""
    _config, info, _loader = await load_kubeconfig(kubeconfig, context)
    check_context(info.context, server=info.server, config=config)
    return info


async def open_session(
    kubeconfig: str | None, context: str | None, *, config: ChaosConfig | None = None
) -> Session:
    info = await check_guardrails(kubeconfig, context, config)
    connection = await connect(kubeconfig, context=info.context)
    sim = HttpSimControl(connection.transport) if info.is_sim else None
    clock: ClusterClock = SimClock(sim) if sim is not None else WallClock()
    path = os.fspath(kubeconfig) if kubeconfig else None
    return Session(info, path, connection, KubeApi(KubeClient(connection.transport)), sim, clock)
