"""disruption-controller: PodDisruptionBudget status follows the pods, and eviction obeys that status."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import kubernetes
import pytest
from test_sched_world import deployment, node, pods, ready, running, until

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.cluster import SimCluster
from kstor.sim.testing import SimServerThread, wait_for

REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."


def cause(message: str) -> list[dict[str, str]]:
    return [{"reason": "DisruptionBudget", "message": message}]


def pdb(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {**spec, "selector": {"matchLabels": {"app": name}}},
    }


def web(cluster: SimCluster, **spec: Any) -> None:
    cluster.registry.create("deployments", deployment("web", "default", replicas=3), "default")
    cluster.registry.create("poddisruptionbudgets", pdb("web", **spec), "default")


def status(cluster: SimCluster, name: str = "web") -> dict[str, Any]:
    return cluster.registry.get("poddisruptionbudgets", name, "default").get("status") or {}


def condition(st: dict[str, Any]) -> tuple[str, str]:
    (cond,) = st["conditions"]
    assert cond["type"] == "DisruptionAllowed"
    return cond["status"], cond["reason"]


def ready_pods(cluster: SimCluster, prefix: str = "web-") -> list[dict[str, Any]]:
    return [p for p in pods(cluster, "default", prefix) if ready(p)]


def evict(cluster: SimCluster, name: str) -> None:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "default"}}
    cluster.registry.evict(name, "default", body)


def refused(cluster: SimCluster, name: str) -> ApiError:
    with pytest.raises(ApiError) as err:
        evict(cluster, name)
    assert err.value.code == 429 and err.value.message == REFUSED
    return err.value


async def test_min_available_follows_pods_coming_and_going() -> None:
    async with running(lambda c: web(c, minAvailable=2)) as cluster:
        await until(lambda: status(cluster).get("disruptionsAllowed") == 1, "budget allows 1")
        st = status(cluster)
        assert (st["currentHealthy"], st["desiredHealthy"], st["expectedPods"]) == (3, 2, 3)
        assert st["observedGeneration"] == 1 and "disruptedPods" not in st
        assert condition(st) == ("True", "SufficientPods")

        # The replacement cannot be scheduled: between the delete and its Ready the budget is spent.
        await cluster.controllers.stop("scheduler")
        victim = ready_pods(cluster)[0]["metadata"]["name"]
        cluster.registry.delete("pods", victim, "default")
        await until(lambda: status(cluster)["disruptionsAllowed"] == 0, "budget exhausted")
        st = status(cluster)
        assert (st["currentHealthy"], st["desiredHealthy"]) == (2, 2)
        assert condition(st) == ("False", "InsufficientPods")
        err = refused(cluster, ready_pods(cluster)[0]["metadata"]["name"])
        assert err.details["causes"] == cause(
            "The disruption budget web needs 2 healthy pods and has 2 currently"
        )

        cluster.controllers.start("scheduler")
        await until(lambda: len(ready_pods(cluster)) == 3, "replacement Ready")
        await until(lambda: status(cluster)["disruptionsAllowed"] == 1, "budget allows 1 again")
        assert condition(status(cluster)) == ("True", "SufficientPods")


async def test_two_evictions_against_a_budget_of_one() -> None:
    async with running(lambda c: web(c, minAvailable=2)) as cluster:
        await until(lambda: status(cluster).get("disruptionsAllowed") == 1, "budget allows 1")
        first, second = (p["metadata"]["name"] for p in ready_pods(cluster)[:2])
        evict(cluster, first)
        st = status(cluster)  # what the eviction itself wrote, before the controller looks again
        assert st["disruptionsAllowed"] == 0 and list(st["disruptedPods"]) == [first]
        assert condition(st) == ("False", "InsufficientPods")
        err = refused(cluster, second)
        assert err.details["causes"] == cause(
            "The disruption budget web needs 2 healthy pods and has 3 currently"
        )
        # The controller sees the evicted pod terminating and drops it from disruptedPods.
        await until(lambda: "disruptedPods" not in status(cluster), "eviction observed")
        await until(lambda: status(cluster)["disruptionsAllowed"] == 1, "replacement restores the budget")


async def test_max_unavailable_percent_uses_the_deployment_scale() -> None:
    async with running(lambda c: web(c, maxUnavailable="50%")) as cluster:
        # 50% of 3 rounds up to 2 unavailable: 1 must stay healthy.
        await until(lambda: status(cluster).get("disruptionsAllowed") == 2, "budget allows 2")
        st = status(cluster)
        assert (st["currentHealthy"], st["desiredHealthy"], st["expectedPods"]) == (3, 1, 3)
        cluster.registry.update_scale("deployments", "web", "default", {"spec": {"replicas": 4}})
        await until(lambda: status(cluster)["expectedPods"] == 4, "expectedPods follows the scale")
        await until(
            lambda: (s := status(cluster))["currentHealthy"] == 4 and s["disruptionsAllowed"] == 2,
            "4 healthy",
        )
        assert status(cluster)["desiredHealthy"] == 2


async def test_stale_status_is_refused_until_the_controller_catches_up() -> None:
    async with running(lambda c: web(c, minAvailable=3)) as cluster:
        await until(lambda: len(ready_pods(cluster)) == 3, "web Ready")
        await until(lambda: status(cluster).get("currentHealthy") == 3, "status computed")
        await cluster.controllers.stop("disruption-controller")
        cluster.registry.patch("poddisruptionbudgets", "web", {"spec": {"minAvailable": 1}}, "default")
        victim = ready_pods(cluster)[0]["metadata"]["name"]
        err = refused(cluster, victim)
        assert err.details["causes"] == cause(
            "The disruption budget web is still being processed by the server."
        )
        assert err.status()["details"]["retryAfterSeconds"] == 10

        cluster.controllers.start("disruption-controller")
        await until(lambda: status(cluster).get("observedGeneration") == 2, "generation 2 observed")
        assert status(cluster)["disruptionsAllowed"] == 2
        evict(cluster, victim)
        assert cluster.registry.get("pods", victim, "default")["metadata"].get("deletionTimestamp")


async def test_bare_pods_count_as_expected_for_an_integer_budget() -> None:
    def setup(cluster: SimCluster) -> None:
        for i in range(2):
            bare = deployment("solo", "default")["spec"]["template"]
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"solo-{i}", **bare["metadata"]}}
            pod["spec"] = bare["spec"]
            cluster.registry.create("pods", pod, "default")
        cluster.registry.create("poddisruptionbudgets", pdb("solo", minAvailable=1), "default")

    async with running(setup) as cluster:
        await until(lambda: status(cluster, "solo").get("currentHealthy") == 2, "bare pods Ready")
        st = status(cluster, "solo")
        assert (st["expectedPods"], st["desiredHealthy"], st["disruptionsAllowed"]) == (2, 1, 1)


# --- over HTTP: kubectl's column and the 429 a client sees --------------------------------------
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_kubectl_allowed_disruptions_and_http_refusal(tmp_path: Any) -> None:
    with SimServerThread(speed=500) as sim:

        def setup() -> None:
            for i in range(2):
                sim.registry.create("nodes", node(f"worker-{i + 1}", ip=i + 2))
            sim.registry.create("deployments", deployment("web", "default", replicas=3), "default")
            sim.registry.create("poddisruptionbudgets", pdb("web", minAvailable=2), "default")
            sim.registry.create("deployments", deployment("db", "default", replicas=2), "default")
            sim.registry.create("poddisruptionbudgets", pdb("db", maxUnavailable=0), "default")

        sim.call(setup)

        def allowed() -> dict[str, str]:
            out = subprocess.run(
                ["kubectl", "--kubeconfig", str(sim.kubeconfig), f"--cache-dir={tmp_path}", "get", "pdb"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.splitlines()
            assert out[0].split()[:5] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE"]
            return {line.split()[0]: " ".join(line.split()[1:4]) for line in out[1:]}

        wait_for(
            lambda: allowed() == {"db": "N/A 0 0", "web": "2 N/A 1"},
            timeout=30,
            message="ALLOWED DISRUPTIONS",
        )
        wait_for(
            lambda: sim.call(lambda: status_of(sim, "db").get("currentHealthy")) == 2,
            timeout=30,
            message="db healthy",
        )

        client = kubernetes.config.new_client_from_config(str(sim.kubeconfig))
        try:
            victim = sim.call(lambda: next(p for p in pods(sim.cluster, "default", "db-") if ready(p)))
            name = victim["metadata"]["name"]
            with pytest.raises(kubernetes.client.ApiException) as err:
                kubernetes.client.CoreV1Api(client).create_namespaced_pod_eviction(
                    name,
                    "default",
                    {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}},
                )
        finally:
            client.close()
        assert err.value.status == 429
        body = json.loads(err.value.body)
        assert body["message"] == REFUSED
        assert body["details"]["causes"] == cause(
            "The disruption budget db needs 2 healthy pods and has 2 currently"
        )


def status_of(sim: SimServerThread, name: str) -> dict[str, Any]:
    return sim.registry.get("poddisruptionbudgets", name, "default").get("status") or {}
