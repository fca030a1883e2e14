"""Small helpers for control loops that act through the Registry.

- `retry_on_conflict` / `mutate`: the client-go get → modify → update pattern, retried on 409.
- `Changes`: several watches folded into one wake-up signal, re-watched after ERROR/410 or a
  closed stream, so a loop can "react to changes and resync every N sim seconds".
- `parse_quantity`: resource.Quantity strings ("1Gi", "500M", "100m") to numbers, for capacity matching.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from kstor.sim.apiserver.registry import Registry
    from kstor.sim.clock import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")
Obj = dict[str, Any]


def is_conflict(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == 409 and getattr(exc, "reason", "Conflict") == "Conflict"


def is_not_found(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == 404


def retry_on_conflict(fn: Callable[[], T], attempts: int = 5) -> T:
    """Call `fn` until it does not raise a 409 Conflict (client-go's retry.RetryOnConflict)."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if not is_conflict(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def mutate(
    registry: Registry,
    plural: str,
    name: str,
    namespace: str | None,
    fn: Callable[[Obj], bool | None],
    *,
    subresource: str | None = None,
    attempts: int = 5,
) -> Obj | None:
    """Get the object, let `fn` change it in place, update it; retried on conflict.

    `fn` returning False means "nothing to change": no write happens and None is returned.
    Returns the stored object after the update, READ-ONLY (the registry's own copy-on-write dict:
    copying it for callers that only read it was a JSON round trip per write).
    """

    def attempt() -> Obj | None:
        obj = registry.get(plural, name, namespace)
        if fn(obj) is False:
            return None
        return registry.update_entry(plural, obj, namespace, subresource=subresource).obj

    return retry_on_conflict(attempt, attempts)


class Changes:
    """Watches several resources and turns their events into one wake-up signal.

    Use as an async context manager; `await changes.wait(clock, seconds)` returns the changes that
    arrived as `(plural, event_type, obj)` tuples, or `[]` when `seconds` of sim time passed first
    (the loop's resync tick). A watch that ends or reports ERROR (e.g. 410 Expired) is re-opened
    from scratch, which replays the current state as ADDED events — a relist.
    """

    def __init__(
        self,
        registry: Registry,
        plurals: Iterable[str | tuple[str, dict[str, Any]]],
    ) -> None:
        self.registry = registry
        self._specs: list[tuple[str, dict[str, Any]]] = [
            (p, {}) if isinstance(p, str) else (p[0], dict(p[1])) for p in plurals
        ]
        self._pending: deque[tuple[str, str, Obj]] = deque()
        self._event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Changes:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump(plural, opts), name=f"changes:{plural}")
            for plural, opts in self._specs
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _pump(self, plural: str, opts: dict[str, Any]) -> None:
        while True:
            watch = self.registry.watch(plural, **opts)
            try:
                async for event_type, obj in watch:
                    if event_type == "ERROR":
                        break
                    if event_type == "BOOKMARK":
                        continue
                    self._pending.append((plural, event_type, obj))
                    self._event.set()
            finally:
                watch.close()
            await asyncio.sleep(0)

    def drain(self) -> list[tuple[str, str, Obj]]:
        items = list(self._pending)
        self._pending.clear()
        self._event.clear()
        return items

    async def wait(self, clock: Clock, seconds: float | None) -> list[tuple[str, str, Obj]]:
        """Changes since the last call; waits for at least one, or up to `seconds` of sim time."""
        if self._pending:
            return self.drain()
        self._event.clear()
        if seconds is None:
            await self._event.wait()
            return self.drain()
        waiter = asyncio.ensure_future(self._event.wait())
        sleeper = asyncio.ensure_future(clock.sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
        return self.drain()


# --- quantities --------------------------------------------------------------------------------------

_SUFFIXES = {
    "": 1,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> Decimal:
    """A Kubernetes quantity as a Decimal (bytes for storage). Raises ValueError on garbage."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"invalid quantity {text!r}")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError(f"invalid quantity {text!r}") from None
    return number * Decimal(_SUFFIXES[match.group(2)])


def storage_of(resources: dict[str, Any] | None) -> Decimal:
    """The `storage` entry of a capacity/requests map, 0 when missing or unparsable."""
    raw = (resources or {}).get("storage")
    if raw is None:
        return Decimal(0)
    try:
        return parse_quantity(raw)
    except ValueError:
        return Decimal(0)


# --- storage facts shared by the PV controller and the provisioners ----------------------------------

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def is_bound_to_claim(pv: Obj, claim: Obj) -> bool:
    """IsVolumeBoundToClaim: claimRef names the claim and its uid is empty or the claim's."""
    ref = pv.get("spec", {}).get("claimRef") or {}
    meta = claim.get("metadata", {})
    if ref.get("name") != meta.get("name") or (ref.get("namespace") or "") != (meta.get("namespace") or ""):
        return False
    return not ref.get("uid") or ref.get("uid") == meta.get("uid")


def claim_reference(claim: Obj) -> Obj:
    """An ObjectReference to a claim, as ref.GetReference writes it into PV.spec.claimRef."""
    meta = claim.get("metadata", {})
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "apiVersion": "v1",
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def volume_mode(obj: Obj) -> str:
    return obj.get("spec", {}).get("volumeMode") or "Filesystem"


def claim_uses_selector(claim: Obj, pv: Obj) -> bool:
    """True when the claim has no selector or the volume's labels match it."""
    selector = claim.get("spec", {}).get("selector")
    if not selector:
        return True
    labels = pv.get("metadata", {}).get("labels") or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True
