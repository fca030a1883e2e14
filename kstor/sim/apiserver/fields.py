"""Unknown fields, as a real API server's decoder sees them.

A real server decodes every request into Go structs: fields the schema does not know are dropped
(and reported as a `Warning:` header), or, with `?fieldValidation=Strict` — which kubectl sends —
the request fails with 400 `strict decoding error: unknown field "spec.foo"`. The field table is
generated from the v1.32 OpenAPI schema (schema_fields.py).
"""

from __future__ import annotations

from typing import Any

from kstor.sim.apiserver.schema_fields import ROOTS, TYPES

_MISSING = object()
Found = list[tuple[str, dict[str, Any], str]]


def _collect(type_name: str, value: dict[str, Any], path: str, out: Found, old: Any) -> None:
    """Append (path, parent dict, key) of every field of `value` that the struct `type_name` lacks.

    A plain recursive walk (no generator chain) whose paths are built only where they are needed.
    `old`, when a dict, is the matching part of an already-pruned stored object: a child equal to
    its counterpart there has no unknown fields either, so it is not walked (a C-level comparison).
    """
    fields = TYPES[type_name]
    old_dict = old if isinstance(old, dict) else None
    for key, child in value.items():
        spec = fields.get(key, _MISSING)
        if spec is None:
            continue
        if spec is _MISSING:
            out.append((f"{path}.{key}" if path else key, value, key))
            continue
        if not isinstance(child, (dict, list)):
            continue
        old_child = _MISSING if old_dict is None else old_dict.get(key, _MISSING)
        if old_child is not _MISSING and old_child == child:
            continue
        _collect_child(spec, child, f"{path}.{key}" if path else key, out, old_child)


def _collect_child(spec: Any, value: Any, path: str, out: Found, old: Any) -> None:
    if isinstance(spec, str):
        if isinstance(value, dict):
            _collect(spec, value, path, out, old)
        return
    item_spec = spec[1]
    if item_spec is None:
        return
    if spec[0] == "[]" and isinstance(value, list):
        old_items = old if isinstance(old, list) else ()
        for i, item in enumerate(value):
            if not isinstance(item, (dict, list)):
                continue
            old_item = old_items[i] if i < len(old_items) else _MISSING
            if old_item is not _MISSING and old_item == item:
                continue
            _collect_child(item_spec, item, f"{path}[{i}]", out, old_item)
    elif spec[0] == "{}" and isinstance(value, dict):
        old_map = old if isinstance(old, dict) else {}
        for key, item in value.items():
            if not isinstance(item, (dict, list)):
                continue
            old_item = old_map.get(key, _MISSING)
            if old_item is not _MISSING and old_item == item:
                continue
            _collect_child(item_spec, item, f"{path}[{key}]", out, old_item)


def _found(plural: str, obj: Any, old: Any = None) -> Found:
    root = ROOTS.get(plural)
    out: Found = []
    if root is None or not isinstance(obj, dict):
        return out
    if isinstance(old, dict):
        # Only a stored object's status may still hold unknown fields (status writes are not
        # decoded through defaulting here), so it is always walked in full.
        old = {k: v for k, v in old.items() if k != "status"}
    _collect(root, obj, "", out, old)
    return out


def unknown_fields(plural: str, obj: Any) -> list[str]:
    """Paths of the fields of `obj` that a `plural` object cannot have, sorted as the decoder reports them."""
    return sorted(path for path, _, _ in _found(plural, obj))


def prune_unknown_fields(plural: str, obj: Any, old: Any = None) -> list[str]:
    """Drop the unknown fields from `obj` in place (what decoding does); return their paths.

    `old` (optional) is the stored version `obj` replaces, already pruned: parts of `obj` equal to
    it are known to be clean and are not walked again.
    """
    found = _found(plural, obj, old)
    for _, parent, key in found:
        parent.pop(key, None)
    return sorted(path for path, _, _ in found)


def strict_decoding_message(kind: str, version: str, paths: list[str]) -> str:
    """The 400 BadRequest message of a `fieldValidation=Strict` request with unknown fields."""
    detail = ", ".join(f'unknown field "{path}"' for path in paths)
    return f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {detail}'
