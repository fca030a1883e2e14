"""Taking storage services down: the NFS server and the dynamic provisioner."""

from __future__ import annotations

import argparse
from typing import Any

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch
from chaos.api import NotFound, Obj, name_of, ns_of
from chaos.errors import ActionError
from chaos.state import ClusterState, labels_match, read_state

WORKLOAD_PLURALS = ("deployments", "statefulsets")
PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)


def workload_labels(obj: Obj) -> dict[str, str]:
    template = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
    return {**((obj.get("metadata") or {}).get("labels") or {}), **template}


def find_workloads(
    state: ClusterState, *, namespace: str, selector: str | None, name: str | None
) -> list[tuple[str, Obj]]:
    found = []
    for plural in WORKLOAD_PLURALS:
        for obj in state.all(plural):
            if ns_of(obj) != namespace:
                continue
            if name is not None and name_of(obj) != name:
                continue
            if name is None and not labels_match(workload_labels(obj), selector):
                continue
            found.append((plural, obj))
    return found


def replicas_of(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


async def scale_to(env: ActionEnv, plural: str, obj: Obj, replicas: int) -> str:
    await env.api.scale(plural, name_of(obj), ns_of(obj), replicas)
    return f"{plural[:-1]}.apps/{name_of(obj)} scaled to {replicas}"


class _ScaleDown(Action):
    """Shared by both: find the workloads, scale them to 0 (restore: back to what they had)."""

    default_namespace = ""
    default_selector: str | None = None
    target_optional = True
    target_help = "[NAME]"

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {"namespace": cls.default_namespace, "selector": cls.default_selector, "mode": "scale"}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--in", dest="namespace", default=cls.default_namespace, help="namespace (default %(default)s)"
        )
        parser.add_argument(
            "--selector", "-l", default=cls.default_selector, help="label selector (default %(default)s)"
        )

    def workloads(self, state: ClusterState) -> list[tuple[str, Obj]]:
        name = self.target or None
        found = find_workloads(
            state, namespace=self.opts["namespace"], selector=self.opts["selector"], name=name
        )
        if not found:
            what = f'"{name}"' if name else f"matching {self.opts['selector']!r}"
            raise ActionError(
                f"{self.name}: no Deployment or StatefulSet {what} in namespace {self.opts['namespace']!r}"
            )
        return found

    def server_pods(self, state: ClusterState, workloads: list[tuple[str, Obj]]) -> list[Obj]:
        pods = []
        for _plural, obj in workloads:
            selector = ",".join(
                f"{k}={v}"
                for k, v in sorted(
                    (((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}).items()
                )
            )
            pods += [
                p
                for p in state.all("pods")
                if ns_of(p) == ns_of(obj)
                and selector
                and labels_match((p.get("metadata") or {}).get("labels"), selector)
            ]
        return pods

    def scale_plan(
        self, workloads: list[tuple[str, Obj]]
    ) -> tuple[list[Touch], dict[str, Any], list[dict[str, Any]]]:
        touches, previous, restore = [], {}, []
        for plural, obj in workloads:
            replicas = replicas_of(obj)
            touches.append(Touch(Ref.of(plural, obj), f"scale {replicas} -> 0"))
            previous[f"{plural}/{ns_of(obj)}/{name_of(obj)}"] = {"replicas": replicas}
            if replicas > 0:
                restore.append(
                    {
                        "op": "scale",
                        "plural": plural,
                        "namespace": ns_of(obj),
                        "name": name_of(obj),
                        "replicas": replicas,
                    }
                )
        return touches, previous, restore

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        done = []
        if plan.data.get("mode") == "delete-pods":
            for pod in plan.data["pods"]:
                try:
                    await env.api.delete("pods", pod["name"], pod["namespace"])
                    done.append(f'pod "{pod["name"]}" deleted')
                except NotFound:
                    done.append(f'pod "{pod["name"]}" was already gone')
            return done
        for item in plan.data["workloads"]:
            await env.api.scale(item["plural"], item["name"], item["namespace"], 0)
            done.append(f"{item['plural'][:-1]}.apps/{item['name']} scaled to 0")
        return done


class KillNFS(_ScaleDown):
    name = "kill-nfs"
    summary = "take the NFS server down (scale its workload to 0, or delete its pods)"
    default_namespace = "nfs"
    default_selector = "app=nfs-server"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--mode",
            choices=["scale", "delete-pods"],
            default="scale",
            help="scale to 0 (an outage until restore) or delete the pods (a restart)",
        )

    async def plan(self, env: ActionEnv) -> Plan:
        state = await read_state(env.api)
        workloads = self.workloads(state)
        servers = self.server_pods(state, workloads)
        identities = {name_of(o) for _, o in workloads} | {f"{name_of(o)}.{ns_of(o)}" for _, o in workloads}
        identities |= exported_addresses(state, {ns_of(o) for _, o in workloads})
        identities |= {
            str((p.get("status") or {}).get("podIP")) for p in servers if (p.get("status") or {}).get("podIP")
        }
        clients = [p for p in state.all("pods") if p not in servers and impact.uses_nfs(state, p, identities)]
        notes = []
        if not clients:
            clients = [p for p in state.all("pods") if p not in servers and impact.uses_nfs(state, p, None)]
            if clients:
                notes.append("no NFS export names this server; every pod with an NFS volume is listed")
        affects = impact.of_pods(state, clients)
        mode = self.opts["mode"]
        if mode == "delete-pods":
            touches = [Touch(Ref.of("pods", p), "delete") for p in servers]
            restore: list[dict[str, Any]] = []
            previous: dict[str, Any] = {"pods": [name_of(p) for p in servers]}
            reversible, how = False, "nothing to undo: the workload re-creates its pods"
        else:
            touches, previous, restore = self.scale_plan(workloads)
            reversible, how = True, "scale back to the previous replicas"
        notes.append("mounts of these pods fail (mount.nfs timeouts) until the server is back")
        preview = Preview(
            self.name, self.target or self.opts["selector"] or "", touches, affects, reversible, how, notes
        )
        data = {
            "mode": mode,
            "pods": [{"name": name_of(p), "namespace": ns_of(p)} for p in servers],
            "workloads": [{"plural": pl, "name": name_of(o), "namespace": ns_of(o)} for pl, o in workloads],
        }
        return Plan(preview, previous=previous, restore=restore, data=data)


