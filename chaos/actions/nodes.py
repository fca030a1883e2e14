"""Node actions: cordon, uncordon, taint NoExecute."""

from __future__ import annotations

import argparse
from typing import Any

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch, require
from chaos.api import Obj
from chaos.state import read_state

CHAOS_TAINT_KEY = "kstor.io/chaos"


def is_cordoned(node: Obj) -> bool:
    return bool((node.get("spec") or {}).get("unschedulable"))


async def set_unschedulable(env: ActionEnv, node: str, value: bool) -> None:
    # kubectl uncordon drops the field (omitempty) rather than writing false
    await env.api.patch("nodes", node, {"spec": {"unschedulable": True if value else None}})


class Cordon(Action):
    name = "cordon"
    summary = "mark a node unschedulable"

    async def plan(self, env: ActionEnv) -> Plan:
        node = await require(env, "nodes", self.target)
        was = is_cordoned(node)
        state = await read_state(env.api, ["pods"])
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[Touch(Ref.of("nodes", node), "already cordoned" if was else "spec.unschedulable: true")],
            affects={"pods": [], "claims": [], "volumes": [], "attachments": []},
            reversible=True,
            restore="nothing (it was already cordoned)" if was else "uncordon",
            notes=[
                f"{len(state.pods_on_node(self.target))} pod(s) keep running there; no new pod is scheduled"
            ],
        )
        restore = [] if was else [{"op": "uncordon", "node": self.target}]
        return Plan(preview, previous={"unschedulable": was}, restore=restore)

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        if plan.previous["unschedulable"]:
            return [f"node/{self.target} already cordoned"]
        await set_unschedulable(env, self.target, True)
        return [f"node/{self.target} cordoned"]


class Uncordon(Action):
    name = "uncordon"
    summary = "mark a node schedulable again"

    async def plan(self, env: ActionEnv) -> Plan:
        node = await require(env, "nodes", self.target)
        was = is_cordoned(node)
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[
                Touch(Ref.of("nodes", node), "spec.unschedulable: false" if was else "already schedulable")
            ],
            affects=impact.empty(),
            reversible=True,
            restore="a repair: `kstor chaos cordon` undoes it" if was else "nothing (it was schedulable)",
            notes=["Pending pods that were waiting for this node can now be scheduled"] if was else [],
        )
        # A repair is not journalled for undo: `kstor chaos restore` must never re-break the node.
        return Plan(preview, previous={"unschedulable": was}, restore=[])

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        if not plan.previous["unschedulable"]:
            return [f"node/{self.target} already uncordoned"]
        await set_unschedulable(env, self.target, False)
        return [f"node/{self.target} uncordoned"]


def tolerates(pod: Obj, taint: dict[str, Any]) -> bool:
    for tol in (pod.get("spec") or {}).get("tolerations") or []:
        if tol.get("effect") and tol["effect"] != taint["effect"]:
            continue
        if not tol.get("key"):
            if tol.get("operator") == "Exists":
                return True
            continue
        if tol["key"] != taint["key"]:
            continue
        if tol.get("operator") == "Exists" or tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def same_taint(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


class Taint(Action):
    name = "taint"
    summary = "add a NoExecute taint to a node (pods that do not tolerate it are evicted)"

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {"key": CHAOS_TAINT_KEY, "value": "", "effect": "NoExecute"}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--key", default=CHAOS_TAINT_KEY, help="taint key (default %(default)s)")
        parser.add_argument("--value", default="", help="taint value")
        parser.add_argument(
            "--effect", default="NoExecute", choices=["NoExecute", "NoSchedule", "PreferNoSchedule"]
        )

    def taint(self) -> dict[str, Any]:
        taint = {"key": self.opts["key"], "effect": self.opts["effect"]}
        if self.opts["value"]:
            taint["value"] = self.opts["value"]
        return taint

    async def plan(self, env: ActionEnv) -> Plan:
        node = await require(env, "nodes", self.target)
        taint = self.taint()
        taints = (node.get("spec") or {}).get("taints") or []
        present = any(same_taint(t, taint) for t in taints)
        state = await read_state(env.api)
        evicted = []
        if taint["effect"] == "NoExecute":
            evicted = [p for p in state.pods_on_node(self.target) if not tolerates(p, taint)]
        label = f"{taint['key']}{'=' + taint['value'] if taint.get('value') else ''}:{taint['effect']}"
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[
                Touch(Ref.of("nodes", node), f"already tainted {label}" if present else f"add taint {label}")
            ],
            affects=impact.of_pods(state, evicted, node=self.target),
            reversible=True,
            restore="nothing (the taint was already there)" if present else f"remove taint {label}",
            notes=["pods that do not tolerate the taint are evicted by the taint manager"] if evicted else [],
        )
        restore = [] if present else [{"op": "remove-taint", "node": self.target, "taint": taint}]
        return Plan(preview, previous={"taints": taints}, restore=restore)

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        taint = self.taint()
        node = await require(env, "nodes", self.target)
        taints = (node.get("spec") or {}).get("taints") or []
        if any(same_taint(t, taint) for t in taints):
            return [f"node/{self.target} already tainted"]
        await env.api.patch("nodes", self.target, {"spec": {"taints": [*taints, taint]}})
        return [f"node/{self.target} tainted"]
