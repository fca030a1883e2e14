"""Pure pieces of drills: figures from samples, SLO verdicts, the timeline's wording, the journal file."""

from __future__ import annotations

import json
from pathlib import Path

from chaos.drill.measure import judge, times
from chaos.drill.model import Slo
from chaos.drill.observer import Sample
from chaos.drill.probes import parse_probe
from chaos.drill.timeline import describe
from chaos.journal import Journal


def samples(*points: tuple[float, bool]) -> list[Sample]:
    return [Sample(t, ok) for t, ok in points]


def test_detection_and_recovery_are_measured_from_the_injection() -> None:
    steady = samples(
        (5, True), (10, True), (12, False), (20, False), (31, True), (33, False), (40, True), (50, True)
    )
    figures = times(steady, inject_at=10)
    assert figures.detect == 2 and figures.recover == 30  # recovery counts from the last relapse
    assert times(samples((5, True), (20, True)), inject_at=10).recover == 0
    assert times(samples((5, True), (20, False)), inject_at=10).recover is None


def test_slo_verdicts() -> None:
    figures = times(samples((0, True), (3, False), (9, True)), inject_at=0)
    assert judge(Slo("time-to-detect", 5, None, 1), figures=figures, probe_samples=[], inject_at=0).ok
    late = judge(Slo("time-to-recover", 5, None, 2), figures=figures, probe_samples=[], inject_at=0)
    assert not late.ok and late.measured == 9
    probe = parse_probe("no-multi-attach")
    expect = Slo("expect", 10, probe, 3)
    assert (
        judge(expect, figures=figures, probe_samples=samples((1, False), (4, True)), inject_at=0).measured
        == 4
    )
    assert not judge(expect, figures=figures, probe_samples=samples((1, False), (11, True)), inject_at=0).ok
    hold = Slo("hold", 10, probe, 4)
    assert judge(
        hold, figures=figures, probe_samples=samples((0, False), (1, True), (11, True)), inject_at=0
    ).ok
    broke = judge(
        hold, figures=figures, probe_samples=samples((1, True), (5, False), (12, True)), inject_at=0
    )
    assert not broke.ok and "broke 4.0s after" in broke.detail
    short = judge(hold, figures=figures, probe_samples=samples((1, True), (5, True)), inject_at=0)
    assert not short.ok and "ended before" in short.detail


def test_timeline_words_for_storage_changes() -> None:
    pv_old = {"metadata": {"name": "pv-1", "uid": "a"}, "status": {"phase": "Bound"}}
    pv_new = {
        "metadata": {"name": "pv-1", "uid": "a", "deletionTimestamp": "x"},
        "status": {"phase": "Released"},
    }
    assert describe("PersistentVolume", pv_old, pv_new) == (
        "pv/pv-1",
        ["phase Bound -> Released", "terminating (deletionTimestamp set)"],
    )
    pod_old = {"metadata": {"name": "db-0", "namespace": "d", "uid": "1"}, "spec": {"nodeName": "n1"}}
    pod_new = {
        "metadata": {"name": "db-0", "namespace": "d", "uid": "2"},
        "spec": {},
        "status": {"phase": "Pending"},
    }
    assert describe("Pod", pod_old, pod_new) == ("pod/d/db-0", ["deleted", "created (phase Pending)"])
    event = {
        "metadata": {"name": "e", "namespace": "d"},
        "involvedObject": {"kind": "Pod", "namespace": "d", "name": "web-1"},
        "type": "Warning",
        "reason": "FailedMount",
        "message": "boom",
        "count": 3,
    }
    assert describe("Event", {**event, "count": 2}, event) == (
        "pod/d/web-1",
        ["Warning FailedMount: boom (x3)"],
    )
    assert describe("Event", event, event) == ("", [])


def test_journal_survives_a_torn_last_line_and_lists_newest_first(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    first = journal.begin(
        action="cordon",
        target="n1",
        context="kind-a",
        kubeconfig=None,
        previous={},
        restore=[{"op": "uncordon", "node": "n1"}],
    )
    second = journal.begin(
        action="kill-nfs",
        target="",
        context="kind-a",
        kubeconfig=None,
        previous={},
        restore=[{"op": "scale"}],
    )
    journal.mark(first, "done")
    with journal.path.open("a") as fh:
        fh.write('{"id": "' + second + '", "event": "rest')  # the process died mid-write
    assert [e.id for e in journal.pending()] == [second, first]
    journal.mark(second, "restored")  # the next line starts on a line of its own
    assert [e.id for e in journal.pending()] == [first]
    assert json.loads(journal.path.read_text().splitlines()[0])["event"] == "begin"


async def test_restore_forgets_entries_whose_embedded_cluster_died_with_its_drill(tmp_path: Path) -> None:
    from chaos.restore import restore_journal

    journal = Journal(tmp_path / "j.jsonl")
    journal.begin(
        action="cordon",
        target="worker-1",
        context="kstor-sim",
        kubeconfig=str(tmp_path / "gone"),
        previous={},
        restore=[{"op": "uncordon", "node": "worker-1"}],
    )
    lines: list[str] = []
    assert await restore_journal(journal, out=lines.append) == 0
    assert lines == ["cordon worker-1: its embedded cluster is gone; nothing to restore"]
    assert journal.pending() == []


async def test_restore_with_a_context_only_touches_that_contexts_entries(tmp_path: Path) -> None:
    from chaos.restore import restore_journal

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-b\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: kind-b, context: {cluster: c, user: u}}]\n"
    )
    journal = Journal(tmp_path / "j.jsonl")
    journal.begin(
        action="cordon",
        target="n1",
        context="kind-a",
        kubeconfig=None,
        previous={},
        restore=[{"op": "uncordon", "node": "n1"}],
    )
    lines: list[str] = []
    assert await restore_journal(journal, kubeconfig=str(kubeconfig), out=lines.append) == 0
    assert lines == [
        "leaving 1 action(s) done on other contexts (kind-a) for later",
        f"nothing to restore ({journal.path})",
    ]
    assert len(journal.pending()) == 1
