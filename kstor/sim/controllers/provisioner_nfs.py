"""nfs-subdir-external-provisioner: one directory per claim on an NFS export.

Configured like the real Deployment, from its container env (`PROVISIONER_NAME`, `NFS_SERVER`,
`NFS_PATH`). The export's directory listing lives in `cluster.world["nfs_exports"][<path>]` (a set
of names); while `cluster.world["nfs_up"]` is False every file operation fails with EIO, as on a
hard NFS mount whose server went away.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj
from kstor.sim.controllers.provisioner_lib import ExternalProvisioner, ProvisionError, quantity_request

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

DEFAULT_PROVISIONER = "k8s-sigs.io/nfs-subdir-external-provisioner"
MOUNT_PATH = "/persistentvolumes"  # where the provisioner pod mounts the export


class NFSSubdirProvisioner(ExternalProvisioner):
    name = "nfs-provisioner"
    deployment_namespace = "nfs"
    deployment_name = "nfs-subdir-external-provisioner"
    default_provisioner = DEFAULT_PROVISIONER

    def provisioner_name(self) -> str:
        if self.deployment() is None:
            return self.default_provisioner
        return self.container_env().get("PROVISIONER_NAME") or self.default_provisioner

    def _export(self) -> tuple[str, str]:
        env = self.container_env()
        return env.get("NFS_SERVER", "nfs-server.nfs.svc.cluster.local"), env.get("NFS_PATH", "/exports")

    def _dirs(self, export: str) -> set[str]:
        exports = self.world.setdefault("nfs_exports", {})
        return exports.setdefault(export, set())

    def provision(self, claim: Obj, sc: Obj, node: Obj | None, pv_name: str) -> Obj:
        if claim.get("spec", {}).get("selector"):
            raise ProvisionError("claim Selector is not supported")
        server, export = self._export()
        directory = "-".join([pu.ns_of(claim), pu.name_of(claim), pv_name])
        full_path = posixpath.join(MOUNT_PATH, directory)
        if not self.world.get("nfs_up", True):
            raise ProvisionError(
                f"unable to create directory to provision new pv: mkdir {full_path}: input/output error"
            )
        self._dirs(export).add(directory)
        spec: Obj = {
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "accessModes": list(claim.get("spec", {}).get("accessModes") or []),
            "capacity": {"storage": quantity_request(claim)},
            "nfs": {"server": server, "path": posixpath.join(export, directory)},
        }
        if sc.get("mountOptions"):
            spec["mountOptions"] = list(sc["mountOptions"])
        return {"metadata": {"name": pv_name}, "spec": spec}

    def delete(self, pv: Obj) -> None:
        _, export = self._export()
        path = (pv.get("spec", {}).get("nfs") or {}).get("path", "")
        directory = posixpath.basename(path)
        old_path = posixpath.join(MOUNT_PATH, directory)
        dirs = self._dirs(export)
        if not self.world.get("nfs_up", True):
            raise ProvisionError(f"stat {old_path}: input/output error")
        if directory not in dirs:
            return  # "path ... does not exist, deletion skipped"
        sc = self.inf("storageclasses").get(pu.pv_class(pv))
        if sc is None:
            raise ProvisionError(f'storageclass.storage.k8s.io "{pu.pv_class(pv)}" not found')
        params = sc.get("parameters") or {}
        on_delete = params.get("onDelete", "")
        if on_delete == "retain":
            return
        dirs.discard(directory)
        archive = str(params.get("archiveOnDelete", "")).lower()
        if on_delete != "delete" and archive not in ("false", "0", "f"):
            dirs.add(f"archived-{directory}")


def build(cluster: SimCluster) -> list[Controller]:
    return [NFSSubdirProvisioner(cluster)]