class StopProvisioner(_ScaleDown):
    name = "stop-provisioner"
    summary = "stop the dynamic provisioner (scale it to 0): new claims stay Pending"
    default_namespace = "nfs"

    def __init__(self, target: str, **options: Any) -> None:
        super().__init__(target or "nfs-subdir-external-provisioner", **options)

    async def plan(self, env: ActionEnv) -> Plan:
        state = await read_state(env.api)
        workloads = self.workloads(state)
        names = {provisioner_name(o) for _, o in workloads} - {None}
        pending = [
            c
            for c in state.all("persistentvolumeclaims")
            if (c.get("status") or {}).get("phase", "Pending") == "Pending"
            and any(
                ((c.get("metadata") or {}).get("annotations") or {}).get(a) in names
                for a in PROVISIONER_ANNOTATIONS
            )
        ]
        affects = impact.empty()
        affects["claims"] = [Ref.of("persistentvolumeclaims", c) for c in pending]
        touches, previous, restore = self.scale_plan(workloads)
        who = ", ".join(sorted(n for n in names if n)) or "its provisioner"
        notes = [f"claims for {who} created while it is down stay Pending (ExternalProvisioning events)"]
        preview = Preview(
            self.name, self.target, touches, affects, True, "scale back to the previous replicas", notes
        )
        data = {
            "workloads": [{"plural": pl, "name": name_of(o), "namespace": ns_of(o)} for pl, o in workloads]
        }
        return Plan(preview, previous=previous, restore=restore, data=data)


def exported_addresses(state: ClusterState, namespaces: set[str]) -> set[str]:
    """Addresses the server is known by: nfs-subdir-external-provisioner's NFS_SERVER in its namespace
    (a Service-less or fixed-IP server is named nowhere else)."""
    found = set()
    for _plural, obj in find_workloads_in(state, namespaces):
        for value in container_env(obj, "NFS_SERVER"):
            found.add(value)
    return found


def find_workloads_in(state: ClusterState, namespaces: set[str]) -> list[tuple[str, Obj]]:
    return [(p, o) for p in WORKLOAD_PLURALS for o in state.all(p) if ns_of(o) in namespaces]


def container_env(obj: Obj, name: str) -> list[str]:
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [
        str(env["value"])
        for container in spec.get("containers") or []
        for env in container.get("env") or []
        if env.get("name") == name and env.get("value")
    ]


def provisioner_name(obj: Obj) -> str | None:
    """nfs-subdir-external-provisioner names itself from the PROVISIONER_NAME env variable."""
    names = container_env(obj, "PROVISIONER_NAME")
    return names[0] if names else None
