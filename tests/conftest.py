"""Shared fixtures: an embedded cluster served over HTTPS (`sim`) and deadline polling (`wait_for`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kstor.sim.testing import SimServerThread, async_wait_for, wait_for

__all__ = ["async_wait_for", "wait_for"]


@pytest.fixture
def sim() -> Iterator[SimServerThread]:
    """A fresh embedded cluster (no scenario, control loops running) with a kubeconfig for real clients."""
    with SimServerThread() as server:
        yield server


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., Any]:
    """`wait_for(predicate, timeout=10, message=...)`: poll until truthy or fail with the message."""
    return wait_for
