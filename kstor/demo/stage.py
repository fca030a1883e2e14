"""The stage a kstor demo runs on: the embedded cluster in-process on a manual clock, the real
dashboard app fed frames built from the cluster's objects, and chaos actions run in-process.

Everything happens on one event loop and the clock only moves when the script says so, which is
what makes two recordings of a script identical. (`kstor --sim` itself talks HTTPS to a child
process; a demo trades that path for determinism — the frames come from the same model and
FrameBuilder the live feed uses.)
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from chaos.actions.base import ActionEnv
from chaos.api import ApiFailure, NotFound, Obj
from chaos.drill.probes import ProbeContext, ProbeFormatError, parse_probe
from chaos.drill.targets import resolve_target
from chaos.errors import ActionError
from chaos.journal import Journal
from chaos.restore import restore_entry
from chaos.runner import make_action, run_action
from kstor.demo.script import DemoScript
from kstor.errors import KstorError
from kstor.kube.kinds import KINDS as KINDS_BY_NAME
from kstor.model.builder import TopologyBuilder
from kstor.model.source import DictSource
from kstor.model.steady import steady
from kstor.model.types import KINDS
from kstor.sim.apiserver.errors import ApiError
from kstor.sim.cluster import SimCluster
from kstor.tui.app import KstorApp
from kstor.tui.feed import ScriptedFeed
from kstor.tui.frame import ClusterLabel, FrameBuilder, Health

SETTLE_STEP = 0.2  # sim seconds the loops get to react before a frame is taken
DEMO_CONTEXT = "kstor-sim"


class RegistryApi:
    """chaos's ClusterApi straight on the embedded cluster's Registry (same request path as HTTP)."""

    def __init__(self, cluster: SimCluster) -> None:
        self.registry = cluster.registry

    async def get(self, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return self.registry.get(plural, name, namespace)
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise ApiFailure(exc.message) from None

    async def list(
        self, plural: str, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[Obj]:
        return list(self.registry.list(plural, namespace, label_selector=label_selector)["items"])

    async def delete(
        self, plural: str, name: str, namespace: str | None = None, *, grace_period_seconds: int | None = None
    ) -> None:
        try:
            self.registry.delete(plural, name, namespace, grace_period_seconds=grace_period_seconds)
        except ApiError as exc:
            if exc.code == 404:
                raise NotFound(name) from None
            raise ActionError(f"delete {plural}/{name}: {exc.message}") from None

    async def patch(
        self, plural: str, name: str, body: Obj, namespace: str | None = None, *, patch_type: str = "merge"
    ) -> Obj:
        return self.registry.patch(plural, name, body, namespace, patch_type=patch_type)

    async def evict(
        self, name: str, namespace: str, *, grace_period_seconds: int | None = None
    ) -> str | None:
        eviction: Obj = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        }
        if grace_period_seconds is not None:
            eviction["deleteOptions"] = {"gracePeriodSeconds": grace_period_seconds}
        try:
            self.registry.evict(name, namespace, eviction)
        except ApiError as exc:
            if exc.code == 429:
                return exc.message
            raise
        return None

    async def scale(self, plural: str, name: str, namespace: str, replicas: int) -> None:
        self.registry.patch(plural, name, {"spec": {"replicas": replicas}}, namespace)

    async def create(self, plural: str, obj: Obj, namespace: str | None = None) -> Obj:
        return self.registry.create(plural, obj, namespace)


class LoopControl:
    """chaos's SimControl on the cluster's ControllerManager."""

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    async def loops(self) -> dict[str, bool]:
        manager = self.cluster.controllers
        return {name: manager.running(name) for name in manager.names()}

    async def stop_loop(self, name: str) -> None:
        await self.cluster.controllers.stop(name)

    async def start_loop(self, name: str) -> None:
        self.cluster.controllers.start(name)

    async def clock(self) -> tuple[float, float]:
        return self.cluster.clock.elapsed(), self.cluster.clock.speed


class ManualClock:
    """chaos's ClusterClock: waits in an action (drain's PDB retry) move the demo's manual clock."""

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    async def now(self) -> float:
        return self.cluster.clock.elapsed()

    async def sleep(self, seconds: float) -> None:
        await self.cluster.clock.advance(seconds, step=SETTLE_STEP)


class SimStage:
    def __init__(self, cluster: SimCluster, journal_dir: Path) -> None:
        self.cluster = cluster
        self.feed = ScriptedFeed(cluster=ClusterLabel(DEMO_CONTEXT, "embedded cluster (demo)", True))
        self.app = KstorApp(self.feed)
        self.frames = FrameBuilder(self.feed.cluster)
        self.journal = Journal(journal_dir / "journal.jsonl")
        self.env = ActionEnv(api=RegistryApi(cluster), clock=ManualClock(cluster), sim=LoopControl(cluster))
        self._source = DictSource()

    def _snapshot_source(self) -> DictSource:
        registry = self.cluster.registry
        # the stored objects themselves (read-only): the model never mutates what it is given
        listed = ((kind, registry.items(KINDS_BY_NAME[kind].plural)) for kind in KINDS)
        return DictSource((kind, obj) for kind, items in listed for obj in items)

    async def settle(self) -> None:
        await self.cluster.clock.advance(SETTLE_STEP, step=SETTLE_STEP / 4)
        self._source = source = self._snapshot_source()
        topology = TopologyBuilder(source).build()
        health = {kind: Health("synced") for kind in KINDS}
        frame = self.frames.build(source, topology, now=self.cluster.clock.now(), changed=None, health=health)
        self.feed.push(frame)

    async def advance(self, seconds: float) -> None:
        await self.cluster.clock.advance(seconds, step=SETTLE_STEP)

    async def check(self, condition: Any) -> bool:
        try:
            probe = parse_probe(condition)
        except ProbeFormatError as exc:
            raise KstorError(f"bad wait condition {condition!r}: {exc}") from None
        source = self._snapshot_source()
        context = ProbeContext(view=source, steady=lambda: _steady(source))
        ok, _why = probe.check(context)
        return ok

    async def chaos(self, action: dict[str, Any]) -> None:
        """Run a chaos action (targets may be drill references such as `{node-of: ns/pod}`);
        `{action: undo}` restores the newest action not yet restored, as `kstor chaos restore` would."""
        if action["action"] == "undo":
            pending = self.journal.pending()
            if not pending:
                raise KstorError("undo: no chaos action to undo")
            await restore_entry(self.env, self.journal, pending[0])  # newest first
            return
        options = {k: v for k, v in action.items() if k not in {"action", "target"}}
        target = resolve_target(action.get("target"), self._snapshot_source())
        made = make_action(action["action"], target or None, options)
        await run_action(self.env, made, context=DEMO_CONTEXT, kubeconfig=None, journal=self.journal)


def _steady(source: DictSource) -> tuple[bool, list[str]]:
    result = steady(TopologyBuilder(source).build())
    return result.ok, list(result.problems)


@asynccontextmanager
async def sim_stage(script: DemoScript) -> AsyncIterator[SimStage]:
    cluster = SimCluster(manual_clock=True, seed=script.name)
    await cluster.start(script.scenario)
    with tempfile.TemporaryDirectory(prefix="kstor-demo-") as journal_dir:
        try:
            yield SimStage(cluster, Path(journal_dir))
        finally:
            await cluster.stop()
            await asyncio.sleep(0)
