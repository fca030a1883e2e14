"""Drill probes: named checks on the observed cluster state (the Store the dashboard uses).

A probe is written `name` or `{name: arguments}`; `parse_probe` checks the arguments (so a bad
probe is a file:line error before anything runs) and returns a `Probe` whose `check(view)` says
whether it holds and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chaos.state import labels_match

Obj = dict[str, Any]
PHASES_PV = {"Pending", "Available", "Bound", "Released", "Failed", "Terminating", "Absent"}
PHASES_PVC = {"Pending", "Bound", "Lost", "Terminating", "Absent"}


class ProbeFormatError(ValueError):
    """A probe's arguments are wrong; `path` points into the probe for the line number."""

    def __init__(self, message: str, path: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


class View(Protocol):
    """What probes read: kstor.kube's Store (or anything with the same two lookups)."""

    def objects(self, kind: str) -> Iterable[Obj]: ...
    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None: ...


@dataclass
class ProbeContext:
    view: View
    steady: Callable[[], tuple[bool, list[str]]] = lambda: (True, [])
    # Event (uid) -> count when the drill injected: only events after that count for event-seen.
    baseline_events: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    name: str
    args: Any
    text: str
    check: Callable[[ProbeContext], tuple[bool, str]]

    def __str__(self) -> str:
        return self.text


# --- helpers ------------------------------------------------------------------------------------
def _split(ref: Any, path: tuple[Any, ...]) -> tuple[str, str]:
    if not isinstance(ref, str) or ref.count("/") != 1 or not all(ref.split("/")):
        raise ProbeFormatError(f"expected NAMESPACE/NAME, got {ref!r}", path)
    namespace, name = ref.split("/")
    return namespace, name


def _mapping(args: Any, path: tuple[Any, ...], *, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise ProbeFormatError(f"expected a mapping with {', '.join(sorted(required))}", path)
    missing = required - set(args)
    if missing:
        raise ProbeFormatError(f"missing {', '.join(sorted(missing))}", path)
    unknown = set(args) - required - optional
    if unknown:
        raise ProbeFormatError(f"unknown key(s) {', '.join(sorted(unknown))}", (*path, sorted(unknown)[0]))
    return args


def _phase(obj: Obj | None) -> str:
    if obj is None:
        return "Absent"
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return str((obj.get("status") or {}).get("phase") or "Pending")


def _deleting(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _pv_of_claim(view: View, namespace: str, claim: str) -> Obj | None:
    pvc = view.get("PersistentVolumeClaim", namespace, claim)
    name = ((pvc or {}).get("spec") or {}).get("volumeName")
    if name:
        return view.get("PersistentVolume", None, name)
    for pv in view.objects("PersistentVolume"):
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if ref.get("namespace") == namespace and ref.get("name") == claim:
            return pv
    return None


def _matching_pods(view: View, namespace: str, selector: str | None, name: str | None) -> list[Obj]:
    pods = []
    for pod in view.objects("Pod"):
        meta = pod.get("metadata") or {}
        if meta.get("namespace") != namespace or _deleting(pod):
            continue
        if name is not None and meta.get("name") != name:
            continue
        if selector is not None and not labels_match(meta.get("labels"), selector):
            continue
        pods.append(pod)
    return pods


def _pod_ready(pod: Obj) -> tuple[bool, str]:
    name = (pod.get("metadata") or {}).get("name")
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False, f"pod {name} is {status.get('phase') or 'Pending'}"
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready" and cond.get("status") != "True":
            return False, f"pod {name} is not Ready"
    mounts = ((pod.get("metadata") or {}).get("annotations") or {}).get("kstor.io/mounts")
    if mounts:
        try:
            record = json.loads(mounts)
        except ValueError:
            record = {}
        bad = sorted(v for v, m in record.items() if isinstance(m, dict) and m.get("state") != "mounted")
        if bad:
            return False, f"pod {name}: volume(s) {', '.join(bad)} not mounted"
    return True, ""


# --- probes -------------------------------------------------------------------------------------
def _steady(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    if args not in (None, {}, True):
        raise ProbeFormatError("steady takes no arguments", path)

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        ok, problems = ctx.steady()
        return ok, "; ".join(problems[:3])

    return check


def _no_multi_attach(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    if args not in (None, {}, True):
        raise ProbeFormatError("no-multi-attach takes no arguments", path)

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        nodes: dict[str, set[str]] = {}
        for va in ctx.view.objects("VolumeAttachment"):
            spec = va.get("spec") or {}
            pv = (spec.get("source") or {}).get("persistentVolumeName")
            if pv and (va.get("status") or {}).get("attached"):
                nodes.setdefault(pv, set()).add(str(spec.get("nodeName")))
        multi = sorted(pv for pv, on in nodes.items() if len(on) > 1)
        if multi:
            return False, f"volume {multi[0]} attached to {', '.join(sorted(nodes[multi[0]]))}"
        for event in ctx.view.objects("Event"):
            if event.get("reason") == "FailedAttachVolume" and "Multi-Attach error" in str(
                event.get("message")
            ):
                if _is_new(ctx, event):
                    return False, str(event.get("message"))
        return True, ""

    return check


def _is_new(ctx: ProbeContext, event: Obj) -> bool:
    uid = (event.get("metadata") or {}).get("uid") or (event.get("metadata") or {}).get("name", "")
    return int(event.get("count") or 1) > ctx.baseline_events.get(uid, 0)


def _pvc_bound(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    namespace, name = _split(args, path)

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        phase = _phase(ctx.view.get("PersistentVolumeClaim", namespace, name))
        return phase == "Bound", f"pvc {namespace}/{name} is {phase}"

    return check


def _pvc_phase(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required={"claim", "phase"}, optional=set())
    namespace, name = _split(spec["claim"], (*path, "claim"))
    if spec["phase"] not in PHASES_PVC:
        raise ProbeFormatError(f"phase must be one of {', '.join(sorted(PHASES_PVC))}", (*path, "phase"))

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        phase = _phase(ctx.view.get("PersistentVolumeClaim", namespace, name))
        return phase == spec["phase"], f"pvc {namespace}/{name} is {phase}"

    return check


def _pv_phase(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required={"phase"}, optional={"name", "claim"})
    if ("name" in spec) == ("claim" in spec):
        raise ProbeFormatError("give exactly one of name or claim", path)
    if spec["phase"] not in PHASES_PV:
        raise ProbeFormatError(f"phase must be one of {', '.join(sorted(PHASES_PV))}", (*path, "phase"))
    claim = _split(spec["claim"], (*path, "claim")) if "claim" in spec else None

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        pv = _pv_of_claim(ctx.view, *claim) if claim else ctx.view.get("PersistentVolume", None, spec["name"])
        what = spec.get("name") or f"of claim {spec['claim']}"
        phase = _phase(pv)
        return phase == spec["phase"], f"pv {what} is {phase}"

    return check


def _pods_running(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required={"namespace"}, optional={"selector", "name", "count"})
    count = int(spec.get("count", 1))

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        pods = _matching_pods(ctx.view, spec["namespace"], spec.get("selector"), spec.get("name"))
        if len(pods) < count:
            return False, f"{len(pods)} of {count} pod(s) in {spec['namespace']}"
        for pod in pods:
            ok, why = _pod_ready(pod)
            if not ok:
                return False, why
        return True, f"{len(pods)} pod(s) running"

    return check


def _pod_pending(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required={"namespace"}, optional={"selector", "name", "reason"})

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        pods = _matching_pods(ctx.view, spec["namespace"], spec.get("selector"), spec.get("name"))
        if not pods:
            return False, f"no matching pod in {spec['namespace']}"
        for pod in pods:
            status = pod.get("status") or {}
            name = pod["metadata"].get("name")
            if status.get("phase", "Pending") != "Pending":
                return False, f"pod {name} is {status.get('phase')}"
            if "reason" in spec:
                reasons = {
                    c.get("reason") for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"
                }
                if spec["reason"] not in reasons:
                    return False, f"pod {name} is Pending but not {spec['reason']}"
        return True, f"{len(pods)} pod(s) Pending"

    return check


def _attached(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required=set(), optional={"pv", "claim", "node"})
    if ("pv" in spec) == ("claim" in spec):
        raise ProbeFormatError("give exactly one of pv or claim", path)
    claim = _split(spec["claim"], (*path, "claim")) if "claim" in spec else None

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        pv_name = spec.get("pv")
        if claim:
            pv = _pv_of_claim(ctx.view, *claim)
            if pv is None:
                return False, f"claim {spec['claim']} has no volume"
            pv_name = pv["metadata"]["name"]
        for va in ctx.view.objects("VolumeAttachment"):
            vspec = va.get("spec") or {}
            if (vspec.get("source") or {}).get("persistentVolumeName") != pv_name or _deleting(va):
                continue
            if "node" in spec and vspec.get("nodeName") != spec["node"]:
                continue
            if (va.get("status") or {}).get("attached"):
                return True, f"{pv_name} attached to {vspec.get('nodeName')}"
        return False, f"{pv_name} not attached"

    return check


def _node_ready(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required={"name"}, optional={"ready"})
    want = bool(spec.get("ready", True))

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        node = ctx.view.get("Node", None, spec["name"])
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in ((node or {}).get("status") or {}).get("conditions") or []
        )
        return ready == want, f"node {spec['name']} is {'Ready' if ready else 'NotReady'}"

    return check


def _event_seen(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    spec = _mapping(args, path, required={"reason"}, optional={"contains", "kind", "name", "namespace"})

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        for event in ctx.view.objects("Event"):
            involved = event.get("involvedObject") or {}
            if event.get("reason") != spec["reason"] or not _is_new(ctx, event):
                continue
            if "contains" in spec and spec["contains"] not in str(event.get("message")):
                continue
            if any(k in spec and involved.get(k) != spec[k] for k in ("kind", "name", "namespace")):
                continue
            return True, f"{event.get('reason')}: {event.get('message')}"
        return False, f"no new {spec['reason']} event"

    return check


def _not(args: Any, path: tuple[Any, ...]) -> Callable[[ProbeContext], tuple[bool, str]]:
    inner = parse_probe(args, path)

    def check(ctx: ProbeContext) -> tuple[bool, str]:
        ok, why = inner.check(ctx)
        return not ok, why

    return check


PROBES: dict[str, Callable[[Any, tuple[Any, ...]], Callable[[ProbeContext], tuple[bool, str]]]] = {
    "steady": _steady,
    "no-multi-attach": _no_multi_attach,
    "pvc-bound": _pvc_bound,
    "pvc-phase": _pvc_phase,
    "pv-phase": _pv_phase,
    "pods-running": _pods_running,
    "pod-pending": _pod_pending,
    "attached": _attached,
    "node-ready": _node_ready,
    "event-seen": _event_seen,
    "not": _not,
}


def parse_probe(spec: Any, path: tuple[Any, ...] = ()) -> Probe:
    if isinstance(spec, str):
        name, args, args_path = spec, None, path
    elif isinstance(spec, dict) and len(spec) == 1:
        name, args = next(iter(spec.items()))
        args_path = (*path, name)
    else:
        raise ProbeFormatError("a probe is a name or a mapping with exactly one key", path)
    if name not in PROBES:
        raise ProbeFormatError(f"unknown probe {name!r}; known: {', '.join(sorted(PROBES))}", path)
    check = PROBES[name](args, args_path)
    return Probe(name, args, describe(name, args), check)


def describe(name: str, args: Any) -> str:
    if name == "not" and isinstance(args, dict) and len(args) == 1:
        return "not " + describe(*next(iter(args.items())))
    if isinstance(args, str) and args in PROBES:
        return f"{name}({args})" if name != "not" else f"not {args}"
    if args in (None, {}, True):
        return name
    if isinstance(args, dict):
        inner = ", ".join(f"{k}={v}" for k, v in args.items() if not isinstance(v, dict))
        nested = [
            f"{k} {describe(*next(iter(v.items())))}" for k, v in args.items() if isinstance(v, dict) and v
        ]
        return f"{name}({', '.join(filter(None, [inner, *nested]))})"
    return f"{name}({args})"
