"""csi-attacher: the external attacher sidecar of the CSI driver (kubernetes-csi/external-attacher).

It acts only while its loop runs (chaos stops it): attaching = finalizer on the VolumeAttachment
and the PV, then `status.attached: true`; detaching = drop the VolumeAttachment's finalizer so its
deletion completes. The PV finalizer goes when the PV is being deleted and no attachment uses it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import TYPE_CHECKING

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.controllers import podutil as pu
from kstor.sim.controllers.informers import Obj, QueueLoop

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster
    from kstor.sim.controllers.base import Controller


def finalizer_for(driver: str) -> str:
    return "external-attacher/" + re.sub(r"[^a-zA-Z0-9-]", "-", driver)


class ExternalAttacher(QueueLoop):
    name = "csi-attacher"
    plurals = ("persistentvolumes", "volumeattachments")
    resync_seconds = 60.0
    resync_real_floor = 2.0

    def setup(self) -> None:
        self.inf("volumeattachments").add_index(
            "pv", lambda va: [((va.get("spec", {}).get("source") or {}).get("persistentVolumeName") or "")]
        )

    def on_event(self, plural: str, event_type: str, old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None:
            return
        if plural == "volumeattachments":
            if event_type != "DELETED":
                self.queue.add(("va", pu.name_of(obj)))
            pv = (obj.get("spec", {}).get("source") or {}).get("persistentVolumeName")
            if pv:
                self.queue.add(("pv", pv))
        elif event_type != "DELETED" and pu.deleting(obj):
            self.queue.add(("pv", pu.name_of(obj)))

    def resync_keys(self) -> int:
        return len(self.inf("volumeattachments").store)

    def enqueue_all(self) -> None:
        for _, name in self.inf("volumeattachments").store:
            self.queue.add(("va", name))
        for (_, name), pv in self.inf("persistentvolumes").store.items():
            if pu.deleting(pv):
                self.queue.add(("pv", name))

    async def sync(self, key: Hashable) -> float | None:
        assert isinstance(key, tuple)
        kind, name = key
        if kind == "pv":
            self._sync_pv(name)
            return None
        va = self.inf("volumeattachments").get(name)
        if va is None:
            return None
        final = finalizer_for(va.get("spec", {}).get("attacher", ""))
        finalizers = list(va.get("metadata", {}).get("finalizers") or [])
        if pu.deleting(va):
            if final in finalizers:
                finalizers.remove(final)
                self._patch("volumeattachments", name, {"metadata": {"finalizers": finalizers or None}})
            return None
        if (va.get("status") or {}).get("attached"):
            return None
        pv_name = (va.get("spec", {}).get("source") or {}).get("persistentVolumeName", "")
        pv = self.inf("persistentvolumes").get(pv_name)
        if pv is None:
            return 5.0
        if final not in (pv.get("metadata", {}).get("finalizers") or []):
            pv_finalizers = [*(pv.get("metadata", {}).get("finalizers") or []), final]
            self._patch("persistentvolumes", pv_name, {"metadata": {"finalizers": pv_finalizers}})
        if final not in finalizers:
            self._patch("volumeattachments", name, {"metadata": {"finalizers": [*finalizers, final]}})
        self._patch(
            "volumeattachments",
            name,
            {"status": {"attached": True, "attachmentMetadata": {}, "attachError": None}},
            subresource="status",
        )
        return None

    def _sync_pv(self, name: str) -> None:
        pv = self.inf("persistentvolumes").get(name)
        if pv is None or not pu.deleting(pv):
            return
        if self.inf("volumeattachments").by_index("pv", name):
            return
        finalizers = pv.get("metadata", {}).get("finalizers") or []
        kept = [f for f in finalizers if not f.startswith("external-attacher/")]
        if kept != finalizers:
            self._patch("persistentvolumes", name, {"metadata": {"finalizers": kept or None}})

    def _patch(self, plural: str, name: str, patch: Obj, *, subresource: str | None = None) -> None:
        try:
            result = self.registry.patch_entry(plural, name, patch, subresource=subresource).obj
        except ApiError:
            return
        self.inf(plural).observe(result)


def build(cluster: SimCluster) -> list[Controller]:
    return [ExternalAttacher(cluster)]
