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
