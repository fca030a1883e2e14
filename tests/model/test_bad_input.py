"""Unreadable objects never crash the model: each is left out and reported as a finding."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from model_factories import T0, csidriver, event, node, pod, pv, pvc, sc, topology, va

from kstor.model import FindingKind, steady

GARBAGE = (None, "garbage", 7, [], {})


def world() -> list[dict[str, Any]]:
    the_pod = pod("p", node_name="n1", claims=("c",), mounts={"data": {"state": "mounted", "path": "/x"}})
    claim = pvc("c", sc_name="csi", volume="v", phase="Bound")
    return [
        csidriver("hostpath.csi.k8s.io"),
        sc("csi", "hostpath.csi.k8s.io"),
        node("n1", attached=("x",)),
        pv("v", csi=("hostpath.csi.k8s.io", "v"), phase="Bound", claim=("default", "c")),
        claim,
        the_pod,
        va("v", "n1"),
        event(the_pod, "FailedMount", 'MountVolume.SetUp failed for volume "v"', type_="Warning"),
        event(claim, "ProvisioningFailed", "boom", type_="Warning"),
    ]


def paths(obj: Any, prefix: tuple = ()) -> Iterator[tuple]:
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


@pytest.mark.parametrize("index", range(len(world())), ids=lambda i: world()[i]["kind"])
def test_every_field_replaced_by_garbage_is_survived(index: int) -> None:
    base = world()
    for path in paths(base[index]):
        if path in (("kind",), ("metadata", "name")):
            continue
        for bad in GARBAGE:
            objs = copy.deepcopy(base)
            target = objs[index]
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = bad
            t = topology(*objs)
            steady(t)
            t.findings(now=T0)
            assert t.unplaced is not None


def test_an_unreadable_pod_is_a_finding_and_left_out() -> None:
    objs = world()
    objs[5]["status"]["conditions"] = "garbage"
    t = topology(*objs)
    assert ("default", "p") not in t.pods
    [finding] = [f for f in t.findings(now=T0) if f.kind is FindingKind.MALFORMED_OBJECT]
    assert finding.message.startswith("pod/default/p cannot be read (AttributeError:")


def test_a_fixed_object_returns_and_its_finding_goes() -> None:
    from model_factories import source

    from kstor.model import Change, ChangeType, TopologyBuilder

    objs = world()
    store = source(*objs)
    builder = TopologyBuilder(store)
    builder.build()
    broken = copy.deepcopy(objs[5])
    broken["status"]["conditions"] = "garbage"
    for obj in (broken, objs[5]):
        store.apply([Change("Pod", ChangeType.MODIFIED, obj)])
        t = builder.apply([Change("Pod", ChangeType.MODIFIED, obj)])
        assert t.same_content(TopologyBuilder(store).build())
    assert ("default", "p") in t.pods
    assert FindingKind.MALFORMED_OBJECT not in [f.kind for f in t.findings(now=T0)]
