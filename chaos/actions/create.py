"""Create objects (a claim that arrives while the provisioner is down, a workload a drill needs).
Restore deletes them again."""

from __future__ import annotations

import argparse
import json
from typing import Any

from chaos.actions import impact
from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch
from chaos.errors import ActionError
from kstor.errors import KstorError
from kstor.kube.kinds import resolve_kind


class Create(Action):
    name = "create"
    summary = "create objects from manifests (restore deletes them)"
    target_optional = True
    target_help = "[LABEL]"

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {"objects": []}

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--objects", type=json.loads, default=[], help="a JSON list of manifests (drills give YAML)"
        )

    def manifests(self) -> list[tuple[str, str, dict[str, Any]]]:
        objects = self.opts["objects"]
        if not isinstance(objects, list) or not objects:
            raise ActionError("create: options.objects must be a non-empty list of manifests")
        out = []
        for obj in objects:
            if (
                not isinstance(obj, dict)
                or not obj.get("kind")
                or not (obj.get("metadata") or {}).get("name")
            ):
                raise ActionError("create: every object needs kind and metadata.name")
            try:
                kind = resolve_kind(obj["kind"])
            except KstorError as exc:
                raise ActionError(f"create: {exc}") from None
            namespace = (obj["metadata"].get("namespace") or "default") if kind.namespaced else ""
            out.append((kind.plural, namespace, obj))
        return out

    async def plan(self, env: ActionEnv) -> Plan:
        touches, restore, notes = [], [], []
        for plural, namespace, obj in self.manifests():
            name = obj["metadata"]["name"]
            ref = Ref(obj["kind"], namespace, name)
            if await env.api.get(plural, name, namespace or None) is not None:
                notes.append(f"{ref} already exists: left as it is")
                continue
            touches.append(Touch(ref, "create"))
            restore.append({"op": "delete", "plural": plural, "namespace": namespace, "name": name})
        preview = Preview(
            action=self.name,
            target=self.target,
            touches=touches,
            affects=impact.empty(),
            reversible=True,
            restore="delete what was created",
            notes=notes,
        )
        return Plan(preview, previous={}, restore=restore)

    async def execute(self, env: ActionEnv, plan: Plan) -> list[str]:
        wanted = {(s["plural"], s["namespace"], s["name"]) for s in plan.restore}
        done = []
        for plural, namespace, obj in self.manifests():
            if (plural, namespace, obj["metadata"]["name"]) not in wanted:
                continue
            await env.api.create(plural, obj, namespace or None)
            done.append(f"{plural[:-1]}/{obj['metadata']['name']} created")
        return done
