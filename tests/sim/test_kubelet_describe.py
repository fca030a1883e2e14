"""Through the HTTPS server: `kubectl describe pod` and the official client see what a real cluster shows."""

from __future__ import annotations

import re
import shutil
import subprocess

import kubernetes
import pytest
from test_kubelet_mounts import nfs_app
from test_sched_world import base_world, pods, ready

from kstor.sim.testing import SimServerThread, wait_for

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


def kubectl(sim: SimServerThread, *args: str) -> str:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(sim.kubeconfig), *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_kubectl_describe_pod_shows_real_events(sim: SimServerThread) -> None:
    def setup() -> None:
        base_world(sim.cluster)
        nfs_app(sim.cluster)

    sim.call(setup)
    web = wait_for(
        lambda: [p for p in sim.call(pods, sim.cluster, "default", "web-") if ready(p)],
        timeout=30,
        message="web Ready",
    )
    name, node = web[0]["metadata"]["name"], web[0]["spec"]["nodeName"]
    text = kubectl(sim, "describe", "pod", name)
    assert re.search(rf"^Node:\s+{node}/172\.18\.0\.\d+$", text, re.M)
    assert re.search(r"^Status:\s+Running$", text, re.M)
    assert re.search(r"^\s+ClaimName:\s+shared$", text, re.M)
    assert re.search(r"^\s+Ready\s+True\s*$", text, re.M)
    events = text.split("Events:", 1)[1]
    assert re.search(
        rf"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/{name} to {node}",
        events,
    )
    assert re.search(
        r"Normal\s+Pulled\s+\S+\s+kubelet\s+Container image \"registry.k8s.io/pause:3.10\" already present",
        events,
    )
    assert re.search(r"Normal\s+Created\s+\S+\s+kubelet\s+Created container: app", events)
    assert re.search(r"Normal\s+Started\s+\S+\s+kubelet\s+Started container app", events)

    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(sim.kubeconfig)))
    listed = api.list_namespaced_pod("default", field_selector=f"spec.nodeName={node}")
    pod = next(p for p in listed.items if p.metadata.name == name)
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].ready is True
    node_obj = api.read_node(node)
    assert {c.type: c.status for c in node_obj.status.conditions}["Ready"] == "True"
