"""steady(): is the cluster's storage at rest? The drill runner's steady-state probe.

Steady means: every PVC is Bound (a PVC being deleted, held Terminating by pvc-protection, is not);
every pod that uses a PVC is Running, not terminating, with each of its volumes Mounted; no volume
use is in AttachError or MultiAttach. Pods that ran to completion (Succeeded) are ignored. A
Terminating PV under a running pod is a finding but does not break steadiness.
The per-object lines are computed by the builder as objects change, so
this call costs what the problems cost, not what the cluster costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kstor.model.types import AttachPhase, BindingPhase, ClaimRow, MountPhase, PodRow, SteadyResult

if TYPE_CHECKING:
    from kstor.model.snapshot import Topology

_ATTACH_PROBLEMS = (AttachPhase.ATTACH_ERROR, AttachPhase.MULTI_ATTACH)


def claim_problems(row: ClaimRow) -> tuple[str, ...]:
    binding = row.binding
    if binding.phase is BindingPhase.BOUND:
        return ()
    why = f" ({binding.reason.value})" if binding.reason else ""
    return (f"pvc {row.ref.namespace}/{row.ref.name} is {binding.phase.value}{why}: {binding.message}",)


def pod_problems(row: PodRow) -> tuple[str, ...]:
    if row.phase == "Succeeded" or not any(use.kind == "pvc" for use in row.volumes):
        return ()
    name = f"pod {row.ref.namespace}/{row.ref.name}"
    lines = [] if row.status == "Running" and not row.deleting else [f"{name} is {row.status}"]
    for use in row.volumes:
        if use.attach.phase in _ATTACH_PROBLEMS:
            lines.append(f"{name} volume {use.volume}: {use.attach.phase.value}: {use.attach.message}")
        if use.mount.phase is not MountPhase.MOUNTED:
            lines.append(f"{name} volume {use.volume} is {use.mount.phase.value}: {use.mount.message}")
    return tuple(lines)


def steady(topology: Topology) -> SteadyResult:
    problems = [line for ref in sorted(topology.problems) for line in topology.problems[ref]]
    return SteadyResult(ok=not problems, problems=problems)
