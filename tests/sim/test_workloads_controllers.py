"""Deployment → ReplicaSet → Pods, StatefulSets with volumeClaimTemplates, and garbage collection."""

from __future__ import annotations

import re

from test_sched_world import deployment, events, get, pods, ready, running, statefulset, until

from kstor.sim.cluster import SimCluster


def apps(cluster: SimCluster) -> None:
    cluster.registry.create("deployments", deployment("api", "default", replicas=2), "default")
    cluster.registry.create(
        "statefulsets", statefulset("db", "default", replicas=3, storage_class="csi-hostpath-sc"), "default"
    )


def owner(obj: dict) -> dict:
    (ref,) = obj["metadata"]["ownerReferences"]
    return ref


async def test_deployment_replicaset_pods_names_owners_status_and_scale() -> None:
    async with running(apps) as cluster:
        await until(
            lambda: len([p for p in pods(cluster, "default", "api-") if ready(p)]) == 2, "api pods Ready"
        )
        (rs,) = cluster.registry.list("replicasets", "default")["items"]
        hash_ = rs["metadata"]["labels"]["pod-template-hash"]
        assert rs["metadata"]["name"] == f"api-{hash_}" and re.fullmatch(
            r"[bcdfghjklmnpqrstvwxz2456789]{6,10}", hash_
        )
        assert (
            owner(rs)["kind"] == "Deployment" and owner(rs)["controller"] and owner(rs)["blockOwnerDeletion"]
        )
        for pod in pods(cluster, "default", "api-"):
            assert re.fullmatch(rf"api-{hash_}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", pod["metadata"]["name"])
            assert owner(pod)["kind"] == "ReplicaSet" and owner(pod)["uid"] == rs["metadata"]["uid"]
            assert pod["metadata"]["labels"]["pod-template-hash"] == hash_

        def status() -> dict:
            return cluster.registry.get("deployments", "api", "default")["status"]

        await until(lambda: status().get("availableReplicas") == 2, "deployment available")
        st = status()
        assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"]) == (2, 2, 2)
        conds = {c["type"]: c for c in st["conditions"]}
        assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
        assert conds["Progressing"]["message"] == f'ReplicaSet "api-{hash_}" has successfully progressed.'
        scaled = events(cluster, "default", name="api", reason="ScalingReplicaSet")
        assert [e["message"] for e in scaled] == [f"Scaled up replica set api-{hash_} from 0 to 2"]

        cluster.registry.update_scale("deployments", "api", "default", {"spec": {"replicas": 1}})
        await until(
            lambda: len(pods(cluster, "default", "api-")) == 1 and status().get("replicas") == 1,
            "scaled down",
        )

        # A pod whose owner is gone is collected.
        orphan = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "orphan",
                "namespace": "default",
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": "gone",
                        "uid": "0000",
                        "controller": True,
                    }
                ],
            },
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        }
        cluster.registry.create("pods", orphan, "default")
        await until(lambda: get(cluster, "pods", "orphan", "default") is None, "orphan collected")


async def test_statefulset_ordered_pods_and_claims_kept_on_scale_down() -> None:
    async with running(apps) as cluster:
        await until(
            lambda: all(ready(get(cluster, "pods", f"db-{i}", "default")) for i in range(3)), "db-0..2 Ready"
        )
        created = {
            p["metadata"]["name"]: p["metadata"]["creationTimestamp"] for p in pods(cluster, "default", "db-")
        }
        assert created["db-0"] <= created["db-1"] <= created["db-2"]
        for i in range(3):
            claim = get(cluster, "persistentvolumeclaims", f"data-db-{i}", "default")
            assert claim["status"]["phase"] == "Bound"
            pod = get(cluster, "pods", f"db-{i}", "default")
            assert owner(pod)["kind"] == "StatefulSet"
            assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == f"db-{i}"
            assert {"name": "data", "persistentVolumeClaim": {"claimName": f"data-db-{i}"}} in pod["spec"][
                "volumes"
            ]
        msgs = {e["message"] for e in events(cluster, "default", name="db", reason="SuccessfulCreate")}
        assert "create Claim data-db-0 Pod db-0 in StatefulSet db success" in msgs
        assert "create Pod db-0 in StatefulSet db successful" in msgs
        sts = await until(
            lambda: (
                (s := cluster.registry.get("statefulsets", "db", "default"))["status"].get("readyReplicas")
                == 3
                and s
            ),
            "statefulset status",
        )
        assert sts["status"]["replicas"] == 3

        cluster.registry.update_scale("statefulsets", "db", "default", {"spec": {"replicas": 1}})
        await until(
            lambda: [p["metadata"]["name"] for p in pods(cluster, "default", "db-")] == ["db-0"],
            "scaled to 1",
        )
        assert get(cluster, "persistentvolumeclaims", "data-db-2", "default") is not None  # claims are kept

        old_uid = get(cluster, "pods", "db-0", "default")["metadata"]["uid"]
        cluster.registry.delete("pods", "db-0", "default")
        again = await until(
            lambda: (
                (p := get(cluster, "pods", "db-0", "default"))
                and p["metadata"]["uid"] != old_uid
                and ready(p)
                and p
            ),
            "db-0 recreated with the same name",
        )
        assert again["spec"]["volumes"][-1]["persistentVolumeClaim"]["claimName"] == "data-db-0"


async def test_template_change_rolls_out_a_new_replicaset() -> None:
    async with running(apps) as cluster:
        await until(
            lambda: len([p for p in pods(cluster, "default", "api-") if ready(p)]) == 2, "api pods Ready"
        )
        (old,) = cluster.registry.list("replicasets", "default")["items"]
        patch = {"spec": {"template": {"metadata": {"labels": {"app": "api", "release": "v2"}}}}}
        cluster.registry.patch("deployments", "api", patch, "default")

        def rolled() -> bool:
            rss = {
                rs["metadata"]["name"]: rs for rs in cluster.registry.list("replicasets", "default")["items"]
            }
            live = [p for p in pods(cluster, "default", "api-") if ready(p)]
            return (
                len(rss) == 2
                and rss[old["metadata"]["name"]]["spec"]["replicas"] == 0
                and len(live) == 2
                and all(p["metadata"]["labels"].get("release") == "v2" for p in live)
            )

        await until(rolled, "new ReplicaSet took over")
        new = next(
            rs
            for rs in cluster.registry.list("replicasets", "default")["items"]
            if rs["metadata"]["uid"] != old["metadata"]["uid"]
        )
        assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        msgs = [e["message"] for e in events(cluster, "default", name="api", reason="ScalingReplicaSet")]
        assert f"Scaled up replica set {new['metadata']['name']} from 0 to 2" in msgs
        assert any(
            m.startswith(f"Scaled down replica set {old['metadata']['name']} from 2 to ") for m in msgs
        )
