"""Deleting storage objects: PV, PVC, VolumeAttachment. None of them can be undone."""

from __future__ import annotations

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch, require, split_namespaced
from chaos.api import NotFound
from chaos.state import ClusterState, read_state

PV_PROTECTION = "kubernetes.io/pv-protection"
PVC_PROTECTION = "kubernetes.io/pvc-protection"


class DeletePV(Action):
    name = "delete-pv"
    summary = "delete a PersistentVolume (held by pv-protection while bound)"

    async def plan(self, env: ActionEnv) -> Plan:
        pv = await require(env, "persistentvolumes", self.target)
        state = await read_state(env.api)
        phase = (pv.get("status") or {}).get("phase", "")
        notes = []
        if phase == "Bound" and PV_PROTECTION in (pv["metadata"].get("finalizers") or []):
            notes.append(
                f"the volume is Bound: {PV_PROTECTION} keeps it Terminating until its claim is deleted"
            )
        if pv["metadata"].get("deletionTimestamp"):
            notes.append("already being deleted")
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[Touch(Ref.of("persistentvolumes", pv), f"delete (phase {phase or '?'})")],
            affects=impact.of_volume(state, pv),
            reversible=False,
            restore="a deleted PersistentVolume cannot be brought back",
            notes=notes,
        )
        return Plan(preview, previous={"phase": phase}, restore=[])

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        await _delete(env, "persistentvolumes", self.target)
        return [f'persistentvolume "{self.target}" deleted']


class DeletePVC(Action):
    name = "delete-pvc"
    summary = "delete a PersistentVolumeClaim (held by pvc-protection while a pod uses it)"
    target_help = "NAMESPACE/NAME"

    async def plan(self, env: ActionEnv) -> Plan:
        namespace, name = split_namespaced(self.target)
        pvc = await require(env, "persistentvolumeclaims", name, namespace)
        state = await read_state(env.api)
        pods = state.pods_using_claim(namespace, name)
        found = impact.of_pods(state, pods)
        found["claims"] = []
        pv = state.pv_of_claim(namespace, name)
        notes = []
        if pv is not None:
            found["volumes"] = [Ref.of("persistentvolumes", pv)]
            policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy", "Retain")
            notes.append(f"its volume {pv['metadata']['name']} has reclaim policy {policy}")
        scheduled = [p for p in pods if (p.get("spec") or {}).get("nodeName")]
        if scheduled and PVC_PROTECTION in (pvc["metadata"].get("finalizers") or []):
            notes.append(
                f"{PVC_PROTECTION} keeps it Terminating while {len(scheduled)} scheduled pod(s) use it"
            )
        preview = Preview(
            action=self.name,
            target=f"{namespace}/{name}",
            touches=[Touch(Ref.of("persistentvolumeclaims", pvc), "delete")],
            affects=found,
            reversible=False,
            restore="a deleted claim cannot be brought back (its data goes with the reclaim policy)",
            notes=notes,
        )
        return Plan(preview, previous={"phase": (pvc.get("status") or {}).get("phase")}, restore=[])

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        namespace, name = split_namespaced(self.target)
        await _delete(env, "persistentvolumeclaims", name, namespace)
        return [f'persistentvolumeclaim "{namespace}/{name}" deleted']


class DeleteVolumeAttachment(Action):
    name = "delete-va"
    summary = "delete a VolumeAttachment (the attach/detach controller re-creates it if still needed)"

    async def plan(self, env: ActionEnv) -> Plan:
        va = await require(env, "volumeattachments", self.target)
        state = await read_state(env.api)
        spec = va.get("spec") or {}
        node = spec.get("nodeName", "")
        pv_name = (spec.get("source") or {}).get("persistentVolumeName", "")
        pv = state.find("persistentvolumes", pv_name)
        found = impact.empty() if pv is None else impact.of_volume(state, pv)
        found["pods"] = [r for r in found["pods"] if _on_node(state, r, node)]
        found["attachments"] = []
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=[Touch(Ref.of("volumeattachments", va), f"delete (volume {pv_name} on node {node})")],
            affects=found,
            reversible=False,
            restore="nothing to undo: the attach/detach controller re-creates it while a pod there needs it",
        )
        return Plan(preview, previous={"attached": (va.get("status") or {}).get("attached")}, restore=[])

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        await _delete(env, "volumeattachments", self.target)
        return [f'volumeattachment "{self.target}" deleted']


def _on_node(state: ClusterState, ref: Ref, node: str) -> bool:
    pod = state.find("pods", ref.name, ref.namespace)
    return pod is not None and (pod.get("spec") or {}).get("nodeName") == node


async def _delete(env: ActionEnv, plural: str, name: str, namespace: str | None = None) -> None:
    try:
        await env.api.delete(plural, name, namespace)
    except NotFound:
        env.say(f"{plural}/{name} was already gone")
