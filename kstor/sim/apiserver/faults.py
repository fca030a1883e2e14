"""Fault injection for reliability tests: what a flaky or locked-down API server does to clients.

Usable from Python (`server.faults`) and over HTTP (`POST /_sim/faults/...`). Resource `None` or
`"*"` means every resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kstor.sim.apiserver import errors
from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.resources import Resource

USER = "kstor-sim"
ANY = "*"


@dataclass
class _Failure:
    remaining: int
    code: int
    retry_after: int


@dataclass
class Faults:
    failures: dict[str, _Failure] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    denied: set[tuple[str, str]] = field(default_factory=set)  # (resource, verb or "*")

    def fail_next(self, resource: str | None, count: int, *, code: int = 500, retry_after: int = 1) -> None:
        if code not in (429, 500, 503):
            raise ValueError("code must be 429, 500 or 503")
        self.failures[resource or ANY] = _Failure(
            remaining=int(count), code=code, retry_after=int(retry_after)
        )

    def add_latency(self, resource: str | None, seconds: float) -> None:
        self.latency[resource or ANY] = float(seconds)

    def deny(self, resource: str | None, verb: str | None = None) -> None:
        self.denied.add((resource or ANY, verb or ANY))

    def clear(self) -> None:
        self.failures.clear()
        self.latency.clear()
        self.denied.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "failures": {k: vars(v) for k, v in self.failures.items()},
            "latency": dict(self.latency),
            "denied": sorted(f"{r}:{v}" for r, v in self.denied),
        }

    # --- applied by the server to each API request -------------------------------------------------
    def delay_for(self, res: Resource) -> float:
        return self.latency.get(res.plural, self.latency.get(ANY, 0.0))

    def check(self, res: Resource, verb: str, *, name: str | None, namespace: str | None) -> None:
        """Raise the fault this request meets, if any (403 first, then a pending failure)."""
        if {(res.plural, verb), (res.plural, ANY), (ANY, verb), (ANY, ANY)} & self.denied:
            raise forbidden(res, verb, name=name, namespace=namespace)
        for key in (res.plural, ANY):
            failure = self.failures.get(key)
            if failure is None or failure.remaining <= 0:
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self.failures[key]
            if failure.code == 429:
                raise errors.too_many_requests(
                    "the server has received too many requests and has asked us to try again later",
                    retry_after=failure.retry_after,
                )
            if failure.code == 503:
                raise ApiError(
                    503, "ServiceUnavailable", "the server is currently unable to handle the request"
                )
            raise errors.internal("injected fault (kstor sim)")


def forbidden(res: Resource, verb: str, *, name: str | None, namespace: str | None) -> ApiError:
    """The RBAC denial text real servers send."""
    target = f'{res.group_resource} "{name}"' if name else res.group_resource
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{target} is forbidden: User "{USER}" cannot {verb} resource "{res.plural}" '
        f'in API group "{res.group}" {scope}'
    )
    details: dict[str, Any] = {"kind": res.plural}
    if name:
        details["name"] = name
    if res.group:
        details["group"] = res.group
    return ApiError(403, "Forbidden", message, details=details)
