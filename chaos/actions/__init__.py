"""Chaos actions, by CLI name."""

from __future__ import annotations

from chaos.actions.base import Action, ActionEnv, Plan, Preview, Ref, Touch
from chaos.actions.create import Create
from chaos.actions.drain import Drain
from chaos.actions.nodes import Cordon, Taint, Uncordon
from chaos.actions.pods import DeletePod
from chaos.actions.sim import NodeNotReady, StartLoop, StopLoop
from chaos.actions.volumes import DeletePV, DeletePVC, DeleteVolumeAttachment
from chaos.actions.workloads import KillNFS, StopProvisioner

ACTIONS: dict[str, type[Action]] = {
    cls.name: cls
    for cls in (
        DeletePV,
        DeletePVC,
        DeletePod,
        DeleteVolumeAttachment,
        Cordon,
        Uncordon,
        Drain,
        Taint,
        KillNFS,
        StopProvisioner,
        StopLoop,
        StartLoop,
        NodeNotReady,
        Create,
    )
}

__all__ = ["ACTIONS", "Action", "ActionEnv", "Plan", "Preview", "Ref", "Touch"]
