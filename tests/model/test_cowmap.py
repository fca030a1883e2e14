"""The copy-on-write map behind snapshots: old versions never change, untouched shards are shared."""

from __future__ import annotations

from kstor.model.cowmap import CowMap, CowMapWriter


def test_writes_after_freeze_leave_the_snapshot_alone() -> None:
    writer: CowMapWriter[str, int] = CowMapWriter()
    for i in range(1000):
        writer[f"k{i}"] = i
    first = writer.freeze()
    writer["k1"] = -1
    del writer["k2"]
    second = writer.freeze()
    assert (first["k1"], "k2" in first, len(first)) == (1, True, 1000)
    assert (second["k1"], "k2" in second, len(second)) == (-1, False, 999)
    assert dict(first) == {f"k{i}": i for i in range(1000)}
    shared = sum(a is b for a, b in zip(first._shards, second._shards, strict=True))
    assert shared >= len(first._shards) - 2  # only the shards of k1 and k2 were copied


def test_freeze_without_changes_returns_the_same_map() -> None:
    writer: CowMapWriter[str, int] = CowMapWriter(CowMap())
    writer["a"] = 1
    snap = writer.freeze()
    assert writer.freeze() is snap
    assert snap.get("missing", 7) == 7 and snap == {"a": 1}


def test_updated_takes_the_touched_keys_from_the_source_and_shares_the_rest() -> None:
    writer: CowMapWriter[str, int] = CowMapWriter()
    for i in range(1000):
        writer[f"k{i}"] = i
    first = writer.freeze()
    source = {f"k{i}": i for i in range(1000) if i != 2}
    source |= {"k1": -1, "new": 5}
    second = first.updated(["k1", "k2", "new", "absent"], source)
    assert dict(second) == source and len(second) == len(source) == 1000
    assert dict(first) == {f"k{i}": i for i in range(1000)}  # the old version is untouched
    shared = sum(a is b for a, b in zip(first._shards, second._shards, strict=True))
    assert shared >= len(first._shards) - 4
    assert first.updated([], source) is first
