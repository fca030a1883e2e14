"""Every drill in the library runs on the embedded cluster and its measured recovery is asserted."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from chaos.drill.loader import library, load_drill
from chaos.drill.report import write_reports
from chaos.drill.runner import DrillResult, DrillRunner
from chaos.journal import Journal

SPEED = 50.0  # sim seconds per real second: each drill takes seconds


async def run_drill(name: str, tmp_path: Path) -> DrillResult:
    drill = load_drill(next(p for p in library() if p.stem == name))
    journal = Journal(tmp_path / "journal.jsonl")
    result = await DrillRunner(drill, speed=SPEED, journal=journal).run()
    failed = [f"{s.title}: {s.detail}" for s in result.slos if not s.ok]
    assert result.status == "passed", f"{result.error or ''} {failed} {result.steady_problems}"
    assert journal.pending() == [], "the rollbacks left something to restore"
    return result


def changes(result: DrillResult, text: str) -> list[str]:
    return [f"{e.t:+.1f} {e.object} {e.change}" for e in result.timeline if text in e.change]


async def test_delete_bound_pv_stays_terminating_and_steady_is_unaffected(tmp_path: Path) -> None:
    result = await run_drill("delete-bound-pv", tmp_path)
    assert result.figures is not None and not result.figures.deviated
    assert changes(result, "terminating (deletionTimestamp set)")


async def test_delete_pvc_in_use_is_held_by_pvc_protection(tmp_path: Path) -> None:
    result = await run_drill("delete-pvc-in-use", tmp_path)
    assert any(e.object == "pvc/default/data-db-1" and "terminating" in e.change for e in result.timeline)
    assert not any(e.object == "pvc/default/data-db-1" and e.change == "deleted" for e in result.timeline)


async def test_drain_detaches_and_recovers_after_uncordon(tmp_path: Path) -> None:
    result = await run_drill("drain-node-rwo", tmp_path)
    figures = result.figures
    assert figures is not None and figures.detect is not None and figures.recover is not None
    assert figures.detect < figures.recover <= 400
    assert (
        changes(result, "deleted (detached)")
        and changes(result, "cordoned")
        and changes(result, "uncordoned")
    )
    assert changes(result, "SuccessfulAttachVolume")


async def test_cordon_and_delete_local_pv_pod_stays_pending_as_documented(tmp_path: Path) -> None:
    result = await run_drill("cordon-local-pv-pod", tmp_path)
    assert result.figures is not None and result.figures.deviated and result.figures.recover is None
    assert changes(result, "node(s) were unschedulable")


async def test_nfs_outage_fails_mounts_then_recovers(tmp_path: Path) -> None:
    result = await run_drill("nfs-outage", tmp_path)
    assert result.figures is not None and result.figures.recover is not None
    assert result.figures.recover >= 60  # not before the server is back
    assert changes(result, "mount.nfs")


async def test_provisioner_down_keeps_new_claims_pending_until_it_returns(tmp_path: Path) -> None:
    result = await run_drill("provisioner-down", tmp_path)
    assert changes(result, "ExternalProvisioning")
    bound = next(s for s in result.slos if s.title.startswith("expect pvc-bound"))
    assert bound.measured is not None and bound.measured >= 55


async def test_deleted_volumeattachment_is_recreated_as_a_library_stream(tmp_path: Path) -> None:
    """The TUI's way in: an async iterator of status lines, steps and timeline entries, then the result."""
    drill = load_drill(next(p for p in library() if p.stem == "delete-volumeattachment"))
    runner = DrillRunner(drill, speed=SPEED, journal=Journal(tmp_path / "journal.jsonl"))
    seen: dict[str, list[object]] = {}
    async for kind, payload in runner.events():
        seen.setdefault(kind, []).append(payload)
    [result] = seen["result"]
    assert isinstance(result, DrillResult) and result.status == "passed"
    assert any("delete-va" in str(s) for s in seen["status"])
    first = seen["step"][0].description  # type: ignore[attr-defined]
    assert first.startswith("delete-va <va-of default/data-db-0> = csi-")  # the reference, resolved
    live = [f"{e.object} {e.change}" for e in seen["timeline"]]
    assert any(c.endswith("deleted (detached)") for c in live) and any(c.endswith(" attached") for c in live)
    assert changes(result, "deleted (detached)") and changes(result, "attached")


async def test_multi_attach_after_a_node_dies_recovers_through_out_of_service(tmp_path: Path) -> None:
    result = await run_drill("multi-attach-node-dies", tmp_path)
    assert changes(result, "Multi-Attach error for volume")
    assert changes(result, "tainted node.kubernetes.io/out-of-service:NoExecute")
    # the JUnit report a CI would read: one testcase per SLO, none failed
    paths = write_reports(result, tmp_path / "reports")
    junit = next(p for p in paths if p.name.endswith(".junit.xml"))
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and suite.get("errors") == "0"
    assert len(suite.findall("testcase")) == len(result.slos) == int(suite.get("tests", "0"))


def test_every_library_drill_has_a_run_test_here() -> None:
    source = Path(__file__).read_text()
    untested = [p.stem for p in library() if f'"{p.stem}"' not in source]
    assert untested == []


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSTOR_CONFIG", str(tmp_path / "no-config.yaml"))
