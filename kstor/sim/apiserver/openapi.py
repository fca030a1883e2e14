"""Just enough of /openapi/v3 for kubectl: `kubectl create -f` refuses to send anything without it.

kubectl (v1.25+) validates manifests on the server (`?fieldValidation=Strict`) once the server's OpenAPI v3
document shows that each kind's PATCH operation takes that query parameter; failing that it falls back to
client-side validation with the protobuf /openapi/v2 document. These documents declare the operations
and the parameter (with the `x-kubernetes-group-version-kind` extension kubectl matches on) and no schemas.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kstor.sim.apiserver.resources import Resource, group_versions

_ROOT = "/openapi/v3"


def _url_prefix(api_version: str) -> str:
    return "api/v1" if api_version == "v1" else f"apis/{api_version}"


def _operation(res: Resource) -> dict[str, Any]:
    return {
        "operationId": f"patch{res.kind}",
        "parameters": [
            {"name": param, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for param in ("dryRun", "fieldManager", "fieldValidation", "force")
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version, "kind": res.kind},
    }


def group_version_document(api_version: str) -> dict[str, Any] | None:
    """The OpenAPI v3 document of one group/version (`v1`, `apps/v1`...), or None if not served."""
    resources = group_versions().get(api_version)
    if resources is None:
        return None
    paths: dict[str, Any] = {}
    for res in resources:
        scope = "/namespaces/{namespace}" if res.namespaced else ""
        path = f"/{_url_prefix(api_version)}{scope}/{res.plural}/{{name}}"
        paths[path] = {"patch": _operation(res)}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def _hash(document: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest().upper()[:128]


def root_document() -> dict[str, Any]:
    """GET /openapi/v3: where each group/version's document is."""
    paths = {}
    for api_version in group_versions():
        document = group_version_document(api_version)
        assert document is not None
        prefix = _url_prefix(api_version)
        paths[prefix] = {"serverRelativeURL": f"{_ROOT}/{prefix}?hash={_hash(document)}"}
    return {"paths": paths}


def document_for(path: str) -> dict[str, Any] | None:
    """The document served at `path` (`/openapi/v3` or `/openapi/v3/apis/apps/v1`), None if none."""
    path = path.rstrip("/")
    if path == _ROOT:
        return root_document()
    if not path.startswith(_ROOT + "/"):
        return None
    rest = path[len(_ROOT) + 1 :]
    if rest == "api/v1":
        return group_version_document("v1")
    if rest.startswith("apis/"):
        return group_version_document(rest[len("apis/") :])
    return None
