"""Drill targets written as references (`{pv-of: ns/claim}`...), resolved from the Store when the
step runs — so drills do not depend on generated names such as `pvc-<uid>`.
"""

from __future__ import annotations

from typing import Any

from chaos.drill.probes import View
from chaos.errors import ActionError
from chaos.state import labels_match


def _claim(view: View, ref: str) -> dict[str, Any]:
    namespace, _, name = ref.partition("/")
    pvc = view.get("PersistentVolumeClaim", namespace, name)
    if pvc is None:
        raise ActionError(f"claim {ref} not found")
    return pvc


def _pv_of(view: View, ref: str) -> str:
    volume = (_claim(view, ref).get("spec") or {}).get("volumeName")
    if not volume:
        raise ActionError(f"claim {ref} is not bound to a volume")
    return str(volume)


def _pod(view: View, spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        namespace, _, name = spec.partition("/")
        pod = view.get("Pod", namespace, name)
        if pod is None:
            raise ActionError(f"pod {spec} not found")
        return pod
    namespace, selector = spec.get("namespace", "default"), spec.get("selector")
    pods = sorted(
        (
            p
            for p in view.objects("Pod")
            if (p.get("metadata") or {}).get("namespace") == namespace
            and not (p.get("metadata") or {}).get("deletionTimestamp")
            and labels_match((p.get("metadata") or {}).get("labels"), selector)
            and (p.get("spec") or {}).get("nodeName")
        ),
        key=lambda p: p["metadata"]["name"],
    )
    if not pods:
        raise ActionError(f"no scheduled pod matches {selector!r} in namespace {namespace}")
    return pods[0]


def resolve_target(target: Any, view: View, earlier: dict[str, str] | None = None) -> str:
    """`earlier`: label -> the target an earlier step resolved to (for `target-of`)."""
    if not isinstance(target, dict):
        return str(target or "")
    key, value = next(iter(target.items()))
    if key == "target-of":
        if not earlier or value not in earlier:
            raise ActionError(f"target-of: step {value!r} has not run")
        return earlier[value]
    if key == "pv-of":
        return _pv_of(view, value)
    if key == "pod-of":
        pod = _pod(view, value)
        return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    if key == "node-of":
        return str(_pod(view, value)["spec"]["nodeName"])
    if key == "va-of":
        pv = _pv_of(view, value)
        for va in view.objects("VolumeAttachment"):
            if ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") == pv:
                return str(va["metadata"]["name"])
        raise ActionError(f"no VolumeAttachment for the volume of claim {value}")
    raise ActionError(f"unknown target reference {key!r}")
