"""The embedded cluster's HTTPS API server (aiohttp on 127.0.0.1).

Bearer-token auth, Kubernetes REST paths and discovery, Status errors, fault injection, and the
`/_sim/` control endpoints (clock, faults, control loops) that let another process drive chaos.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kstor.sim.apiserver import discovery, errors, openapi
from kstor.sim.apiserver.certs import ServingCert, generate, write_kubeconfig
from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.faults import Faults
from kstor.sim.apiserver.handlers import ResourceHandler, json_response, parse_target, verb_of
from kstor.sim.apiserver.watch import Watch

if TYPE_CHECKING:
    from kstor.sim.apiserver.registry import Registry
    from kstor.sim.cluster import SimCluster

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
_PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz"})


class ApiServer:
    """Serves one registry over HTTPS. `start()` binds (port 0 = a free port), `stop()` closes."""

    def __init__(
        self,
        cluster: SimCluster | None = None,
        *,
        registry: Registry | None = None,
        token: str | None = None,
        cert: ServingCert | None = None,
    ) -> None:
        if registry is None:
            if cluster is None:
                raise ValueError("ApiServer needs a cluster or a registry")
            registry = cluster.registry
        self.cluster = cluster
        self.registry = registry
        self.token = token or secrets.token_urlsafe(32)
        self.cert = cert or generate()
        self.faults = Faults()
        self.port = 0
        self.watches: set[Watch] = set()
        self._handler = ResourceHandler(registry, self.watches)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    async def start(self, port: int | None = None) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        wanted = self.port if port is None else port
        self._site = web.TCPSite(
            self._runner, HOST, wanted, ssl_context=self.cert.ssl_context(), reuse_address=True
        )
        await self._site.start()
        self.port = self.bound_address()[1]

    def bound_address(self) -> tuple[str, int]:
        server = self._site._server if self._site is not None else None  # aiohttp has no public accessor
        if server is None or not server.sockets:
            raise RuntimeError("server is not started")
        host, port = server.sockets[0].getsockname()[:2]
        return host, port

    async def stop(self) -> None:
        self.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    async def restart(self) -> None:
        """Stop and start on the same port, keeping all state (a 'server restart' for clients)."""
        await self.stop()
        await self.start(self.port)

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, cluster: SimCluster, *, port: int = 0, **kwargs: Any) -> AsyncIterator[ApiServer]:
        server = cls(cluster, **kwargs)
        await server.start(port)
        try:
            yield server
        finally:
            await server.stop()

    def write_kubeconfig(self, path: str | Path) -> Path:
        return write_kubeconfig(path, server=self.url, token=self.token, ca_pem=self.cert.ca_pem)

    # --- faults (Python API; the HTTP endpoints call these) ------------------------------------------
    def drop_watches(self) -> int:
        watches = list(self.watches)
        for watch in watches:
            watch.close()
        return len(watches)

    def compact(self) -> None:
        self.registry.compact()

    # --- request path ------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            path = request.path
            if path in _PUBLIC_PATHS:
                return web.Response(text="ok")
            if not self._authorized(request):
                raise errors.unauthorized()
            if path.startswith("/_sim/"):
                return await self._sim(request, path[len("/_sim/") :].strip("/"))
            return await self._api(request, path)
        except ApiError as exc:
            return self._error(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not kill the server: answer 500 as real servers do
            log.exception("request %s %s failed", request.method, request.path)
            return self._error(errors.internal(str(exc)))

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(value.strip(), self.token)

    @staticmethod
    def _error(exc: ApiError) -> web.Response:
        response = json_response(exc.status(), exc.code)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def _api(self, request: web.Request, path: str) -> web.StreamResponse:
        static = self._discovery(path.rstrip("/") or "/")
        if static is not None:
            if request.method != "GET":
                raise errors.method_not_allowed()
            return json_response(static)
        target = parse_target(path)
        if target is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = verb_of(request.method, target, dict(request.query))
        self.faults.check(target.res, verb, name=target.name, namespace=target.namespace)
        delay = self.faults.delay_for(target.res)
        if delay > 0:
            await asyncio.sleep(delay)
        return await self._handler.handle(request, target, verb)

    def _discovery(self, path: str) -> dict[str, Any] | None:
        if path == "/version":
            return discovery.VERSION
        if path.startswith("/openapi/v3"):
            return openapi.document_for(path)
        if path == "/api":
            return discovery.api_versions(f"{HOST}:{self.port}")
        if path == "/apis":
            return discovery.api_group_list()
        if path == "/api/v1":
            return discovery.resource_list("v1")
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 2:
            return discovery.api_group(parts[1])
        if parts[0] == "apis" and len(parts) == 3:
            return discovery.resource_list(f"{parts[1]}/{parts[2]}")
        return None

    # --- /_sim/ control endpoints ----------------------------------------------------------------------
    async def _sim(self, request: web.Request, path: str) -> web.StreamResponse:
        body: dict[str, Any] = {}
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                raise errors.bad_request("body must be JSON") from None
            if not isinstance(body, dict):
                raise errors.bad_request("body must be a JSON object")
        result = await self._sim_action(request.method, path, body)
        return json_response(result)

    async def _sim_action(self, method: str, path: str, body: dict[str, Any]) -> Any:
        clock = self.registry.clock
        if path == "clock" and method == "GET":
            return {
                "now": clock.micro_timestamp(),
                "elapsed": clock.elapsed(),
                "speed": clock.speed,
                "manual": clock.manual,
                "resourceVersion": self.registry.resource_version,
            }
        if path == "clock/advance" and method == "POST":
            await clock.advance(float(body.get("seconds", 1)))
            return {"now": clock.micro_timestamp(), "elapsed": clock.elapsed()}
        if path == "faults" and method == "GET":
            return self.faults.describe()
        if path.startswith("faults/") and method == "POST":
            return self._fault(path.split("/", 1)[1], body)
        if path == "loops" and method == "GET":
            return {"loops": self._loops()}
        if path.startswith("loops/") and method == "POST":
            name, _, action = path[len("loops/") :].rpartition("/")
            return await self._loop_action(name, action)
        raise ApiError(404, "NotFound", f"no sim endpoint {method} /_sim/{path}")

    def _fault(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        resource = body.get("resource")
        try:
            if action == "drop-watches":
                return {"dropped": self.drop_watches()}
            if action == "compact":
                self.compact()
                return {"compactedAt": self.registry.resource_version}
            if action == "fail":
                self.faults.fail_next(
                    resource,
                    int(body.get("count", 1)),
                    code=int(body.get("code", 500)),
                    retry_after=int(body.get("retryAfter", 1)),
                )
            elif action == "latency":
                self.faults.add_latency(resource, float(body.get("seconds", 0)))
            elif action == "deny":
                self.faults.deny(resource, body.get("verb"))
            elif action == "clear":
                self.faults.clear()
            else:
                raise ApiError(404, "NotFound", f"no fault {action!r}")
        except (TypeError, ValueError) as exc:
            raise errors.bad_request(f"bad fault request: {exc}") from None
        return self.faults.describe()

    def _loops(self) -> list[dict[str, Any]]:
        if self.cluster is None:
            return []
        manager = self.cluster.controllers
        return [{"name": n, "running": manager.running(n)} for n in manager.names()]

    async def _loop_action(self, name: str, action: str) -> dict[str, Any]:
        if self.cluster is None:
            raise ApiError(404, "NotFound", "this server has no control loops")
        manager = self.cluster.controllers
        if name not in manager.names():
            raise ApiError(404, "NotFound", f'control loop "{name}" not found')
        if action == "stop":
            await manager.stop(name)
        elif action == "start":
            manager.start(name)
        else:
            raise ApiError(404, "NotFound", f"no loop action {action!r} (use start or stop)")
        return {"name": name, "running": manager.running(name)}


SimServer = ApiServer
