"""Embedded-cluster-only chaos: stop or start any control loop, or a node's kubelet."""

from __future__ import annotations

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch, require, require_sim
from chaos.errors import ActionError
from chaos.state import read_state


async def _loop_state(env: ActionEnv, action: str, name: str) -> bool:
    loops = await require_sim(env, action).loops()
    if name not in loops:
        raise ActionError(
            f"no control loop named {name!r} on the embedded cluster; known: {', '.join(sorted(loops))}"
        )
    return bool(loops[name])


class StopLoop(Action):
    name = "stop-loop"
    summary = "stop a control loop of the embedded cluster (e.g. csi-attacher, kubelet/node-2)"
    sim_only = True
    target_help = "LOOP"

    async def plan(self, env: ActionEnv) -> Plan:
        running = await _loop_state(env, self.name, self.target)
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[Touch(Ref("ControlLoop", "", self.target), "stop" if running else "already stopped")],
            affects=impact.empty(),
            reversible=True,
            restore="start it again" if running else "nothing (it was stopped)",
            notes=["whatever the loop reconciles stops changing until it is started again"],
        )
        restore = [{"op": "start-loop", "name": self.target}] if running else []
        return Plan(preview, previous={"running": running}, restore=restore)

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        await require_sim(env, self.name).stop_loop(self.target)
        return [f"control loop {self.target} stopped"]


class StartLoop(Action):
    name = "start-loop"
    summary = "start a stopped control loop of the embedded cluster"
    sim_only = True
    target_help = "LOOP"

    async def plan(self, env: ActionEnv) -> Plan:
        running = await _loop_state(env, self.name, self.target)
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[Touch(Ref("ControlLoop", "", self.target), "already running" if running else "start")],
            affects=impact.empty(),
            reversible=True,
            restore="nothing (it was running)" if running else "a repair: `kstor chaos stop-loop` undoes it",
        )
        # A repair is not journalled for undo: `kstor chaos restore` must never stop it again.
        return Plan(preview, previous={"running": running}, restore=[])

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        await require_sim(env, self.name).start_loop(self.target)
        return [f"control loop {self.target} started"]


class NodeNotReady(Action):
    name = "node-notready"
    summary = "make a node NotReady on the embedded cluster (stop its kubelet)"
    sim_only = True

    async def plan(self, env: ActionEnv) -> Plan:
        await require(env, "nodes", self.target)
        loop = f"kubelet/{self.target}"
        running = await _loop_state(env, self.name, loop)
        state = await read_state(env.api)
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[Touch(Ref("ControlLoop", "", loop), "stop" if running else "already stopped")],
            affects=impact.of_pods(state, state.pods_on_node(self.target), node=self.target),
            reversible=True,
            restore=f"start {loop} again" if running else "nothing (the kubelet was stopped)",
            notes=[
                "heartbeats stop: the node turns NotReady after the grace period, its pods are evicted "
                "after their not-ready toleration, and its volumes stay attached until force-detach"
            ],
        )
        restore = [{"op": "start-loop", "name": loop}] if running else []
        return Plan(preview, previous={"running": running}, restore=restore, data={"loop": loop})

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        await require_sim(env, self.name).stop_loop(plan.data["loop"])
        return [f"kubelet on {self.target} stopped"]
