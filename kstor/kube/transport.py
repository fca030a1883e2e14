"""One aiohttp session to one API server: auth headers, TLS, JSON requests and raw watch streams.

Built from a kubernetes_asyncio `Configuration` (so kubeconfig, exec plugins, client certificates and
in-cluster tokens are resolved by that library) but requests are plain aiohttp: bodies stay raw
bytes until kstor decodes them once.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from kstor.kube.errors import TransportError, Unauthorized, error_from_response

CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 60.0
# Watch events for large objects can exceed aiohttp's default 64 KiB read buffer.
READ_BUFSIZE = 2**21


def ssl_context(config: Any) -> ssl.SSLContext | bool:
    if not str(config.host).startswith("https"):
        return False
    ctx = ssl.create_default_context(cafile=config.ssl_ca_cert)
    if config.cert_file:
        ctx.load_cert_chain(config.cert_file, keyfile=config.key_file)
    if not config.verify_ssl:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if getattr(config, "disable_strict_ssl_verification", False):
        ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return ctx


def describe_transport_error(server: str, exc: BaseException) -> str:
    """One line a person can act on: what failed, talking to which server."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError | ssl.SSLError):
        cause = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
        return f"TLS error talking to {server}: {getattr(cause, 'reason', None) or cause}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        err = exc.os_error
        text = os.strerror(err.errno) if err and err.errno else str(err or exc)
        return f"cannot reach {server}: {text.lower()}"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return f"timed out talking to {server}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"{server} closed the connection"
    return f"connection to {server} failed: {exc.__class__.__name__}: {exc}".rstrip(": ")


class Transport:
    """Requests against one API server; every failure becomes a `KubeError`."""

    def __init__(self, config: Any, *, refresh_credentials: Callable[[], Awaitable[None]] | None = None,
                 limit: int = 64) -> None:
        self.config = config
        self.server = str(config.host).rstrip("/")
        self._refresh = refresh_credentials
        self._server_hostname = getattr(config, "tls_server_name", None) or None
        self._ssl = ssl_context(config)
        self._session: aiohttp.ClientSession | None = None
        self._limit = limit
        self.requests = 0  # for tests and benchmarks: how hard we hit the server

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector, read_bufsize=READ_BUFSIZE, json_serialize=json.dumps
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            # Let the SSL transports finish closing so no "Unclosed" warnings surface later.
            await asyncio.sleep(0)

    async def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        token = await self.config.get_api_key_with_prefix("BearerToken")
        if token:
            headers["Authorization"] = token
        elif self.config.username and self.config.password:
            headers["Authorization"] = aiohttp.BasicAuth(self.config.username, self.config.password).encode()
        if extra:
            headers.update(extra)
        return headers

    def _kwargs(self, timeout: aiohttp.ClientTimeout) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"timeout": timeout}
        if self._server_hostname:
            kwargs["server_hostname"] = self._server_hostname
        if getattr(self.config, "proxy", None):
            kwargs["proxy"] = self.config.proxy
        return kwargs

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = REQUEST_TIMEOUT,
    ) -> Any:
        """Send a request and return the decoded JSON body; raise a typed `ApiError` on non-2xx."""
        data = None if body is None else json.dumps(body).encode()
        extra = {"Content-Type": content_type} if data is not None else None
        ctimeout = aiohttp.ClientTimeout(total=timeout, sock_connect=CONNECT_TIMEOUT)
        what = f"{method} {path}"
        for attempt in (1, 2):
            self.requests += 1
            try:
                async with self.session.request(
                    method, self.server + path, params=_query(params), data=data,
                    headers=await self.headers(extra), **self._kwargs(ctimeout),
                ) as resp:
                    raw = await resp.read()
                    if 200 <= resp.status < 300:
                        return json.loads(raw) if raw else {}
                    err = error_from_response(resp.status, raw, resp.headers, what=what)
            except (aiohttp.ClientError, asyncio.TimeoutError, ssl.SSLError) as exc:
                raise TransportError(f"{what}: {describe_transport_error(self.server, exc)}") from None
            except ValueError as exc:
                raise TransportError(f"{what}: response is not JSON: {exc}") from None
            if isinstance(err, Unauthorized) and attempt == 1 and self._refresh is not None:
                await self._refresh()  # an expired exec-plugin token: get a new one and retry once
                continue
            raise err
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def stream(
        self, path: str, *, params: Mapping[str, Any] | None = None, read_timeout: float
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open a streaming GET (a watch); yields the response once its status is 2xx."""
        ctimeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=read_timeout)
        what = f"GET {path} (watch)"
        self.requests += 1
        try:
            headers = await self.headers()
            resp = await self.session.get(
                self.server + path, params=_query(params), headers=headers, **self._kwargs(ctimeout)
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, ssl.SSLError) as exc:
            raise TransportError(f"{what}: {describe_transport_error(self.server, exc)}") from None
        try:
            if resp.status >= 300:
                raw = await resp.read()
                err = error_from_response(resp.status, raw, resp.headers, what=what)
                if isinstance(err, Unauthorized) and self._refresh is not None:
                    await self._refresh()
                raise err
            yield resp
        except (aiohttp.ClientError, asyncio.TimeoutError, ssl.SSLError) as exc:
            raise TransportError(f"{what}: {describe_transport_error(self.server, exc)}") from None
        finally:
            resp.release()


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out
