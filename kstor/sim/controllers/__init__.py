"""The embedded cluster's control loops.

Each module listed in LOOP_MODULES exposes `build(cluster) -> list[Controller]`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

LOOP_MODULES = [
    # storage (PV controller side)
    "pv_controller",
    "protection",
    "provisioner_nfs",
    "provisioner_csi",
    "nfs_server",
    # scheduling, workloads, nodes, attach/detach
    "scheduler",
    "workloads",
    "garbage_collector",
    "attach_detach",
    "external_attacher",
    "kubelet",
    "node_lifecycle",
    "disruption",
]


def build_controllers(cluster: SimCluster) -> list[Controller]:
    loops: list[Controller] = []
    for module_name in LOOP_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{module_name}":
                continue  # not written yet
            raise
        loops.extend(module.build(cluster))
    return loops
