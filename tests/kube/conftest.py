from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kstor.kube.cluster import Cluster
from kstor.kube.connect import connect
from kstor.kube.informer import InformerOptions
from tests.kube.fakeapi import FakeApi

# Fast retries so error storms resolve in milliseconds; the logic is the same as production's.
FAST = InformerOptions(backoff_base=0.01, backoff_cap=0.2, slow_retry=0.2, watch_timeout=30)


@pytest.fixture
async def fake() -> AsyncIterator[FakeApi]:
    api = FakeApi()
    await api.start()
    yield api
    await api.drop_watches()
    await api.stop()


@pytest.fixture
def fake_kubeconfig(fake: FakeApi, tmp_path: Path) -> str:
    return fake.kubeconfig(tmp_path / "kubeconfig")


async def open_fake_cluster(kubeconfig: str, kinds: tuple[str, ...] = ("Pod", "PersistentVolume"),
                            **kwargs: object) -> Cluster:
    conn = await connect(kubeconfig)
    cluster = Cluster(conn, kinds=kinds, options=kwargs.pop("options", FAST), **kwargs)  # type: ignore[arg-type]
    cluster.start()
    return cluster
