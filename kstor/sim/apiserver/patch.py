"""The three patch types kubectl and client libraries send.

- JSON merge patch (RFC 7386): `application/merge-patch+json`;
- strategic merge patch: `application/strategic-merge-patch+json` — lists of maps are merged by
  their patch merge key, as the Go struct tags of the core types declare (`name` for containers,
  `type` for conditions, ...), with the directives kubectl sends (`$patch`, `$retainKeys`,
  `$deleteFromPrimitiveList/<f>`, `$setElementOrder/<f>`);
- JSON patch (RFC 6902): `application/json-patch+json`.
Inputs are never mutated; results share unchanged sub-trees with the input (callers treat stored
objects as read-only).
"""

from __future__ import annotations

import copy
from typing import Any

from kstor.sim.apiserver.errors import ApiError, bad_request

# field name -> patch merge key, for lists merged by key in strategic merge patch (Go struct tags)
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "taints": "key",
    "ownerReferences": "uid",
    "addresses": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "podIPs": "ip",
}
# primitive lists merged as sets (patchStrategy:"merge" on []string)
MERGE_PRIMITIVE_LISTS = frozenset({"finalizers"})


def apply_patch(obj: dict[str, Any], patch: Any, patch_type: str) -> dict[str, Any]:
    if patch_type == "merge":
        if not isinstance(patch, dict):
            raise bad_request("merge patch must be a JSON object")
        return merge_patch(obj, patch)
    if patch_type == "strategic":
        if not isinstance(patch, dict):
            raise bad_request("strategic merge patch must be a JSON object")
        return strategic_merge(obj, patch)
    if patch_type == "json":
        if not isinstance(patch, list):
            raise bad_request("json patch must be a JSON array of operations")
        return json_patch(obj, patch)
    raise ApiError(
        415, "UnsupportedMediaType", f"the body of the request was in an unknown format - {patch_type}"
    )


# --- JSON merge patch --------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- strategic merge patch ---------------------------------------------------------------------
def strategic_merge(original: Any, patch: dict[str, Any]) -> Any:
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(original) if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
            continue
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    for key, order in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(result.get(key.split("/", 1)[1]), list):
            field = key.split("/", 1)[1]
            result[field] = _apply_order(field, result[field], order)
    return result


def _merge_list(field: str, original: Any, patch: list[Any]) -> list[Any]:
    original = original if isinstance(original, list) else []
    if field in MERGE_PRIMITIVE_LISTS:
        merged = list(original)
        merged.extend(v for v in patch if v not in merged)
        return merged
    key = MERGE_KEYS.get(field)
    if key is None or not all(isinstance(v, dict) for v in patch):
        return [v for v in patch if not (isinstance(v, dict) and v.get("$patch"))]
    if any(isinstance(v, dict) and v.get("$patch") == "replace" for v in patch):
        return [v for v in patch if not (isinstance(v, dict) and v.get("$patch"))]
    merged = list(original)
    for item in patch:
        idx = next(
            (i for i, cur in enumerate(merged) if isinstance(cur, dict) and cur.get(key) == item.get(key)),
            None,
        )
        if item.get("$patch") == "delete":
            if idx is not None:
                merged.pop(idx)
        elif idx is None:
            merged.append(strategic_merge({}, item))
        else:
            merged[idx] = strategic_merge(merged[idx], item)
    return merged


def _apply_order(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    key = MERGE_KEYS.get(field)

    def ident(v: Any) -> Any:
        return v.get(key) if key and isinstance(v, dict) else v

    rank = {repr(ident(o) if key else o): i for i, o in enumerate(order)}
    return sorted(items, key=lambda v: rank.get(repr(ident(v)), len(rank)))


# --- JSON patch --------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for part in parts[:-1]:
        try:
            cur = cur[int(part)] if isinstance(cur, list) else cur[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", f"doc is missing path: {path!r}") from None
    return cur


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    try:
        return parent[int(parts[-1])] if isinstance(parent, list) else parent[parts[-1]]
    except (KeyError, IndexError, ValueError, TypeError):
        raise ApiError(422, "Invalid", f"doc is missing key: {path!r}") from None


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    try:
        return parent.pop(int(parts[-1])) if isinstance(parent, list) else parent.pop(parts[-1])
    except (KeyError, IndexError, ValueError, TypeError):
        raise ApiError(
            422, "Invalid", f"Unable to remove nonexistent key: {parts[-1]}: missing value"
        ) from None


def _add(doc: Any, path: str, value: Any, *, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
            return doc
        try:
            idx = int(last)
        except ValueError:
            raise ApiError(422, "Invalid", f"invalid index {last!r} in {path!r}") from None
        if replace:
            if not 0 <= idx < len(parent):
                raise ApiError(
                    422, "Invalid", f"replace operation does not apply: doc is missing key: {path}"
                )
            parent[idx] = value
        elif not 0 <= idx <= len(parent):
            raise ApiError(422, "Invalid", f"add operation does not apply: index out of bounds: {idx}")
        else:
            parent.insert(idx, value)
    elif isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(422, "Invalid", f"replace operation does not apply: doc is missing key: {path}")
        parent[last] = value
    else:
        raise ApiError(422, "Invalid", f"doc is missing path: {path!r}")
    return doc


def json_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    doc: Any = copy.deepcopy(obj)
    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")), replace=False)
        elif kind == "replace":
            doc = _add(doc, path, copy.deepcopy(op.get("value")), replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "move":
            doc = _add(doc, path, _remove(doc, op["from"]), replace=False)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])), replace=False)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise ApiError(422, "Invalid", f"testing value {path} failed")
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    if not isinstance(doc, dict):
        raise bad_request("json patch must leave an object")
    return doc
