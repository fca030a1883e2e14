"""Unknown fields, as a real API server's decoder sees them.

A real server decodes every request into Go structs: fields the schema does not know are dropped
(and reported as a `Warning:` header), or, with `?fieldValidation=Strict` — which kubectl sends —
the request fails with 400 `strict decoding error: unknown field "spec.foo"`. The field table is
generated from the v1.32 OpenAPI schema (schema_fields.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kstor.sim.apiserver.schema_fields import ROOTS, TYPES


def _walk(type_name: str, value: Any, path: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(path, parent dict, key) of every field of `value` that the struct `type_name` does not have."""
    if not isinstance(value, dict):
        return
    fields = TYPES[type_name]
    for key in list(value):
        here = f"{path}.{key}" if path else key
        if key not in fields:
            yield here, value, key
        else:
            yield from _child(fields[key], value[key], here)


def _child(spec: Any, value: Any, path: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    if spec is None:
        return
    if isinstance(spec, str):
        yield from _walk(spec, value, path)
    elif spec[0] == "[]" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _child(spec[1], item, f"{path}[{i}]")
    elif spec[0] == "{}" and isinstance(value, dict):
        for key, item in value.items():
            yield from _child(spec[1], item, f"{path}[{key}]")


def unknown_fields(plural: str, obj: Any) -> list[str]:
    """Paths of the fields of `obj` that a `plural` object cannot have, sorted as the decoder reports them."""
    root = ROOTS.get(plural)
    if root is None:
        return []
    return sorted(path for path, _, _ in _walk(root, obj, ""))


def prune_unknown_fields(plural: str, obj: Any) -> list[str]:
    """Drop the unknown fields from `obj` in place (what decoding does); return their paths."""
    root = ROOTS.get(plural)
    if root is None:
        return []
    found = list(_walk(root, obj, ""))
    for _, parent, key in found:
        parent.pop(key, None)
    return sorted(path for path, _, _ in found)


def strict_decoding_message(kind: str, version: str, paths: list[str]) -> str:
    """The 400 BadRequest message of a `fieldValidation=Strict` request with unknown fields."""
    detail = ", ".join(f'unknown field "{path}"' for path in paths)
    return f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {detail}'
