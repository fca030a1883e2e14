"""Delete one pod (its controller, if any, re-creates it)."""

from __future__ import annotations

import argparse
from typing import Any

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch, require, split_namespaced
from chaos.api import NotFound
from chaos.state import owner_kind, read_state


class DeletePod(Action):
    name = "delete-pod"
    summary = "delete a pod (its ReplicaSet/StatefulSet re-creates it)"
    target_help = "NAMESPACE/NAME"

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {"grace_period": -1}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--grace-period", type=int, default=-1, help="seconds (-1: the pod's own)")

    async def plan(self, env: ActionEnv) -> Plan:
        namespace, name = split_namespaced(self.target)
        pod = await require(env, "pods", name, namespace)
        state = await read_state(env.api)
        node = (pod.get("spec") or {}).get("nodeName")
        owner = owner_kind(pod)
        preview = Preview(
            action=self.name,
            target=f"{namespace}/{name}",
            touches=[Touch(Ref.of("pods", pod), f"delete (on node {node or '-'})")],
            affects=impact.of_pods(state, [pod], node=node),
            reversible=False,
            restore=f"nothing to undo: its {owner} re-creates it"
            if owner
            else "an unmanaged pod is gone for good",
        )
        return Plan(preview, previous={"node": node, "uid": pod["metadata"].get("uid")}, restore=[])

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        namespace, name = split_namespaced(self.target)
        grace = self.opts["grace_period"] if self.opts["grace_period"] >= 0 else None
        try:
            await env.api.delete("pods", name, namespace, grace_period_seconds=grace)
        except NotFound:
            return [f"pod/{name} was already gone"]
        return [f'pod "{name}" deleted']
