"""Drain a node as `kubectl drain` does: cordon, then evict (PDB-aware, retry every 5 s) or delete
each pod, then wait until they are gone. Same filters and flags as kubectl; the refusals carry
kubectl's own wording.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch, require
from chaos.actions.nodes import is_cordoned, set_unschedulable
from chaos.api import NotFound, Obj, name_of, ns_of
from chaos.errors import ActionError
from chaos.state import ClusterState, labels_match, owner_kind, read_state

PDB_RETRY_SECONDS = 5.0
DAEMONSET_FATAL = "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
LOCAL_STORAGE_FATAL = "cannot delete Pods with local storage (use --delete-emptydir-data to override)"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def _finished(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in {"Succeeded", "Failed"}


def _has_empty_dir(pod: Obj) -> bool:
    return any("emptyDir" in v for v in (pod.get("spec") or {}).get("volumes") or [])


class Drain(Action):
    name = "drain"
    summary = "cordon a node and evict its pods (honours PodDisruptionBudgets), like kubectl drain"

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {
            "ignore_daemonsets": False,
            "delete_emptydir_data": False,
            "force": False,
            "grace_period": -1,
            "timeout": 0.0,
            "pod_selector": None,
            "disable_eviction": False,
        }

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--ignore-daemonsets", action="store_true", help="ignore DaemonSet-managed pods")
        parser.add_argument("--delete-emptydir-data", action="store_true", help="delete pods using emptyDir")
        parser.add_argument(
            "--force", action="store_true", help="also delete pods that declare no controller"
        )
        parser.add_argument(
            "--grace-period", type=int, default=-1, help="seconds given to each pod (-1: the pod's own)"
        )
        parser.add_argument(
            "--timeout", type=float, default=0.0, help="give up after this many cluster seconds (0: never)"
        )
        parser.add_argument("--pod-selector", default=None, help="only pods matching this label selector")
        parser.add_argument(
            "--disable-eviction", action="store_true", help="delete pods instead of evicting (bypasses PDBs)"
        )

    def select(self, state: ClusterState) -> tuple[list[Obj], list[str]]:
        """The pods to evict and the warnings, or ActionError with kubectl's refusals."""
        pods: list[Obj] = []
        warnings: list[str] = []
        fatal: dict[str, list[str]] = {}
        for pod in state.pods_on_node(self.target):
            if not labels_match((pod.get("metadata") or {}).get("labels"), self.opts["pod_selector"]):
                continue
            if MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {}):
                continue
            who = f"{ns_of(pod)}/{name_of(pod)}"
            owner = owner_kind(pod)
            if owner == "DaemonSet":
                if not self.opts["ignore_daemonsets"]:
                    fatal.setdefault(DAEMONSET_FATAL, []).append(who)
                else:
                    warnings.append(f"ignoring DaemonSet-managed Pods: {who}")
                continue
            if owner is None and not _finished(pod):
                if not self.opts["force"]:
                    fatal.setdefault(UNMANAGED_FATAL, []).append(who)
                    continue
                warnings.append(f"deleting Pods that declare no controller: {who}")
            if _has_empty_dir(pod) and not _finished(pod):
                if not self.opts["delete_emptydir_data"]:
                    fatal.setdefault(LOCAL_STORAGE_FATAL, []).append(who)
                    continue
                warnings.append(f"deleting Pods with local storage: {who}")
            pods.append(pod)
        if fatal:
            errors = ", ".join(f"{msg}: {', '.join(who)}" for msg, who in fatal.items())
            raise ActionError(f'unable to drain node "{self.target}" due to error: [{errors}]')
        return pods, warnings

    async def plan(self, env: ActionEnv) -> Plan:
        node = await require(env, "nodes", self.target)
        state = await read_state(env.api)
        pods, warnings = self.select(state)
        was = is_cordoned(node)
        verb = "delete" if self.opts["disable_eviction"] else "evict"
        touches = [Touch(Ref.of("nodes", node), "already cordoned" if was else "cordon")]
        touches += [Touch(Ref.of("pods", p), verb) for p in pods]
        found = impact.of_pods(state, pods, node=self.target)
        found["attachments"] = _detaching(state, pods, self.target)
        notes = list(warnings)
        if found["attachments"]:
            notes.append("the listed VolumeAttachments detach once their pods are gone from the node")
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=touches,
            affects=found,
            reversible=not was,
            restore="uncordon (evicted pods are re-created by their controllers, not by restore)"
            if not was
            else "nothing (it was already cordoned)",
            notes=notes,
        )
        restore = [] if was else [{"op": "uncordon", "node": self.target}]
        pod_keys = [
            {"namespace": ns_of(p), "name": name_of(p), "uid": p["metadata"].get("uid")} for p in pods
        ]
        return Plan(preview, previous={"unschedulable": was}, restore=restore, data={"pods": pod_keys})

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        done: list[str] = []
        if not plan.previous["unschedulable"]:
            await set_unschedulable(env, self.target, True)
            done.append(f"node/{self.target} cordoned")
        deadline = None
        if self.opts["timeout"]:
            deadline = await env.clock.now() + float(self.opts["timeout"])
        pods = plan.data["pods"]
        results = await asyncio.gather(*(self._remove(env, pod, deadline) for pod in pods))
        done += results
        await asyncio.gather(*(self._wait_gone(env, pod, deadline) for pod in pods))
        done.append(f"node/{self.target} drained")
        return done

    async def _remove(self, env: ActionEnv, pod: dict[str, Any], deadline: float | None) -> str:
        grace = self.opts["grace_period"] if self.opts["grace_period"] >= 0 else None
        name, namespace = pod["name"], pod["namespace"]
        if self.opts["disable_eviction"]:
            try:
                await env.api.delete("pods", name, namespace, grace_period_seconds=grace)
            except NotFound:
                pass
            return f"pod/{name} deleted"
        while True:
            try:
                refusal = await env.api.evict(name, namespace, grace_period_seconds=grace)
            except NotFound:
                return f"pod/{name} already gone"
            if refusal is None:
                return f"pod/{name} evicted"
            env.say(f'error when evicting pods/"{name}" -n "{namespace}" (will retry after 5s): {refusal}')
            await self._check_deadline(env, deadline)
            await env.clock.sleep(PDB_RETRY_SECONDS)
            await self._check_deadline(env, deadline)

    async def _wait_gone(self, env: ActionEnv, pod: dict[str, Any], deadline: float | None) -> None:
        while True:
            current = await env.api.get("pods", pod["name"], pod["namespace"])
            if current is None or current["metadata"].get("uid") != pod["uid"]:
                return
            await self._check_deadline(env, deadline)
            await env.clock.sleep(1.0)

    async def _check_deadline(self, env: ActionEnv, deadline: float | None) -> None:
        if deadline is not None and await env.clock.now() >= deadline:
            raise ActionError(
                f'drain of node "{self.target}" did not finish: '
                f"global timeout reached: {self.opts['timeout']:g}s"
            )


def _detaching(state: ClusterState, pods: list[Obj], node: str) -> list[Ref]:
    """Attachments on the node whose volumes only the evicted pods use."""
    leaving = {(ns_of(p), name_of(p)) for p in pods}
    staying = [p for p in state.pods_on_node(node) if (ns_of(p), name_of(p)) not in leaving]
    kept = {name_of(pv) for p in staying for pv in state.pvs_of_pod(p)}
    freed = {name_of(pv) for p in pods for pv in state.pvs_of_pod(p)} - kept
    return [
        Ref.of("volumeattachments", va)
        for va in state.attachments_on_node(node)
        if ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") in freed
    ]
