"""Frames for dashboard tests: the seed-like cluster through the real model, at a frozen time."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension

from kstor.model.builder import TopologyBuilder
from kstor.model.source import DictSource
from kstor.model.types import KINDS
from kstor.tui.app import KstorApp
from kstor.tui.chaos_bridge import ChaosChoice, PreviewText
from kstor.tui.feed import ScriptedFeed
from kstor.tui.frame import ClusterLabel, Frame, FrameBuilder, Health
from kstor.tui.rows import ObjRef
from tests.tui.factory import NOW, seed_objects

SIM = ClusterLabel("kstor-sim", "https://127.0.0.1:6443", is_sim=True)
RATE = (0.0, 2.0, 5.0, 3.0, 8.0, 1.0, 0.0, 4.0)


class FrameMaker:
    """Builds successive frames from a mutable set of objects, like the live feed does."""

    def __init__(self, objects: Iterable[tuple[str, dict[str, Any]]] | None = None) -> None:
        self.source = DictSource(objects if objects is not None else seed_objects())
        self.model = TopologyBuilder(self.source)
        self.frames = FrameBuilder(SIM)
        self.health = {kind: Health("synced") for kind in KINDS}

    def frame(self, **kwargs: Any) -> Frame:
        return self.frames.build(
            self.source, self.model.build(), now=NOW, health=self.health, event_rate=RATE, **kwargs
        )


SEED_FILE = Path(__file__).with_name("seed_cluster.json")


class SeedMaker(FrameMaker):
    """The `seed` scenario as the embedded cluster left it (see make_seed_fixture.py), frozen at its clock."""

    def __init__(self) -> None:
        doc = json.loads(SEED_FILE.read_text())
        super().__init__((kind, obj) for kind, objs in doc["objects"].items() for obj in objs)
        self.now = datetime.fromisoformat(doc["now"])

    def frame(self, **kwargs: Any) -> Frame:
        return self.frames.build(
            self.source, self.model.build(), now=self.now, health=self.health, event_rate=RATE, **kwargs
        )


@pytest.fixture
def maker() -> FrameMaker:
    return FrameMaker()


class FakeChaos:
    """Stands in for ChaosBridge: records what ran, previews in fixed words."""

    def __init__(self, on_execute: Callable[[ChaosChoice], None] | None = None) -> None:
        self.ran: list[ChaosChoice] = []
        self.on_execute = on_execute

    def choices(self, ref: ObjRef | None) -> list[ChaosChoice]:
        target = f"{ref.namespace}/{ref.name}" if ref and ref.namespace else (ref.name if ref else "")
        out = [ChaosChoice("delete-pod" if ref and ref.kind == "Pod" else "delete-pvc", target, "delete it")]
        return [*out, ChaosChoice("kill-nfs", "", "stop the NFS server")]

    async def preview(self, choice: ChaosChoice) -> PreviewText:
        return PreviewText(
            (
                f"{choice.action} {choice.target}",
                "  touches:",
                "    - the thing: deleted",
                "  reversible: no — it is gone",
            ),
            reversible=False,
        )

    async def execute(self, choice: ChaosChoice) -> list[str]:
        self.ran.append(choice)
        if self.on_execute is not None:
            self.on_execute(choice)
        return [f"{choice.label} done"]


def make_app(maker: FrameMaker, **kwargs: Any) -> tuple[KstorApp, ScriptedFeed]:
    feed = ScriptedFeed(maker.frame(), cluster=SIM)
    return KstorApp(feed, **kwargs), feed


async def wait_for(pilot: Any, cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `cond()` holds (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await asyncio.sleep(0)


class TuiSVG(SVGImageExtension):
    """Keeps the dashboard SVGs in tests/__snapshots__/<test module>/, where the project keeps them."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(Path(__file__).parents[1] / "__snapshots__" / Path(test_location.filepath).stem)


class _SnapshotsInTestsDir:
    """snap_compare asks for the SVG extension; hand it ours instead."""

    def __init__(self, snapshot: Any) -> None:
        self._snapshot = snapshot

    def use_extension(self, _extension: Any) -> Any:
        return self._snapshot.use_extension(TuiSVG)


@pytest.fixture
def snapshot(snapshot: Any) -> Any:
    return _SnapshotsInTestsDir(snapshot)
