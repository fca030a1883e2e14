"""Incremental frames (patched from the Store's changes, screens reused by identity) show exactly what a
frame built from scratch on the same objects shows, after any sequence of changes."""

from __future__ import annotations

import copy
import random
from datetime import timedelta
from typing import Any

import pytest

from kstor.model.builder import TopologyBuilder
from kstor.model.source import DictSource
from kstor.model.types import EVENT, NODE, POD, PV, PVC, VOLUME_ATTACHMENT, Change, ChangeType, Severity
from kstor.tui.feed import ScriptedFeed
from kstor.tui.frame import SCREENS, Frame, FrameBuilder
from kstor.tui.rows import render_text
from tests.tui.conftest import SIM, wait_for
from tests.tui.factory import BASE, NOW, seed_objects, ts

Obj = dict[str, Any]
ADDED, MODIFIED, DELETED = ChangeType.ADDED, ChangeType.MODIFIED, ChangeType.DELETED


class RandomCluster:
    """The seed cluster plus a stream of random, Store-like changes (objects replaced, never mutated)."""

    def __init__(self, seed: int, *, events: int) -> None:
        self.rng = random.Random(seed)
        self.source = DictSource(seed_objects())
        self.rv = 1000
        self.gone: list[tuple[str, Obj]] = []
        self.next_event = 0
        first = [self._new_event() for _ in range(events)]
        self.source.apply(first)

    def objects(self, kind: str) -> list[Obj]:
        return list(self.source.objects(kind))

    def _bump(self, obj: Obj) -> Obj:
        new = copy.deepcopy(obj)
        self.rv += 1
        new["metadata"]["resourceVersion"] = str(self.rv)
        return new

    def _new_event(self) -> Change:
        rng = self.rng
        kind = rng.choice([k for k in (POD, PVC, PV) if self.objects(k)])
        target = rng.choice(self.objects(kind))
        m = target["metadata"]
        at = rng.randrange(0, 3600, 7)  # coarse: many events share a second, as on a busy cluster
        self.rv += 1
        self.next_event += 1
        inv = {"kind": kind, "name": m["name"], "uid": m.get("uid", "")}
        if m.get("namespace"):
            inv["namespace"] = m["namespace"]
        ev = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"rnd-{self.next_event}",
                "namespace": m.get("namespace") or "default",
                "uid": f"ev-uid-{self.next_event}",
                "resourceVersion": str(self.rv),
                "creationTimestamp": ts(at),
            },
            "involvedObject": inv,
            "reason": rng.choice(("FailedMount", "FailedAttachVolume", "ProvisioningFailed", "Pulled")),
            "message": f"random event {self.next_event}",
            "type": rng.choice(("Normal", "Warning")),
            "count": 1,
            "firstTimestamp": ts(at),
            "lastTimestamp": ts(at),
        }
        return Change(EVENT, ADDED, ev)

    def _modify(self, kind: str, obj: Obj) -> Change:
        rng = self.rng
        new = self._bump(obj)
        if kind == EVENT:
            new["count"] = int(new.get("count") or 1) + 1
            new["lastTimestamp"] = ts(rng.randrange(0, 3600, 7))  # sometimes older: it leaves the window
        elif kind == POD:
            new.setdefault("status", {})["phase"] = rng.choice(("Running", "Pending", "Failed"))
        elif kind in (PVC, PV):
            new.setdefault("status", {})["phase"] = rng.choice(("Bound", "Pending", "Lost", "Released"))
        elif kind == NODE and rng.random() < 0.5:
            new.setdefault("spec", {})["unschedulable"] = not new["spec"].get("unschedulable")
        elif kind == NODE:  # a volume leaves (or comes back to) the node's volumesInUse
            status = new.setdefault("status", {})
            attached = [v["name"] for v in status.get("volumesAttached") or ()]
            in_use = status.get("volumesInUse") or []
            status["volumesInUse"] = in_use[1:] if in_use else attached
        elif kind == VOLUME_ATTACHMENT:
            status = new.setdefault("status", {})
            status["attached"] = not status.get("attached")
        return Change(kind, MODIFIED, new)

    def batch(self) -> list[Change]:
        """A few changes, applied to the source in order (as the Store does before it hands them over)."""
        rng, out = self.rng, []
        for _ in range(rng.randint(1, 8)):
            roll = rng.random()
            if roll < 0.35:
                change = self._new_event()
            elif roll < 0.75:
                kind = rng.choice((EVENT, EVENT, POD, PVC, PV, NODE, VOLUME_ATTACHMENT))
                objs = self.objects(kind)
                if not objs:
                    continue
                change = self._modify(kind, rng.choice(objs))
            elif roll < 0.9 or not self.gone:
                kind = rng.choice((EVENT, EVENT, EVENT, POD, PVC, PV))
                objs = self.objects(kind)
                if not objs:
                    continue
                victim = rng.choice(objs)
                self.gone.append((kind, victim))
                change = Change(kind, DELETED, victim)
            else:
                kind, obj = self.gone.pop(rng.randrange(len(self.gone)))
                change = Change(kind, ADDED, self._bump(obj))
            self.source.apply([change])
            out.append(change)
        return out


