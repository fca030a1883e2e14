"""The NFS server: a Deployment `nfs-server` in namespace `nfs` (label app=nfs-server).

The exports answer while that Deployment has a Ready pod and this loop (the nfsd) runs; the loop
publishes it as `cluster.world["nfs_up"]`, which the kubelets (mounts) and the NFS provisioner
(mkdir) read. Stopping the loop is an nfsd crash: the exports go down until it is started again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.base import Controller
from kstor.sim.controllers.util import Changes

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster

NAMESPACE = "nfs"
SELECTOR = "app=nfs-server"


class NFSServer(Controller):
    name = "nfs-server"

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    def exports_up(self) -> bool:
        pods = self.cluster.registry.list("pods", NAMESPACE, label_selector=SELECTOR)["items"]
        return any(pu.pod_ready(pod) and not pu.deleting(pod) for pod in pods)

    async def run(self) -> None:
        world = self.cluster.world
        try:
            async with Changes(
                self.cluster.registry, [("pods", {"namespace": NAMESPACE, "label_selector": SELECTOR})]
            ) as changes:
                while True:
                    world["nfs_up"] = self.exports_up()
                    await changes.wait(self.cluster.clock, 30.0)
        finally:
            world["nfs_up"] = False


def build(cluster: SimCluster) -> list[Controller]:
    return [NFSServer(cluster)]
