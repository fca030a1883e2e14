"""Chaos actions against the embedded cluster's real Registry: previews, execution, journal, restore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chaos_fakes import deployment, load, make_env, namespace, node, pod, pv, pvc, va

from chaos.config import ChaosConfig
from chaos.errors import ActionError, GuardrailError
from chaos.journal import Journal
from chaos.restore import restore_entry
from chaos.runner import make_action, plan_action, run_action
from kstor.sim.apiserver.registry import Registry
from kstor.sim.clock import Clock


@pytest.fixture
def registry() -> Registry:
    reg = Registry(Clock(manual=True))
    load(
        reg,
        node("node-1"),
        node("node-2"),
        pv("pv-a", claim=("default", "data-a")),
        pvc("data-a", volume="pv-a"),
        pod("web-0", node_name="node-1", claims=("data-a",), owner="StatefulSet", labels={"app": "web"}),
        pod("idle-0", node_name="node-2", labels={"app": "idle"}),
        va("csi-aaa", pv_name="pv-a", node_name="node-1"),
    )
    return reg


async def run(env, name, target, journal, **options):
    action = make_action(name, target, options)
    return await run_action(env, action, context="kstor-sim", kubeconfig=None, journal=journal)


async def test_cordon_journals_previous_state_and_restore_is_idempotent(
    registry: Registry, tmp_path: Path
) -> None:
    env, _api = make_env(registry)
    journal = Journal(tmp_path / "journal.jsonl")
    result = await run(env, "cordon", "node-1", journal)
    assert result.done == ["node/node-1 cordoned"]
    assert registry.get("nodes", "node-1")["spec"]["unschedulable"] is True
    begin = json.loads((tmp_path / "journal.jsonl").read_text().splitlines()[0])
    assert begin["previous"] == {"unschedulable": False}
    assert begin["restore"] == [{"op": "uncordon", "node": "node-1"}]

    [entry] = journal.pending()
    assert await restore_entry(env, journal, entry) == ["node/node-1 uncordoned"]
    assert not registry.get("nodes", "node-1")["spec"].get("unschedulable")
    assert journal.pending() == []
    # a second restore of the same entry checks the state first and changes nothing
    assert await restore_entry(env, journal, entry) == ["node/node-1 already schedulable"]


async def test_delete_bound_pv_preview_names_claim_pods_and_protection(
    registry: Registry, tmp_path: Path
) -> None:
    env, _api = make_env(registry)
    plan = await plan_action(env, make_action("delete-pv", "pv-a"))
    preview = plan.preview
    assert not preview.reversible
    assert [str(r) for r in preview.affects["claims"]] == ["PersistentVolumeClaim default/data-a"]
    assert [str(r) for r in preview.affects["pods"]] == ["Pod default/web-0"]
    assert [str(r) for r in preview.affects["attachments"]] == ["VolumeAttachment csi-aaa"]
    assert any("pv-protection" in note for note in preview.notes)

    await run(env, "delete-pv", "pv-a", Journal(tmp_path / "j"))
    kept = registry.get("persistentvolumes", "pv-a")
    assert kept["metadata"]["deletionTimestamp"]  # held by kubernetes.io/pv-protection: Terminating


async def test_drain_refuses_unmanaged_pods_like_kubectl_before_touching_anything(registry: Registry) -> None:
    load(
        registry,
        pod("bare", node_name="node-1", owner=None),
        pod("cache-0", node_name="node-1", empty_dir=True),
    )
    env, api = make_env(registry)
    with pytest.raises(ActionError) as err:
        await plan_action(env, make_action("drain", "node-1"))
    message = str(err.value)
    assert message.startswith('unable to drain node "node-1" due to error: [')
    assert "cannot delete Pods that declare no controller (use --force to override): default/bare" in message
    assert (
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-0"
        in message
    )
    assert api.writes == []


async def test_drain_preview_lists_pods_claims_and_attachments_that_detach(registry: Registry) -> None:
    env, _api = make_env(registry)
    plan = await plan_action(env, make_action("drain", "node-1", {"ignore-daemonsets": True}))
    touched = [f"{t.ref}: {t.change}" for t in plan.preview.touches]
    assert touched == ["Node node-1: cordon", "Pod default/web-0: evict"]
    assert [str(r) for r in plan.preview.affects["attachments"]] == ["VolumeAttachment csi-aaa"]
    assert plan.restore == [{"op": "uncordon", "node": "node-1"}]


async def test_drain_retries_a_pdb_refusal_every_5s_until_its_timeout(
    registry: Registry, tmp_path: Path
) -> None:
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    load(registry, pdb)
    env, _api = make_env(registry)
    said: list[str] = []
    env.say = said.append
    with pytest.raises(ActionError, match="global timeout reached: 12s"):
        await run(env, "drain", "node-1", Journal(tmp_path / "j"), timeout=12)
    retries = [line for line in said if "will retry after 5s" in line]
    assert len(retries) == 3  # at t=0, 5 and 10 (cluster seconds)
    assert "disruption budget" in retries[0]
    assert registry.get("pods", "web-0", "default")["metadata"].get("deletionTimestamp") is None


async def test_drain_evicts_and_waits_until_the_pods_are_gone(registry: Registry, tmp_path: Path) -> None:
    env, _api = make_env(registry)

    def kubelet(_t: float) -> None:  # the node's kubelet finishes graceful deletions
        for p in registry.list("pods", "default")["items"]:
            if p["metadata"].get("deletionTimestamp"):
                registry.delete("pods", p["metadata"]["name"], "default", grace_period_seconds=0)

    env.clock.on_sleep.append(kubelet)  # type: ignore[attr-defined]
    result = await run(env, "drain", "node-1", Journal(tmp_path / "j"))
    assert result.done == ["node/node-1 cordoned", "pod/web-0 evicted", "node/node-1 drained"]
    assert registry.list("pods", "default", field_selector="spec.nodeName=node-1")["items"] == []


async def test_kill_nfs_scales_to_zero_lists_nfs_clients_and_restores(tmp_path: Path) -> None:
    registry = Registry(Clock(manual=True))
    load(
        registry,
        namespace("nfs"),
        node("node-1"),
        deployment("nfs-server", "nfs", labels={"app": "nfs-server"}),
        pv("pv-nfs", claim=("default", "shared"), nfs_server="nfs-server.nfs.svc.cluster.local"),
        pvc("shared", volume="pv-nfs"),
        pod("app-1", node_name="node-1", claims=("shared",)),
        pod("other-1", node_name="node-1"),
    )
    env, _api = make_env(registry)
    journal = Journal(tmp_path / "j")
    result = await run(env, "kill-nfs", "", journal)
    assert result.plan.preview.reversible
    assert [str(r) for r in result.plan.preview.affects["pods"]] == ["Pod default/app-1"]
    assert registry.get("deployments", "nfs-server", "nfs")["spec"]["replicas"] == 0
    [entry] = journal.pending()
    await restore_entry(env, journal, entry)
    assert registry.get("deployments", "nfs-server", "nfs")["spec"]["replicas"] == 1


async def test_stop_provisioner_lists_pending_claims_of_its_provisioner(tmp_path: Path) -> None:
    registry = Registry(Clock(manual=True))
    name = "k8s-sigs.io/nfs-subdir-external-provisioner"
    claim = pvc("wants-nfs")
    claim["metadata"]["annotations"] = {"volume.kubernetes.io/storage-provisioner": name}
    load(
        registry,
        namespace("nfs"),
        deployment(
            "nfs-subdir-external-provisioner", "nfs", labels={"app": "prov"}, env={"PROVISIONER_NAME": name}
        ),
        claim,
    )
    env, _api = make_env(registry)
    plan = await plan_action(env, make_action("stop-provisioner"))
    assert [str(r) for r in plan.preview.affects["claims"]] == ["PersistentVolumeClaim default/wants-nfs"]
    assert plan.restore[0]["replicas"] == 1


async def test_taint_noexecute_lists_pods_that_do_not_tolerate_it_and_restore_removes_it(
    registry: Registry, tmp_path: Path
) -> None:
    env, _api = make_env(registry)
    journal = Journal(tmp_path / "j")
    result = await run(env, "taint", "node-1", journal)
    assert [str(r) for r in result.plan.preview.affects["pods"]] == ["Pod default/web-0"]
    assert registry.get("nodes", "node-1")["spec"]["taints"] == [
        {"key": "kstor.io/chaos", "effect": "NoExecute"}
    ]
    [entry] = journal.pending()
    await restore_entry(env, journal, entry)
    assert not registry.get("nodes", "node-1")["spec"].get("taints")


async def test_sim_loop_actions_need_the_embedded_cluster_and_restore_restarts(tmp_path: Path) -> None:
    env, _api = make_env()
    with pytest.raises(ActionError, match="only on the embedded cluster"):
        await plan_action(env, make_action("stop-loop", "csi-attacher"))
    env, _api = make_env(loops=["csi-attacher", "kubelet/node-1"])
    journal = Journal(tmp_path / "j")
    await run(env, "stop-loop", "csi-attacher", journal)
    assert env.sim.running["csi-attacher"] is False  # type: ignore[union-attr]
    [entry] = journal.pending()
    assert await restore_entry(env, journal, entry) == ["control loop csi-attacher started"]
    with pytest.raises(ActionError, match="no control loop named 'nope'"):
        await plan_action(env, make_action("stop-loop", "nope"))


async def test_dry_run_touches_nothing_and_writes_no_journal(registry: Registry, tmp_path: Path) -> None:
    env, api = make_env(registry)
    before = {p: registry.list(p)["items"] for p in ("nodes", "pods", "persistentvolumes")}
    journal = Journal(tmp_path / "journal.jsonl")
    action = make_action("drain", "node-1")
    result = await run_action(
        env, action, context="kstor-sim", kubeconfig=None, journal=journal, dry_run=True
    )
    assert result.dry_run and result.plan.preview.touches
    assert api.writes == []
    assert not journal.path.exists()
    assert {p: registry.list(p)["items"] for p in before} == before


async def test_allowed_namespaces_refuse_before_the_journal_is_written(
    registry: Registry, tmp_path: Path
) -> None:
    env, api = make_env(registry)
    journal = Journal(tmp_path / "journal.jsonl")
    config = ChaosConfig(allowed_namespaces=("sandbox",))
    with pytest.raises(GuardrailError, match="namespace"):
        await run_action(
            env,
            make_action("delete-pod", "default/web-0"),
            context="kind-x",
            kubeconfig=None,
            journal=journal,
            config=config,
        )
    assert api.writes == [] and not journal.path.exists()


async def test_kill_nfs_finds_a_fixed_ip_server_through_the_provisioners_nfs_server_env() -> None:
    registry = Registry(Clock(manual=True))
    load(
        registry,
        namespace("nfs"),
        node("node-1"),
        deployment("nfs-server", "nfs", labels={"app": "nfs-server"}),
        deployment(
            "nfs-subdir-external-provisioner", "nfs", labels={"app": "p"}, env={"NFS_SERVER": "10.96.0.200"}
        ),
        pv("pv-here", claim=("default", "here"), nfs_server="10.96.0.200"),
        pvc("here", volume="pv-here"),
        pv("pv-elsewhere", claim=("default", "elsewhere"), nfs_server="10.1.2.3"),
        pvc("elsewhere", volume="pv-elsewhere"),
        pod("app-1", node_name="node-1", claims=("here",)),
        pod("app-2", node_name="node-1", claims=("elsewhere",)),
    )
    env, _api = make_env(registry)
    plan = await plan_action(env, make_action("kill-nfs"))
    assert [str(r) for r in plan.preview.affects["pods"]] == ["Pod default/app-1"]
    assert not any("every pod with an NFS volume" in n for n in plan.preview.notes)


async def test_drain_pod_selector_and_disable_eviction(registry: Registry, tmp_path: Path) -> None:
    load(registry, pod("other-0", node_name="node-1", labels={"app": "other"}))
    env, api = make_env(registry)
    plan = await plan_action(env, make_action("drain", "node-1", {"pod-selector": "app=other"}))
    assert [str(t.ref) for t in plan.preview.touches] == ["Node node-1", "Pod default/other-0"]
    action = make_action(
        "drain", "node-1", {"pod-selector": "app=other", "disable-eviction": True, "timeout": 3}
    )
    with pytest.raises(ActionError, match="global timeout"):  # no kubelet here to finish the deletion
        await run_action(env, action, context="kstor-sim", kubeconfig=None, journal=Journal(tmp_path / "j"))
    assert ("delete", "pods", "other-0") in api.writes and not any(w[0] == "evict" for w in api.writes)