def shown(frame: Frame) -> dict[str, Any]:
    """Everything a frame gives the widgets, as comparable values."""
    screens = {
        name: [
            (r.key, render_text(r, frame.now), r.ref, r.search, r.header, r.group, r.namespace)
            for r in frame.rows(name)
        ]
        for name in SCREENS
    }
    return {
        "screens": screens,
        "objects": {kind: dict(objs) for kind, objs in frame.objects.items() if objs},
        "events": {key: [id(e) for e in evs] for key, evs in frame.events.items()},
        "namespaces": frame.namespaces,
        "unhealthy": frame.unhealthy,
        "findings": frame.findings,
    }


def fresh_frame(source: DictSource, *, max_events: int, now: Any) -> Frame:
    return FrameBuilder(SIM, max_events=max_events).build(source, TopologyBuilder(source).build(), now=now)


@pytest.mark.parametrize(
    ("seed", "max_events", "events"),
    [(1, 12, 30), (2, 25, 10), (3, 240, 320)],  # small window, window not full, >200 rows (cached rows)
)
def test_incremental_frames_equal_fresh_frames(seed: int, max_events: int, events: int) -> None:
    cluster = RandomCluster(seed, events=events)
    model = TopologyBuilder(cluster.source)
    builder = FrameBuilder(SIM, max_events=max_events)
    builder.build(cluster.source, model.build(), now=NOW)
    for step in range(60):
        batch = cluster.batch()
        now = NOW + timedelta(seconds=step)
        frame = builder.build(
            cluster.source,
            model.apply(batch),
            now=now,
            changed={c.kind for c in batch},
            changes=batch,
        )
        counted = (len(frame.findings), frame.errors)  # before anything builds the list
        assert shown(frame) == shown(fresh_frame(cluster.source, max_events=max_events, now=now)), step
        expected = TopologyBuilder(cluster.source).build().findings(now=now)
        assert frame.findings == expected, step
        assert counted == (len(expected), sum(f.severity is Severity.ERROR for f in expected)), step


def test_quiet_frame_reuses_every_screen() -> None:
    """A frame with no changes hands the widgets the very same row lists (they skip the repaint work)."""
    cluster = RandomCluster(4, events=20)
    model = TopologyBuilder(cluster.source)
    builder = FrameBuilder(SIM)
    first = builder.build(cluster.source, model.build(), now=NOW)
    again = builder.build(cluster.source, model.apply([]), now=NOW, changed=set(), changes=[])
    assert all(again.rows(name) is first.rows(name) for name in SCREENS)


def test_event_only_batch_rebuilds_only_the_events_screen() -> None:
    cluster = RandomCluster(5, events=20)
    model = TopologyBuilder(cluster.source)
    builder = FrameBuilder(SIM)
    first = builder.build(cluster.source, model.build(), now=NOW)
    batch = [cluster._new_event() for _ in range(3)]
    cluster.source.apply(batch)
    frame = builder.build(cluster.source, model.apply(batch), now=NOW, changed={EVENT}, changes=batch)
    assert frame.rows("nodes") is first.rows("nodes")
    assert frame.rows("attachments") is first.rows("attachments")
    assert frame.rows("events") is not first.rows("events")
    names = {(r.obj or {}).get("metadata", {}).get("name") for r in frame.rows("events")}
    assert {c.obj["metadata"]["name"] for c in batch} <= names


