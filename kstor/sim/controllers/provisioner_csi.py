"""external-provisioner (csi-provisioner sidecar) for a topology-aware local-SSD CSI driver.

The driver is `hostpath.csi.k8s.io`, the same name as the kind lab's CSI hostpath driver, so chaos
drills run on both. Volumes live on one node: the PV's `nodeAffinity.required` pins it to the
`topology.hostpath.csi/node` label of the node the scheduler selected (WaitForFirstConsumer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj
from kstor.sim.controllers.provisioner_lib import ExternalProvisioner, ProvisionError, quantity_request

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller

DRIVER = "hostpath.csi.k8s.io"
TOPOLOGY_KEY = "topology.hostpath.csi/node"
NO_TOPOLOGY = "error generating accessibility requirements: no topology key found on CSINode {}"
ANN_DELETION_SECRET_NAME = "volume.kubernetes.io/provisioner-deletion-secret-name"
ANN_DELETION_SECRET_NAMESPACE = "volume.kubernetes.io/provisioner-deletion-secret-namespace"


class CSIProvisioner(ExternalProvisioner):
    name = "csi-provisioner"
    deployment_namespace = "kube-system"
    deployment_name = "csi-hostpathplugin"
    default_provisioner = DRIVER
    add_finalizer = True
    backoff_base = 1.0  # csi-provisioner --retry-interval-start
    backoff_max = 300.0  # --retry-interval-max

    def setup(self) -> None:
        super().setup()
        # csiProvisionerIdentity: "<start ms>-<rand>-<driver>", new for every start of the sidecar
        started_ms = int(self.clock.now().timestamp() * 1000)
        self.identity = f"{started_ms}-{int(self.cluster.ids.random() * 10000)}-{DRIVER}"

    def _topology_value(self, node: Obj | None) -> str:
        if node is not None:
            value = (node.get("metadata", {}).get("labels") or {}).get(TOPOLOGY_KEY)
            if not value:
                message = NO_TOPOLOGY.format(pu.name_of(node))
                raise ProvisionError(message, reschedule=True)
            return value
        # Immediate binding: any node that runs the driver
        values = sorted(
            labels[TOPOLOGY_KEY]
            for n in self.inf("nodes").store.values()
            if TOPOLOGY_KEY in (labels := n.get("metadata", {}).get("labels") or {})
        )
        if not values:
            raise ProvisionError("error generating accessibility requirements: no available topology found")
        return values[0]

    def provision(self, claim: Obj, sc: Obj, node: Obj | None, pv_name: str) -> Obj:
        topology = self._topology_value(node)
        params = dict(sc.get("parameters") or {})
        fs_type = params.pop("csi.storage.k8s.io/fstype", "") or "ext4"
        attributes = {k: str(v) for k, v in params.items() if not k.startswith("csi.storage.k8s.io/")}
        attributes["storage.kubernetes.io/csiProvisionerIdentity"] = self.identity
        spec = claim.get("spec", {})
        pv_spec: Obj = {
            "accessModes": list(spec.get("accessModes") or []),
            "capacity": {"storage": quantity_request(claim)},
            "csi": {"driver": DRIVER, "volumeHandle": self.cluster.ids.uid(), "volumeAttributes": attributes},
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": TOPOLOGY_KEY, "operator": "In", "values": [topology]}]}
                    ]
                }
            },
        }
        if spec.get("volumeMode"):
            pv_spec["volumeMode"] = spec["volumeMode"]
        if spec.get("volumeMode") != "Block":
            pv_spec["csi"]["fsType"] = fs_type
        if sc.get("mountOptions"):
            pv_spec["mountOptions"] = list(sc["mountOptions"])
        annotations = {ANN_DELETION_SECRET_NAME: "", ANN_DELETION_SECRET_NAMESPACE: ""}
        return {"metadata": {"name": pv_name, "annotations": annotations}, "spec": pv_spec}

    def delete(self, pv: Obj) -> None:
        return None  # DeleteVolume on the hostpath driver always succeeds


def build(cluster: SimCluster) -> list[Controller]:
    return [CSIProvisioner(cluster)]
