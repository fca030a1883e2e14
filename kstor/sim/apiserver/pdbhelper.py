"""PodDisruptionBudget status helpers shared by the disruption controller and the eviction subresource.

Mirrors k8s.io/component-helpers/apps/poddisruptionbudget and apimeta.SetStatusCondition.
"""

from __future__ import annotations

from typing import Any

DISRUPTION_ALLOWED = "DisruptionAllowed"
SUFFICIENT_PODS = "SufficientPods"
INSUFFICIENT_PODS = "InsufficientPods"
SYNC_FAILED = "SyncFailed"


def set_condition(conditions: list[dict[str, Any]], cond: dict[str, Any], now: str) -> list[dict[str, Any]]:
    """apimeta.SetStatusCondition: a new list with `cond` merged in; lastTransitionTime moves only
    when the status changes."""
    out = [dict(c) for c in conditions]
    for existing in out:
        if existing.get("type") == cond["type"]:
            if existing.get("status") != cond["status"]:
                existing["status"] = cond["status"]
                existing["lastTransitionTime"] = now
            existing["reason"] = cond["reason"]
            existing["message"] = cond.get("message", "")
            if cond.get("observedGeneration"):
                existing["observedGeneration"] = cond["observedGeneration"]
            else:
                existing.pop("observedGeneration", None)
            return out
    new = {"type": cond["type"], "status": cond["status"]}
    if cond.get("observedGeneration"):
        new["observedGeneration"] = cond["observedGeneration"]
    new.update({"lastTransitionTime": now, "reason": cond["reason"], "message": cond.get("message", "")})
    out.append(new)
    return out


def update_disruption_allowed_condition(status: dict[str, Any], now: str) -> None:
    """pdbhelper.UpdateDisruptionAllowedCondition, on a status dict in place."""
    allowed = int(status.get("disruptionsAllowed") or 0) > 0
    status["conditions"] = set_condition(
        status.get("conditions") or [],
        {
            "type": DISRUPTION_ALLOWED,
            "status": "True" if allowed else "False",
            "reason": SUFFICIENT_PODS if allowed else INSUFFICIENT_PODS,
            "observedGeneration": status.get("observedGeneration"),
        },
        now,
    )


def conditions_are_up_to_date(status: dict[str, Any]) -> bool:
    """pdbhelper.ConditionsAreUpToDate."""
    cond = next((c for c in status.get("conditions") or [] if c.get("type") == DISRUPTION_ALLOWED), None)
    if cond is None or cond.get("observedGeneration") != status.get("observedGeneration"):
        return False
    if int(status.get("disruptionsAllowed") or 0) > 0:
        return cond.get("status") == "True" and cond.get("reason") == SUFFICIENT_PODS
    return cond.get("status") == "False" and cond.get("reason") == INSUFFICIENT_PODS