async def test_app_fed_incremental_frames_shows_what_a_fresh_app_shows() -> None:
    from kstor.tui.app import KstorApp

    cluster = RandomCluster(6, events=40)
    model = TopologyBuilder(cluster.source)
    builder = FrameBuilder(SIM)
    feed = ScriptedFeed(builder.build(cluster.source, model.build(), now=NOW), cluster=SIM)
    app = KstorApp(feed)
    async with app.run_test(size=(160, 50)) as pilot:
        frame = None
        for _ in range(25):
            batch = cluster.batch()
            frame = builder.build(
                cluster.source, model.apply(batch), now=NOW, changed={c.kind for c in batch}, changes=batch
            )
            feed.push(frame)
        await wait_for(pilot, lambda: app.frame is frame)
        live = {name: app.view(name).visible_text() for name in SCREENS}
    fresh = KstorApp(ScriptedFeed(fresh_frame(cluster.source, max_events=2000, now=NOW), cluster=SIM))
    async with fresh.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: fresh.frame is not None)
        assert {name: fresh.view(name).visible_text() for name in SCREENS} == live
    assert all(live[name] for name in SCREENS)


def test_findings_count_follows_the_clock_without_building_the_list() -> None:
    """A claim becomes a finding a minute after it was created: the count moves with the clock alone."""
    from kstor.tui.findings import FindingsCache

    cluster = RandomCluster(7, events=0)
    for claim in cluster.objects(PVC):  # every claim Pending, created at a different second
        cluster.source.apply([cluster._modify(PVC, claim)])
    pending = [c for c in cluster.objects(PVC) if c.get("status", {}).get("phase") == "Pending"]
    for i, claim in enumerate(pending):
        new = copy.deepcopy(claim)
        new["metadata"]["creationTimestamp"] = ts(100 + 13 * i)
        cluster.source.apply([Change(PVC, MODIFIED, new)])
    topology = TopologyBuilder(cluster.source).build()
    cache = FindingsCache()
    counts = []
    for second in range(100, 100 + 13 * len(pending) + 90, 5):
        now = BASE + timedelta(seconds=second)
        counted = len(cache.findings(topology, now=now))
        expected = topology.findings(now=now)
        assert counted == len(expected), second
        counts.append(counted)
    assert cache.findings(topology, now=now) == expected
    assert len(set(counts)) > 2  # the sweep crossed several claims' one-minute mark


def test_drill_recovery_is_withdrawn_when_problems_come_back() -> None:
    """Recovered means steady again for good: a lull between two symptoms is not a recovery."""
    from kstor.tui.drillwatch import DrillWatch

    cluster = RandomCluster(9, events=0)
    model = TopologyBuilder(cluster.source)
    builder = FrameBuilder(SIM)
    steady = builder.build(cluster.source, model.build(), now=NOW)
    watch = DrillWatch.begin(steady, monotonic=0.0)
    claim = next(c for c in cluster.objects(PVC) if c.get("status", {}).get("phase") == "Bound")
    lost = copy.deepcopy(claim)
    lost["status"]["phase"] = "Lost"

    def frame_with(obj: Obj) -> Frame:
        change = Change(PVC, MODIFIED, obj)
        cluster.source.apply([change])
        return builder.build(cluster.source, model.apply([change]), now=NOW, changed={PVC}, changes=[change])

    watch.observe(frame_with(lost), monotonic=1.0)
    assert watch.deviation_at == 1.0 and watch.problems
    watch.observe(frame_with(claim), monotonic=2.0)
    assert watch.verdict(monotonic=2.0).startswith("recovered in")
    watch.observe(frame_with(lost), monotonic=3.0)
    assert watch.recovered_at is None and watch.verdict(monotonic=3.0).startswith("not steady")
    watch.observe(frame_with(claim), monotonic=4.0)
    assert watch.recovered_at == 4.0


async def test_ages_on_a_tab_shown_later_are_current() -> None:
    """Frames that only move the clock skip repaints; a view painted, hidden behind another tab and shown
    again paints current ages, not the lines it cached."""
    from kstor.tui.app import KstorApp

    cluster = RandomCluster(10, events=5)
    model = TopologyBuilder(cluster.source)
    builder = FrameBuilder(SIM)
    topology = model.build()
    feed = ScriptedFeed(builder.build(cluster.source, topology, now=NOW), cluster=SIM)
    app = KstorApp(feed, screen="events")
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.frame is not None)
        view = app.view("events")

        def painted_age() -> str:  # what the screen shows: the view's cached lines
            line = view.render_lines(view.size.region)[1]
            return "".join(segment.text for segment in line).split()[0]

        await pilot.pause()
        assert painted_age() == render_text(view.rows[1], NOW.timestamp()).split()[0]
        await pilot.press("1")
        later_now = NOW + timedelta(days=5)
        later = builder.build(cluster.source, topology, now=later_now, changed=set(), changes=[])
        feed.push(later)
        await wait_for(pilot, lambda: app.frame is later)
        await pilot.press("4")
        await pilot.pause()
        assert painted_age() == "5d"
