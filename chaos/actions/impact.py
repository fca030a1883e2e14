"""What an action will affect, computed from the current state (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from chaos.actions.base import Ref
from chaos.api import Obj, name_of, ns_of
from chaos.state import ClusterState, claims_of_pod


def empty() -> dict[str, list[Ref]]:
    return {"pods": [], "claims": [], "volumes": [], "attachments": []}


def of_pods(state: ClusterState, pods: Iterable[Obj], *, node: str | None = None) -> dict[str, list[Ref]]:
    """Pods, their claims and volumes; with `node`, the attachments of those volumes on that node."""
    found = empty()
    for pod in pods:
        found["pods"].append(Ref.of("pods", pod))
        for claim in claims_of_pod(pod):
            found["claims"].append(Ref("PersistentVolumeClaim", ns_of(pod), claim))
            pv = state.pv_of_claim(ns_of(pod), claim)
            if pv is None:
                continue
            found["volumes"].append(Ref.of("persistentvolumes", pv))
            for va in state.attachments_of_pv(name_of(pv)):
                if node is None or (va.get("spec") or {}).get("nodeName") == node:
                    found["attachments"].append(Ref.of("volumeattachments", va))
    return found


def of_volume(state: ClusterState, pv: Obj) -> dict[str, list[Ref]]:
    found = empty()
    claim = state.claim_of_pv(pv)
    if claim is not None:
        namespace, name = claim
        if state.find("persistentvolumeclaims", name, namespace) is not None:
            found["claims"].append(Ref("PersistentVolumeClaim", namespace, name))
        found["pods"] = [Ref.of("pods", p) for p in state.pods_using_claim(namespace, name)]
    found["attachments"] = [Ref.of("volumeattachments", va) for va in state.attachments_of_pv(name_of(pv))]
    return found


def uses_nfs(state: ClusterState, pod: Obj, servers: set[str] | None) -> bool:
    """Does the pod mount an NFS export (inline or through a PV), on one of `servers` if given?"""
    found = [(v.get("nfs") or {}).get("server") for v in (pod.get("spec") or {}).get("volumes") or []]
    found += [((pv.get("spec") or {}).get("nfs") or {}).get("server") for pv in state.pvs_of_pod(pod)]
    exports = [str(e) for e in found if e]
    if servers is None:
        return bool(exports)
    return any(_server_matches(e, servers) for e in exports)


def _server_matches(export_server: str, servers: set[str]) -> bool:
    host = export_server.split(":", 1)[0]
    return host in servers or host.split(".", 1)[0] in servers
