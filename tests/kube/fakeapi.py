"""A tiny fake API server (plain HTTP on loopback) for informer unit tests that need control over
the exact bytes on a watch stream: junk lines, ERROR events, abrupt closes, error storms.

Integration tests use the real embedded cluster (kstor.sim) instead.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from typing import Any

from aiohttp import web

PATH = re.compile(
    r"^/(?:api/v1|apis/[^/]+/v1)(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+))?$"
)
TOKEN = "fake-token"


class FakeApi:
    def __init__(self) -> None:
        self.rv = 100
        self.objects: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
        self.history: dict[str, list[tuple[int, str, dict]]] = defaultdict(list)
        self.oldest: dict[str, int] = defaultdict(int)  # watches from an RV below this get 410
        self.changed = asyncio.Condition()
        self.fail: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)  # plural -> queued errors
        self.forbidden: set[str] = set()
        self.missing: set[str] = set()  # resources this "cluster" does not serve (404)
        self.junk: list[bytes] = []  # lines written at the start of the next watch
        self.requests: dict[str, int] = defaultdict(int)
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.generation = 0

    # ---- state changes (tests call these) ----
    async def put(self, plural: str, obj: dict) -> dict:
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        meta.setdefault("uid", f"uid-{meta['name']}-{self.rv}")
        key = (meta.get("namespace") or "", meta["name"])
        kind = "MODIFIED" if key in self.objects[plural] else "ADDED"
        self.objects[plural][key] = obj
        await self._record(plural, kind, obj)
        return obj

    async def delete(self, plural: str, name: str, namespace: str = "") -> None:
        obj = self.objects[plural].pop((namespace, name))
        self.rv += 1
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = str(self.rv)
        await self._record(plural, "DELETED", obj)

    def delete_silently(self, plural: str, name: str, namespace: str = "") -> None:
        """Remove without a watch event (as if it happened during a compacted gap)."""
        self.objects[plural].pop((namespace, name))
        self.rv += 1

    async def _record(self, plural: str, kind: str, obj: dict) -> None:
        self.history[plural].append((self.rv, kind, json.loads(json.dumps(obj))))
        async with self.changed:
            self.changed.notify_all()

    async def drop_watches(self) -> None:
        self.generation += 1
        async with self.changed:
            self.changed.notify_all()

    def compact(self, plural: str) -> None:
        self.history[plural].clear()
        self.oldest[plural] = self.rv + 1

    # ---- HTTP ----
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("GET", "/version", self._version)
        app.router.add_route("GET", "/{tail:.*}", self._get)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        async with self.changed:
            self.changed.notify_all()
        if self.runner is not None:
            await self.runner.cleanup()

    def kubeconfig(self, path: Any) -> str:
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
        }))
        return str(path)

    async def _version(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._status(401, "Unauthorized", "Unauthorized")
        return web.json_response({"major": "1", "minor": "32"})

    def _status(self, code: int, reason: str, message: str,
                headers: dict[str, str] | None = None) -> web.Response:
        body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
                "message": message}
        return web.json_response(body, status=code, headers=headers)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._status(401, "Unauthorized", "Unauthorized")
        m = PATH.match(request.path)
        if not m:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        plural = m["plural"]
        if plural in self.missing:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        watch = request.query.get("watch") == "true"
        self.requests[plural + (" watch" if watch else " list")] += 1
        if plural in self.forbidden:
            return self._status(403, "Forbidden", f'{plural} is forbidden: User "u" cannot list resource')
        if self.fail[plural]:
            code, headers = self.fail[plural].pop(0)
            reason = "TooManyRequests" if code == 429 else "InternalError"
            return self._status(code, reason, f"injected {code}", headers)
        if watch:
            return await self._watch(request, plural, m["ns"])
        return self._list(request, plural, m["ns"])

    def _list(self, request: web.Request, plural: str, ns: str | None) -> web.Response:
        items = [o for (ons, _), o in sorted(self.objects[plural].items()) if ns is None or ons == ns]
        limit = int(request.query.get("limit", "0") or 0)
        start = int(request.query.get("continue", "0") or 0)
        meta: dict[str, Any] = {"resourceVersion": str(self.rv)}
        if limit and start + limit < len(items):
            meta["continue"] = str(start + limit)
        page = items[start:start + limit] if limit else items
        # List items carry no kind/apiVersion, like a real server's.
        page = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page]
        return web.json_response({"kind": "List", "apiVersion": "v1", "metadata": meta, "items": page})

    async def _watch(self, request: web.Request, plural: str, ns: str | None) -> web.StreamResponse:
        rv = int(request.query.get("resourceVersion") or 0)
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        await resp.prepare(request)
        if rv < self.oldest[plural] - 1:
            gone = {"kind": "Status", "code": 410, "reason": "Expired",
                    "message": f"too old resource version: {rv}"}
            await resp.write(json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n")
            return resp
        for line in self.junk:
            await resp.write(line + b"\n")
        self.junk = []
        timeout = float(request.query.get("timeoutSeconds", "30"))
        generation = self.generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and not request.transport.is_closing():  # type: ignore[union-attr]
            for erv, kind, obj in list(self.history[plural]):
                if erv > rv and (ns is None or obj["metadata"].get("namespace") == ns):
                    await resp.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
                    rv = erv
            if self.generation != generation:
                break  # drop_watches(): end the stream abruptly
            async with self.changed:
                try:
                    wait = min(0.5, max(0.01, deadline - loop.time()))
                    await asyncio.wait_for(self.changed.wait(), timeout=wait)
                except TimeoutError:
                    pass
        return resp
