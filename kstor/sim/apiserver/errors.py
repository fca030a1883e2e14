"""API errors as real servers send them: a `Status` object with code, reason, message and details.

Messages follow k8s.io/apimachinery/pkg/api/errors (see docs k8s-storage-semantics.md §9).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request failed the way a real API server fails it; `status()` is the body it sends."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        causes: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = dict(details or {})
        if causes:
            self.details["causes"] = causes
        self.retry_after = retry_after
        if retry_after:
            self.details["retryAfterSeconds"] = retry_after

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(name: str, group: str, plural: str) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": plural}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def _qualified(plural: str, group: str) -> str:
    # Real servers name the resource with its group: `storageclasses.storage.k8s.io "x" not found`.
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{_qualified(plural, group)} "{name}" not found',
        details=_details(name, group, plural),
    )


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(plural, group)} "{name}" already exists',
        details=_details(name, group, plural),
    )


def conflict(plural: str, name: str, group: str = "", why: str | None = None) -> ApiError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {why}',
        details=_details(name, group, plural),
    )


def invalid(kind: str, name: str, causes: list[dict[str, Any]], group: str = "") -> ApiError:
    parts = [
        f"{c.get('field', '')}: {c.get('message', '')}" if c.get("field") else c["message"] for c in causes
    ]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {joined}', details=details, causes=causes)


def forbidden(plural: str, name: str, why: str, group: str = "") -> ApiError:
    target = f'{_qualified(plural, group)} "{name}"' if name else _qualified(plural, group)
    return ApiError(403, "Forbidden", f"{target} is forbidden: {why}", details=_details(name, group, plural))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_old(requested: int, oldest: int) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")


def too_many_requests(
    message: str, retry_after: int = 1, causes: list[dict[str, Any]] | None = None
) -> ApiError:
    return ApiError(429, "TooManyRequests", message, causes=causes, retry_after=retry_after)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")
