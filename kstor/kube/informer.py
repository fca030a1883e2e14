"""One list+watch loop per kind (and namespace): raw JSON lines, own 410 handling, own backoff.

kubernetes_asyncio's Watch decodes every line twice, retries a 410 from the same stale
resourceVersion and hangs without a read timeout, so kstor runs the reflector loop itself:

    list (paginated) -> store.replace (diff) -> watch from the list's RV -> apply events
      on stream end: re-watch from the last RV seen (events and bookmarks)
      on 410 Gone (HTTP or ERROR event): relist and diff, which emits what the gap hid
      on errors: exponential backoff with jitter (Retry-After honoured); last good state stays
      on 403: `forbidden`, retried slowly; on 404 (kind not served): `unavailable`, retried slowly
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NoReturn

from kstor.kube import gctune
from kstor.kube.backoff import Backoff
from kstor.kube.errors import ApiError, Forbidden, Gone, KubeError, NotFound, error_from_status
from kstor.kube.kinds import ResourceKind
from kstor.kube.store import DELETED, Store
from kstor.kube.transport import Transport

log = logging.getLogger(__name__)

EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"})
MAX_LINE = 64 * 2**20


class HealthState(StrEnum):
    SYNCING = "syncing"
    SYNCED = "synced"
    RECONNECTING = "reconnecting"
    FORBIDDEN = "forbidden"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Health:
    state: HealthState = HealthState.SYNCING
    error: str = ""  # the last error's text while not synced
    since: float = field(default_factory=time.monotonic)
    synced_once: bool = False  # the store holds a full list (possibly stale while reconnecting)

    def __str__(self) -> str:
        return f"{self.state.value}: {self.error}" if self.error else self.state.value


@dataclass
class InformerStats:
    lists: int = 0
    watches: int = 0
    events: int = 0
    bookmarks: int = 0
    garbage: int = 0
    errors: int = 0


class GarbageLine(KubeError):
    """A watch stream line that is not a watch event."""


@dataclass(frozen=True, slots=True)
class InformerOptions:
    page_size: int = 500
    watch_timeout: int = 300  # timeoutSeconds: the server ends each watch after this long
    read_slack: float = 30.0  # client read timeout = watch_timeout + slack (a dead network hangs no longer)
    list_timeout: float = 60.0
    slow_retry: float = 60.0  # after 403/404
    short_watch: float = 1.0  # a watch that ends this fast with no events counts as a failure
    backoff_base: float = 0.2
    backoff_cap: float = 30.0
    strip_managed_fields: bool = True  # half of a real object's bytes; nothing in kstor reads them


class Informer:
    def __init__(
        self,
        *,
        transport: Transport,
        store: Store,
        kind: ResourceKind,
        namespace: str | None = None,
        keep: Callable[[dict], bool] | None = None,
        options: InformerOptions | None = None,
        on_health: Callable[[Informer], None] | None = None,
    ) -> None:
        self.transport = transport
        self.store = store
        self.kind = kind
        self.namespace = namespace if kind.namespaced else None
        self.keep = keep
        self.opts = options or InformerOptions()
        self.on_health = on_health
        self.health = Health()
        self.stats = InformerStats()
        self.resource_version: str | None = None
        self.synced = asyncio.Event()
        self._backoff = Backoff(base=self.opts.backoff_base, cap=self.opts.backoff_cap)
        self._path = kind.path(namespace=self.namespace)
        self._garbage_logged = False

    @property
    def name(self) -> str:
        return f"{self.kind.kind}" + (f"/{self.namespace}" if self.namespace else "")

    def _set(self, state: HealthState, error: str = "") -> None:
        if state == self.health.state and error == self.health.error:
            return
        synced_once = self.health.synced_once or state == HealthState.SYNCED
        self.health = replace(self.health, state=state, error=error, since=time.monotonic(),
                              synced_once=synced_once)
        if state == HealthState.SYNCED:
            self.synced.set()
        if self.on_health is not None:
            self.on_health(self)

    async def run(self) -> None:
        """List and watch until cancelled."""
        gone_in_a_row = 0
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                await self._watch()
                gone_in_a_row = 0
            except Gone as exc:
                # History compacted: relist. Twice in a row means even a fresh list is too old
                # (a paginated list outlived its continue token): back off before the next try.
                self.resource_version = None
                gone_in_a_row += 1
                if gone_in_a_row > 1:
                    await self._retry_later(exc)
            except Forbidden as exc:
                self._set(HealthState.FORBIDDEN, exc.message)
                await asyncio.sleep(self.opts.slow_retry)
            except NotFound as exc:
                self._set(HealthState.UNAVAILABLE, f"not served by this cluster ({exc.message})")
                await asyncio.sleep(self.opts.slow_retry)
            except KubeError as exc:
                await self._retry_later(exc)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # A malformed list response: keep the last good state, try again later.
                await self._retry_later(KubeError(f"malformed response: {exc.__class__.__name__}: {exc}"))
            except Exception as exc:
                # Never let one kind's informer die silently: log it, show it, retry.
                log.exception("%s: unexpected error", self.name)
                await self._retry_later(KubeError(f"unexpected error: {exc.__class__.__name__}: {exc}"))

    async def _retry_later(self, exc: KubeError) -> None:
        self.stats.errors += 1
        self._set(HealthState.RECONNECTING, str(exc))
        retry_after = exc.retry_after if isinstance(exc, ApiError) else None
        await asyncio.sleep(self._backoff.next(retry_after))

    async def _list(self) -> None:
        self.stats.lists += 1
        if not self.health.synced_once:
            self._set(HealthState.SYNCING)
        items: list[dict] = []
        cont: str | None = None
        first = not self.health.synced_once
        while True:
            page = await self.transport.request(
                "GET", self._path, params={"limit": self.opts.page_size, "continue": cont},
                timeout=self.opts.list_timeout,
            )
            items.extend(self._prepare(obj) for obj in page.get("items") or [])
            meta = page.get("metadata") or {}
            if first:
                gctune.freeze_stored()  # see gctune: stored pages are not re-scanned while syncing
            cont = meta.get("continue")
            if not cont:
                break
        if self.keep is not None:
            items = [o for o in items if self.keep(o)]
        self.store.replace(self.kind.kind, items, namespace=self.namespace)
        self.store.flush()
        if first:
            gctune.freeze_stored()
        self.resource_version = str(meta["resourceVersion"])
        self._backoff.reset()
        self._set(HealthState.SYNCED)

    def _prepare(self, obj: dict) -> dict:
        # List items come without kind/apiVersion; watch objects carry them. Make both alike.
        obj.setdefault("kind", self.kind.kind)
        obj.setdefault("apiVersion", self.kind.api_version)
        if self.opts.strip_managed_fields:
            (obj.get("metadata") or {}).pop("managedFields", None)
        return obj

    async def _watch(self) -> None:
        params: dict[str, Any] = {
            "watch": True,
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": True,
            "timeoutSeconds": self.opts.watch_timeout,
        }
        self.stats.watches += 1
        read_timeout = self.opts.watch_timeout + self.opts.read_slack
        async with self.transport.stream(self._path, params=params, read_timeout=read_timeout) as resp:
            self._set(HealthState.SYNCED)
            opened, before = time.monotonic(), self.stats.events + self.stats.bookmarks
            pending = b""
            async for chunk in resp.content.iter_any():
                lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
                pending = lines.pop()
                self._handle_lines(lines)
                if len(pending) > MAX_LINE:
                    self._garbage(b"<line too long>")
            if pending.strip():
                self._handle_lines([pending])
        if self.stats.events + self.stats.bookmarks > before:
            self._backoff.reset()
        elif time.monotonic() - opened < self.opts.short_watch:
            # The server keeps closing watches at once: do not spin on it.
            await asyncio.sleep(self._backoff.next())

    def _handle_lines(self, lines: list[bytes]) -> None:
        lines = [line for line in lines if line.strip()]
        if len(lines) > 1:
            # One json.loads for all complete lines of a chunk: fewer calls, and the decoder's key
            # memo then shares key strings across those objects (less memory per object).
            try:
                events = json.loads(b"[" + b",".join(lines) + b"]")
            except ValueError:
                events = None  # some line is garbage: go line by line to apply the good ones first
            if isinstance(events, list) and len(events) == len(lines):
                for event, line in zip(events, lines, strict=True):
                    self._handle_event(event, line)
                return
        for line in lines:
            self._handle(line)

    def _handle(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            self._garbage(line)
        self._handle_event(event, line)

    def _handle_event(self, event: Any, line: bytes) -> None:
        try:
            type_, obj = event["type"], event["object"]
        except (KeyError, TypeError, IndexError):
            self._garbage(line)
        if type_ not in EVENT_TYPES or not isinstance(obj, dict):
            self._garbage(line)
        if type_ == "ERROR":
            raise error_from_status(obj, what=f"watch {self.name}")
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self.resource_version = str(rv)
        if type_ == "BOOKMARK":
            self.stats.bookmarks += 1
            return
        self.stats.events += 1
        obj = self._prepare(obj)
        if self.keep is not None and not self.keep(obj):
            meta = obj.get("metadata") or {}
            if self.store.get(self.kind.kind, meta.get("namespace"), meta.get("name", "")) is not None:
                self.store.apply(self.kind.kind, DELETED, obj)
            return
        self.store.apply(self.kind.kind, type_, obj)

    def _garbage(self, line: bytes) -> NoReturn:
        self.stats.garbage += 1
        if not self._garbage_logged:
            self._garbage_logged = True
            log.warning("%s: unexpected line on the watch stream, restarting it: %.120r", self.name, line)
        raise GarbageLine(f"garbage on the watch stream ({self.stats.garbage} lines so far)")
