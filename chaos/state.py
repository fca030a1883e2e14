"""A point-in-time view of the objects chaos reasons about, with the lookups previews need.

Pure: built from plain dicts (read with `ClusterApi.list` or taken from the kstor.kube Store),
so every preview can be unit-tested without a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from chaos.api import ClusterApi, Obj, name_of, ns_of

PLURALS = (
    "nodes",
    "pods",
    "persistentvolumes",
    "persistentvolumeclaims",
    "volumeattachments",
    "deployments",
    "statefulsets",
    "poddisruptionbudgets",
    "csidrivers",
)


@dataclass
class ClusterState:
    objects: dict[str, list[Obj]] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: Mapping[str, Iterable[Obj]]) -> ClusterState:
        return cls({plural: list(items) for plural, items in objects.items()})

    def all(self, plural: str) -> list[Obj]:
        return self.objects.get(plural, [])

    def find(self, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        for obj in self.all(plural):
            if name_of(obj) == name and (namespace is None or ns_of(obj) == namespace):
                return obj
        return None

    # --- relations --------------------------------------------------------------------------
    def pods_on_node(self, node: str) -> list[Obj]:
        return [p for p in self.all("pods") if (p.get("spec") or {}).get("nodeName") == node]

    def pods_using_claim(self, namespace: str, claim: str) -> list[Obj]:
        return [p for p in self.all("pods") if ns_of(p) == namespace and claim in claims_of_pod(p)]

    def pv_of_claim(self, namespace: str, claim: str) -> Obj | None:
        pvc = self.find("persistentvolumeclaims", claim, namespace)
        volume = ((pvc or {}).get("spec") or {}).get("volumeName")
        if volume:
            return self.find("persistentvolumes", volume)
        for pv in self.all("persistentvolumes"):
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            if ref.get("name") == claim and ref.get("namespace") == namespace:
                return pv
        return None

    def claim_of_pv(self, pv: Obj) -> tuple[str, str] | None:
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if ref.get("name"):
            return (str(ref.get("namespace", "")), str(ref["name"]))
        return None

    def attachments_of_pv(self, pv_name: str) -> list[Obj]:
        return [
            va
            for va in self.all("volumeattachments")
            if ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName") == pv_name
        ]

    def attachments_on_node(self, node: str) -> list[Obj]:
        return [va for va in self.all("volumeattachments") if (va.get("spec") or {}).get("nodeName") == node]

    def pvs_of_pod(self, pod: Obj) -> list[Obj]:
        found = []
        for claim in claims_of_pod(pod):
            pv = self.pv_of_claim(ns_of(pod), claim)
            if pv is not None:
                found.append(pv)
        return found


def claims_of_pod(pod: Obj) -> list[str]:
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            names.append(claim)
    return names


def owner_kind(obj: Obj) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("kind"))
    return None


def labels_match(labels: Mapping[str, str] | None, selector: str | None) -> bool:
    """Equality-based selectors (`a=b,c!=d,e`), as drain's --pod-selector and the NFS target use."""
    if not selector:
        return True
    labels = labels or {}
    for term in (t.strip() for t in selector.split(",")):
        if not term:
            continue
        if "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def selector_string(match_labels: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


async def read_state(api: ClusterApi, plurals: Iterable[str] = PLURALS) -> ClusterState:
    objects: dict[str, list[Obj]] = {}
    for plural in plurals:
        objects[plural] = await api.list(plural)
    return ClusterState(objects)
