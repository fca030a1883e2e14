"""Patch semantics as kubectl sends them (merge, strategic with directives, JSON patch)."""

from __future__ import annotations

from typing import Any

import pytest

from kstor.sim.apiserver.errors import ApiError
from kstor.sim.apiserver.patch import apply_patch

POD: dict[str, Any] = {
    "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}, "finalizers": ["x", "y"]},
    "spec": {
        "containers": [
            {"name": "app", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "side", "image": "busybox:1"},
        ],
        "tolerations": [{"key": "t", "operator": "Exists"}],
    },
    "status": {
        "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]
    },
}


def test_merge_patch_replaces_lists_and_null_deletes() -> None:
    out = apply_patch(
        POD, {"metadata": {"labels": {"a": None, "c": "3"}}, "spec": {"containers": []}}, "merge"
    )
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"} and out["spec"]["containers"] == []
    assert POD["metadata"]["labels"] == {"a": "1", "b": "2"}  # input untouched


def test_strategic_merges_lists_by_key() -> None:
    out = apply_patch(
        POD,
        {
            "spec": {"containers": [{"name": "app", "image": "nginx:2"}, {"name": "new", "image": "x"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
        "strategic",
    )
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [
        ("app", "nginx:2"),
        ("side", "busybox:1"),
        ("new", "x"),
    ]
    assert out["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert out["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "PodScheduled", "status": "True"},
    ]


def test_strategic_directives() -> None:
    out = apply_patch(
        POD,
        {
            "spec": {"containers": [{"name": "side", "$patch": "delete"}]},
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["x"], "finalizers": ["z"]},
        },
        "strategic",
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["app"]
    assert out["metadata"]["finalizers"] == ["y", "z"]
    out = apply_patch(
        POD,
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                "containers": [{"name": "app", "image": "nginx:3"}],
            }
        },
        "strategic",
    )
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [
        ("side", "busybox:1"),
        ("app", "nginx:3"),
    ]
    out = apply_patch(
        {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
        {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
        "strategic",
    )
    assert out == {"strategy": {"type": "Recreate"}}
    out = apply_patch(POD, {"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}}, "strategic")
    assert out["spec"]["tolerations"] == [{"key": "other", "operator": "Exists"}]  # no merge key: replaced


def test_json_patch_operations_and_errors() -> None:
    ops = [
        {"op": "add", "path": "/metadata/labels/c", "value": "3"},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:9"},
        {"op": "copy", "from": "/metadata/labels/b", "path": "/metadata/labels/d"},
        {"op": "move", "from": "/metadata/labels/d", "path": "/metadata/labels/e"},
        {"op": "test", "path": "/metadata/name", "value": "p"},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "w"},
    ]
    out = apply_patch(POD, ops, "json")
    assert out["metadata"]["labels"] == {"b": "2", "c": "3", "e": "2"}
    assert out["spec"]["containers"][0]["image"] == "nginx:9" and out["metadata"]["finalizers"][-1] == "w"
    with pytest.raises(ApiError) as err:
        apply_patch(POD, [{"op": "remove", "path": "/metadata/labels/zzz"}], "json")
    assert err.value.code == 422
    with pytest.raises(ApiError) as err:
        apply_patch(POD, [{"op": "test", "path": "/metadata/name", "value": "q"}], "json")
    assert err.value.code == 422
