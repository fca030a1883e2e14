"""Typed API errors carrying the server's Status reason and message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kstor.errors import KstorError


class KubeError(KstorError):
    """Anything that went wrong talking to the API server."""


class TransportError(KubeError):
    """The server could not be reached or the connection broke (no HTTP status)."""


class ApiError(KubeError):
    """The server answered with an error Status."""

    code: int = 0

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
        what: str = "",
    ) -> None:
        self.message = message
        if code is not None:
            self.code = code
        self.reason = reason
        self.details = dict(details or {})
        self.retry_after = retry_after
        self.what = what
        prefix = f"{what}: " if what else ""
        super().__init__(f"{prefix}{self.code} {reason or 'Error'}: {message}")


class BadRequest(ApiError):
    code = 400


class Unauthorized(ApiError):
    code = 401


class Forbidden(ApiError):
    code = 403


class NotFound(ApiError):
    code = 404


class Conflict(ApiError):
    code = 409


class AlreadyExists(Conflict):
    pass


class Gone(ApiError):
    """410: the requested resourceVersion is too old (history compacted) — relist."""

    code = 410


class Invalid(ApiError):
    code = 422


class TooManyRequests(ApiError):
    code = 429


class ServerError(ApiError):
    code = 500


_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def error_from_status(status: Mapping[str, Any], *, code: int | None = None, what: str = "",
                      retry_after: float | None = None) -> ApiError:
    """Build the typed error for a Status object (from a response body or a watch ERROR event)."""
    code = int(code or status.get("code") or 500)
    reason = str(status.get("reason") or "")
    message = str(status.get("message") or reason or f"HTTP {code}")
    cls = _BY_CODE.get(code) or (ServerError if code >= 500 else ApiError)
    if code == 409 and reason == "AlreadyExists":
        cls = AlreadyExists
    details = status.get("details") if isinstance(status.get("details"), Mapping) else None
    return cls(message, code=code, reason=reason, details=details, retry_after=retry_after, what=what)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from API servers; fall back to our own backoff


def error_from_response(code: int, body: bytes, headers: Mapping[str, str], *, what: str = "") -> ApiError:
    """Build the typed error for a non-2xx response, whether or not its body is a Status."""
    try:
        status = json.loads(body) if body else {}
    except ValueError:
        status = {}
    if not isinstance(status, dict) or status.get("kind") != "Status":
        text = body.decode("utf-8", "replace").strip().splitlines()
        status = {"message": text[0][:200] if text else f"HTTP {code}"}
    retry_after = parse_retry_after(headers.get("Retry-After"))
    return error_from_status(status, code=code, what=what, retry_after=retry_after)
