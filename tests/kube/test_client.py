"""The write client against the embedded cluster: typed errors, deletes, patches, eviction (PDB refusal
as a result), scale, cordon and taints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kstor.kube.client import KubeClient
from kstor.kube.connect import Connection, connect
from kstor.kube.errors import AlreadyExists, Conflict, NotFound
from kstor.sim.testing import SimServerThread


@pytest.fixture
async def env() -> AsyncIterator[tuple[SimServerThread, KubeClient]]:
    with SimServerThread(with_controllers=False) as sim:
        sim.call(sim.registry.create, "nodes", {"metadata": {"name": "n1"}})
        conn: Connection = await connect(sim.kubeconfig)
        try:
            yield sim, KubeClient(conn.transport)
        finally:
            await conn.close()


def pod(name: str, labels: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def running(sim: SimServerThread, name: str) -> None:
    status = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    sim.call(sim.registry.patch, "pods", name, status, "default", subresource="status")


async def test_typed_errors_carry_the_status(env) -> None:
    _sim, client = env
    with pytest.raises(NotFound) as info:
        await client.get("pods", "missing", namespace="default")
    assert info.value.reason == "NotFound" and 'pods "missing" not found' in info.value.message
    await client.create("Pod", pod("a"))
    with pytest.raises(AlreadyExists):
        await client.create("Pod", pod("a"))
    stale = await client.get("Pod", "a", namespace="default")
    await client.patch("Pod", "a", {"metadata": {"labels": {"x": "1"}}}, namespace="default")
    with pytest.raises(Conflict):
        await client.replace("Pod", stale)


async def test_patch_kinds_and_delete(env) -> None:
    _sim, client = env
    await client.create("Pod", pod("a", {"keep": "1"}))
    await client.patch("pods", "a", {"metadata": {"labels": {"m": "1"}}}, namespace="default")
    await client.patch(
        "pods", "a", {"metadata": {"labels": {"s": "1"}}}, namespace="default", patch_type="strategic"
    )
    got = await client.get("pod", "a", namespace="default")
    assert got["metadata"]["labels"] == {"keep": "1", "m": "1", "s": "1"}
    await client.delete(
        "Pod", "a", namespace="default", grace_period_seconds=0, propagation_policy="Background"
    )
    assert [p["metadata"]["name"] for p in await client.list("Pod", namespace="default")] == []


async def test_eviction_refused_by_a_disruption_budget_is_a_result(env) -> None:
    sim, client = env
    await client.create("Pod", pod("guarded", {"app": "db"}))
    await client.create("Pod", pod("free"))
    running(sim, "guarded")
    running(sim, "free")
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
    }
    await client.create("PodDisruptionBudget", pdb)
    refused = await client.evict("guarded", namespace="default")
    assert not refused.evicted and refused.reason == "TooManyRequests"
    assert "disruption budget" in refused.message
    assert (await client.evict("free", namespace="default")).evicted
    with pytest.raises(NotFound):
        await client.evict("nobody", namespace="default")


async def test_scale_cordon_and_taints(env) -> None:
    _sim, client = env
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    await client.create("Deployment", deployment)
    await client.scale("Deployment", "web", 3, namespace="default")
    assert await client.get_scale("deployments", "web", namespace="default") == 3
    assert (await client.cordon("n1"))["spec"]["unschedulable"] is True
    assert "unschedulable" not in (await client.uncordon("n1"))["spec"]
    await client.add_taint("n1", key="chaos", effect="NoSchedule", value="yes")
    await client.add_taint("n1", key="other", effect="NoExecute")
    node = await client.remove_taint("n1", key="chaos")
    assert node["spec"]["taints"] == [{"key": "other", "effect": "NoExecute"}]
