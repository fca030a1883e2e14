"""kubernetes_asyncio (the app's client) against the server, both on pytest's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.rest import ApiException

from kstor.sim.apiserver.server import ApiServer
from kstor.sim.cluster import SimCluster
from kstor.sim.testing import async_wait_for


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ApiServer, client.CoreV1Api]]:
    cluster = SimCluster(speed=100.0)
    async with ApiServer.started(cluster, port=0) as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
        conf = client.Configuration()
        await config.load_kube_config(config_file=str(path), client_configuration=conf)
        async with client.ApiClient(configuration=conf) as api:
            yield server, client.CoreV1Api(api)


def pv(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/x"},
        },
    }


async def test_list_and_watch_with_bookmarks(served: tuple[ApiServer, client.CoreV1Api]) -> None:
    _, v1 = served
    listed = await v1.list_persistent_volume()
    events: list[tuple[str, str]] = []

    async def consume() -> None:
        stream = watch.Watch().stream(
            v1.list_persistent_volume,
            resource_version=listed.metadata.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=20,
        )
        async with stream:
            async for event in stream:
                events.append((event["type"], event["raw_object"]["metadata"].get("name", "")))
                if event["type"] == "BOOKMARK" and ("ADDED", "pv-a") in events:
                    return

    task = asyncio.create_task(consume())
    await v1.create_persistent_volume(pv("pv-a"))
    await asyncio.wait_for(task, 15)
    assert events[0] == ("ADDED", "pv-a") and events[-1][0] == "BOOKMARK"


async def test_dropped_watch_resumes_without_loss(served: tuple[ApiServer, client.CoreV1Api]) -> None:
    server, v1 = served
    rv = (await v1.list_persistent_volume()).metadata.resource_version
    seen: list[str] = []

    async def consume(from_rv: str) -> str:
        last = from_rv
        stream = watch.Watch().stream(v1.list_persistent_volume, resource_version=from_rv, timeout_seconds=20)
        async with stream:
            async for event in stream:
                seen.append(event["raw_object"]["metadata"]["name"])
                last = event["raw_object"]["metadata"]["resourceVersion"]
        return last

    first = asyncio.create_task(consume(rv))
    await v1.create_persistent_volume(pv("pv-a"))
    await async_wait_for(lambda: seen == ["pv-a"], 10, "first event not seen")
    assert server.drop_watches() == 1
    last = await asyncio.wait_for(first, 10)  # the stream ended cleanly
    await v1.create_persistent_volume(pv("pv-b"))  # while no watch is open
    second = asyncio.create_task(consume(last))
    await async_wait_for(lambda: seen == ["pv-a", "pv-b"], 10, "missed the change made between watches")
    server.drop_watches()
    await asyncio.wait_for(second, 10)


async def test_expired_watch_then_relist(served: tuple[ApiServer, client.CoreV1Api]) -> None:
    server, v1 = served
    old = (await v1.list_persistent_volume()).metadata.resource_version
    await v1.create_persistent_volume(pv("pv-a"))
    server.compact()
    stream = watch.Watch().stream(v1.list_persistent_volume, resource_version=old, timeout_seconds=5)
    with pytest.raises(ApiException) as err:  # kubernetes_asyncio turns the ERROR event into an exception
        async with stream:
            async for _ in stream:
                pass
    assert err.value.status == 410
    relisted = await v1.list_persistent_volume()
    assert [p.metadata.name for p in relisted.items] == ["pv-a"]


async def test_stale_update_conflicts(served: tuple[ApiServer, client.CoreV1Api]) -> None:
    _, v1 = served
    await v1.create_persistent_volume(pv("pv-a"))
    stale = await v1.read_persistent_volume("pv-a")
    await v1.patch_persistent_volume("pv-a", {"metadata": {"labels": {"x": "1"}}})
    stale.metadata.labels = {"x": "2"}
    with pytest.raises(ApiException) as err:
        await v1.replace_persistent_volume("pv-a", stale)
    assert err.value.status == 409
