"""Discovery documents as a v1.32 API server serves them (/version, /api, /apis, /api/v1, /apis/G/V)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kstor.sim.apiserver.resources import ALL_VERBS, RESOURCES, Resource, group_versions

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T17:59:15Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_SUBRESOURCE_KINDS = {
    "status": (None, "get patch update"),
    "scale": (("autoscaling", "v1", "Scale"), "get patch update"),
    "eviction": (("policy", "v1", "Eviction"), "create"),
    "binding": (("", "v1", "Binding"), "create"),
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, version: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def groups() -> list[str]:
    return sorted({r.group for r in RESOURCES.values() if r.group})


def api_group_list() -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, _version_of(g)) for g in groups()],
    }


def api_group(name: str) -> dict[str, Any] | None:
    if name not in groups():
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, _version_of(name))}


def _version_of(group: str) -> str:
    return next(r.version for r in RESOURCES.values() if r.group == group)


def _verbs(res: Resource) -> list[str]:
    if res.plural == "namespaces":  # real servers have no deletecollection for namespaces
        return [v for v in ALL_VERBS if v != "deletecollection"]
    return list(res.verbs)


def _entry(res: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": _verbs(res),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    digest = hashlib.sha256(f"{res.api_version}/{res.kind}".encode()).digest()
    entry["storageVersionHash"] = base64.b64encode(digest[:8]).decode()
    return entry


def _sub_entry(res: Resource, sub: str) -> dict[str, Any]:
    gvk, verbs = _SUBRESOURCE_KINDS[sub]
    entry: dict[str, Any] = {
        "name": f"{res.plural}/{sub}",
        "singularName": "",
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": verbs.split(),
    }
    if gvk is not None:
        group, version, kind = gvk
        entry["kind"] = kind
        if group:
            entry["group"], entry["version"] = group, version
    return entry


def resource_list(group_version: str) -> dict[str, Any] | None:
    resources = group_versions().get(group_version)
    if resources is None:
        return None
    out: list[dict[str, Any]] = []
    for res in sorted(resources, key=lambda r: r.plural):
        out.append(_entry(res))
        out.extend(_sub_entry(res, sub) for sub in res.subresources)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": out}

