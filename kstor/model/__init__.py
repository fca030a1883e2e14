"""Storage topology model: raw API objects in, immutable snapshots with explicit states out.

Pure: no I/O, no clock reads, no asyncio, no Textual. Entry points:
- `ObjectSource` / `DictSource` (source.py): what the model reads; `Change` batches for updates.
- `TopologyBuilder(source).build()` / `.apply(changes)` (builder.py) -> `Topology` (snapshot.py).
- `Topology.findings(now=...)` (findings.py) and `steady(topology)` (steady.py).
"""

from kstor.model.builder import TopologyBuilder, build_topology
from kstor.model.snapshot import Snapshot, Topology, Unplaced
from kstor.model.source import DictSource, ObjectSource
from kstor.model.steady import steady
from kstor.model.types import *  # noqa: F403  (the public types are the package's vocabulary)
from kstor.model.types import Change, ChangeType

__all__ = [
    "Change",
    "ChangeType",
    "DictSource",
    "ObjectSource",
    "Snapshot",
    "Topology",
    "TopologyBuilder",
    "Unplaced",
    "build_topology",
    "steady",
]
