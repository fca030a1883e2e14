"""Typed API errors from Status bodies, and the backoff schedule."""

from __future__ import annotations

import json
import random

from kstor.kube.backoff import Backoff
from kstor.kube.errors import (
    AlreadyExists,
    Forbidden,
    Gone,
    ServerError,
    TooManyRequests,
    error_from_response,
)


def status(code: int, reason: str, message: str) -> bytes:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message}
    return json.dumps(body).encode()


def test_status_bodies_map_to_typed_errors() -> None:
    err = error_from_response(
        403, status(403, "Forbidden", 'pods is forbidden: User "x"'), {}, what="GET /api/v1/pods"
    )
    assert isinstance(err, Forbidden) and err.message == 'pods is forbidden: User "x"'
    assert str(err) == 'GET /api/v1/pods: 403 Forbidden: pods is forbidden: User "x"'
    assert isinstance(error_from_response(409, status(409, "AlreadyExists", "exists"), {}), AlreadyExists)
    assert isinstance(error_from_response(410, status(410, "Expired", "too old"), {}), Gone)
    throttled = error_from_response(429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "3"})
    assert isinstance(throttled, TooManyRequests) and throttled.retry_after == 3.0


def test_non_status_bodies_still_give_one_line() -> None:
    err = error_from_response(502, b"<html>\n<body>Bad Gateway</body>\n</html>", {})
    assert isinstance(err, ServerError) and err.code == 502 and "\n" not in str(err)


def test_backoff_grows_to_the_cap_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base=0.2, cap=30.0, rng=random.Random(1))
    delays = [backoff.next() for _ in range(12)]
    assert 0.1 <= delays[0] <= 0.2
    assert all(d <= 30.0 for d in delays) and delays[-1] >= 15.0
    assert backoff.next(retry_after=45.0) == 45.0
    backoff.reset()
    assert backoff.next() <= 0.2
