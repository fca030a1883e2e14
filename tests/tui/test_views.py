"""Row builders, without Textual: what each screen would print for the seed-like cluster."""

from __future__ import annotations

from kstor.tui.rows import filter_rows, format_age, render_text
from tests.tui.conftest import FrameMaker
from tests.tui.factory import NOW


def texts(maker: FrameMaker, screen: str) -> list[str]:
    frame = maker.frame()
    return [render_text(r, frame.now) for r in frame.rows(screen)]


def test_nodes_screen_has_a_section_per_node_with_pods_and_badges(maker: FrameMaker) -> None:
    lines = texts(maker, "nodes")
    joined = "\n".join(lines)
    for node in ("worker-1", "worker-2", "worker-3"):
        assert any(line.startswith(f" {node} ") for line in lines), node
    web = next(line for line in lines if line.strip().startswith("data ") and "pvc data-web-0" in line)
    assert "pv pvc-csi-web" in web and "csi-hostpath-sc (hostpath.csi.k8s.io)" in web
    assert " Bound " in web and " Attached " in web and " Mounted " in web
    assert "/var/lib/kubelet/pods/uid-default-web-0/volumes/kubernetes.io~csi/" in web
    assert "cordoned" in next(line for line in lines if line.startswith(" worker-2 "))
    assert "NotReady" in next(line for line in lines if line.startswith(" worker-3 ")) or "Unknown" in next(
        line for line in lines if line.startswith(" worker-3 ")
    )
    assert "On no node" in joined


def test_unhealthy_volumes_say_why(maker: FrameMaker) -> None:
    joined = "\n".join(texts(maker, "nodes"))
    assert "MultiAttach" in joined and "Multi-Attach error" in joined
    assert "MountFailed" in joined and "exit status 32" in joined


def test_pending_wffc_claim_and_terminating_pv_are_shown(maker: FrameMaker) -> None:
    nodes = "\n".join(texts(maker, "nodes"))
    assert "wffc-claim" in nodes and "WaitForFirstConsumer" in nodes
    binding = texts(maker, "binding")
    wffc = next(line for line in binding if line.startswith("default/wffc-claim"))
    assert "Pending" in wffc and "waiting for first consumer" in wffc
    keep = next(line for line in binding if line.startswith("default/keep-claim"))
    assert "pv-keep" in keep and "Terminating" in keep
    spare = next(line for line in binding if "pv-spare" in line)
    assert "Available" in spare


def test_binding_screen_lists_classes_with_mode_and_default(maker: FrameMaker) -> None:
    lines = texts(maker, "binding")
    csi = next(line for line in lines if line.startswith("csi-hostpath-sc "))
    assert "WaitForFirstConsumer" in csi and "yes" in csi
    nfs = next(line for line in lines if line.startswith("nfs-client-storageclass "))
    assert "k8s-sigs.io/nfs-subdir-external-provisioner" in nfs and "Immediate" in nfs


def test_attachments_screen_lists_vas_and_node_volumes(maker: FrameMaker) -> None:
    lines = texts(maker, "attachments")
    va = next(line for line in lines if line.startswith("csi-aaa111"))
    assert "pvc-csi-web" in va and "worker-1" in va and "true" in va
    assert any("hostpath.csi.k8s.io^pvc-csi-shared-handle" in line and "yes" in line for line in lines)


def test_events_newest_first_with_counts(maker: FrameMaker) -> None:
    lines = texts(maker, "events")
    body = lines[1:]
    assert "WaitForFirstConsumer" in body[0] and " 9 " in body[0]
    assert "FailedMount" in body[1] and "Warning" in body[1]
    assert "FailedAttachVolume" in body[2]


def test_filter_keeps_matching_rows_and_their_section(maker: FrameMaker) -> None:
    frame = maker.frame()
    rows = filter_rows(frame.rows("nodes"), "mover-b", namespace=None)
    shown = [render_text(r, frame.now) for r in rows]
    assert any(line.startswith(" worker-3 ") for line in shown)
    assert any("mover-b" in line for line in shown)
    assert not any("web-0" in line for line in shown)


def test_ages_are_relative_to_the_frame_clock(maker: FrameMaker) -> None:
    frame = maker.frame()
    assert frame.now == NOW.timestamp()
    assert format_age(59) == "59s" and format_age(3600) == "60m" and format_age(3 * 86400) == "3d"
