"""Small facts about pods, nodes and volumes that several of the node-side loops need."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_MOUNTS = "kstor.io/mounts"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
# DefaultTolerationSeconds admission gives every pod these two NoExecute tolerations.
DEFAULT_TOLERATION_SECONDS = 300


def sim_timeout(clock: Any, sim_seconds: float, *, real_floor: float) -> float:
    """A Kubernetes timeout in sim seconds, never shorter than `real_floor` real seconds.

    At a high clock speed on a busy machine, a 10-minute timeout is well under a real second: the
    loops that should meet it may simply not have run yet. The floor keeps those timeouts honest
    (it only matters at speeds where nobody watches the exact timing).
    """
    return max(sim_seconds, real_floor * float(getattr(clock, "speed", 1.0)))


def name_of(obj: Obj) -> str:
    return obj.get("metadata", {}).get("name", "")


def ns_of(obj: Obj) -> str:
    return obj.get("metadata", {}).get("namespace") or ""


def uid_of(obj: Obj) -> str:
    return obj.get("metadata", {}).get("uid", "")


def deleting(obj: Obj) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def node_of(pod: Obj) -> str:
    return pod.get("spec", {}).get("nodeName") or ""


def pod_claims(pod: Obj) -> list[str]:
    """Names of the PVCs a pod's volumes use, in volume order."""
    out = []
    for vol in pod.get("spec", {}).get("volumes") or []:
        pvc = vol.get("persistentVolumeClaim")
        if pvc and pvc.get("claimName"):
            out.append(pvc["claimName"])
    return out


def pod_terminated(pod: Obj) -> bool:
    """As the attach/detach controller judges it: finished, or deleting with no running container."""
    phase = pod.get("status", {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return True
    if not deleting(pod):
        return False
    for cs in pod.get("status", {}).get("containerStatuses") or []:
        if "running" in (cs.get("state") or {}):
            return False
    return True


def claim_class(pvc: Obj) -> str:
    ann = pvc.get("metadata", {}).get("annotations") or {}
    if ANN_BETA_CLASS in ann:
        return ann[ANN_BETA_CLASS] or ""
    return pvc.get("spec", {}).get("storageClassName") or ""


def pv_class(pv: Obj) -> str:
    ann = pv.get("metadata", {}).get("annotations") or {}
    if ANN_BETA_CLASS in ann:
        return ann[ANN_BETA_CLASS] or ""
    return pv.get("spec", {}).get("storageClassName") or ""


def condition(obj: Obj, ctype: str) -> Obj | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def node_ready(node: Obj) -> bool:
    cond = condition(node, "Ready")
    return bool(cond and cond.get("status") == "True")


def pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    """v1 ToleratesTaint: empty key with Exists matches all; empty effect matches every effect."""
    for tol in tolerations:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        key = tol.get("key", "")
        op = tol.get("operator") or "Equal"
        if key and key != taint.get("key"):
            continue
        if not key and op != "Exists":
            continue
        if op == "Exists" or (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def pod_tolerations(pod: Obj) -> list[Obj]:
    """The pod's tolerations plus the two that DefaultTolerationSeconds admission would have added."""
    tols = list(pod.get("spec", {}).get("tolerations") or [])
    for key in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        if not any(t.get("key") == key and t.get("effect") in ("NoExecute", None, "") for t in tols):
            tols.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    return tols


def match_expression(labels: dict[str, str], expr: Obj) -> bool:
    key, op = expr.get("key", ""), expr.get("operator", "")
    values = expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and values:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def match_node_selector_terms(terms: list[Obj], node: Obj) -> bool:
    """NodeSelectorTerms are ORed; the expressions of one term are ANDed (fields: metadata.name only)."""
    labels = node.get("metadata", {}).get("labels") or {}
    fields = {"metadata.name": name_of(node)}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue
        if all(match_expression(labels, e) for e in exprs) and all(
            match_expression(fields, e) for e in field_exprs
        ):
            return True
    return False


def match_label_selector(selector: Obj | None, labels: dict[str, str]) -> bool:
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(match_expression(labels, e) for e in selector.get("matchExpressions") or [])


def parse_quantity(value: Any) -> float:
    """Enough of resource.Quantity for storage sizes (Ki, Mi, Gi, Ti, k, M, G, T, plain)."""
    if value is None:
        return 0.0
    text = str(value).strip()
    suffixes = {
        "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6,
        "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "m": 1e-3,
    }  # fmt: skip
    for suffix in sorted(suffixes, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * suffixes[suffix]
            except ValueError:
                return 0.0
    try:
        return float(text)
    except ValueError:
        return 0.0


def owner_uid(obj: Obj) -> str:
    """The uid of the controlling owner (ownerReferences with controller: true), or ""."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid", "")
    return ""


def owner_ref(owner: Obj, *, kind: str, api_version: str) -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }
