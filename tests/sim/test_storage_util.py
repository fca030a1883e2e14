"""The control-loop helpers in kstor.sim.controllers.util, on the real registry."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.registry import Registry
from kstor.sim.clock import Clock
from kstor.sim.controllers.util import Changes, mutate, parse_quantity, retry_on_conflict


def conflict() -> ApiError:
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on persistentvolumes "x"')


def test_retry_on_conflict_retries_only_conflicts() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise conflict()
        return "done"

    assert retry_on_conflict(flaky, attempts=5) == "done"
    assert len(calls) == 3
    with pytest.raises(ApiError):
        retry_on_conflict(lambda: (_ for _ in ()).throw(conflict()), attempts=2)
    with pytest.raises(ApiError, match="gone"):
        retry_on_conflict(lambda: (_ for _ in ()).throw(ApiError(404, "NotFound", "gone")), attempts=5)


def test_mutate_writes_changes_and_skips_no_ops() -> None:
    reg = Registry(Clock(100))
    reg.create("persistentvolumes", {"metadata": {"name": "pv"}, "spec": {"capacity": {"storage": "1Gi"},
               "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/x"}}})  # fmt: skip
    before = reg.get("persistentvolumes", "pv")["metadata"]["resourceVersion"]
    assert mutate(reg, "persistentvolumes", "pv", None, lambda obj: False) is None
    assert reg.get("persistentvolumes", "pv")["metadata"]["resourceVersion"] == before

    def label(obj: dict) -> None:
        obj["metadata"].setdefault("labels", {})["tier"] = "gold"

    updated = mutate(reg, "persistentvolumes", "pv", None, label)
    assert updated is not None and updated["metadata"]["labels"] == {"tier": "gold"}
    assert updated["metadata"]["resourceVersion"] != before


async def test_changes_wakes_on_events_and_on_resync_ticks_and_rewatches_after_expiry() -> None:
    clock = Clock(1000)
    reg = Registry(clock)
    async with Changes(reg, ["persistentvolumes", ("namespaces", {"label_selector": "team=a"})]) as changes:
        assert await changes.wait(clock, 1) == []  # nothing new: the resync tick returns empty
        reg.create("namespaces", {"metadata": {"name": "a", "labels": {"team": "a"}}})
        reg.create("namespaces", {"metadata": {"name": "b"}})
        got = await asyncio.wait_for(changes.wait(clock, None), 5)
        assert [(p, t, o["metadata"]["name"]) for p, t, o in got] == [("namespaces", "ADDED", "a")]

        reg.drop_watches()  # a broken stream is re-opened: the current state is replayed
        replay = await asyncio.wait_for(changes.wait(clock, None), 5)
        assert ("namespaces", "ADDED") in {(p, t) for p, t, _ in replay}


def test_parse_quantity() -> None:
    assert parse_quantity("1Gi") == 2**30
    assert parse_quantity("1Mi") < parse_quantity("2M")
    assert parse_quantity("500m") == Decimal("0.5")
    assert parse_quantity("1e3") == 1000
    with pytest.raises(ValueError):
        parse_quantity("lots")
