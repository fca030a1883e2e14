"""Regenerate tests/tui/seed_cluster.json: the `seed` scenario's objects, taken from the embedded cluster
after it settled and after four things went wrong on purpose (a WaitForFirstConsumer claim with no pod,
a deleted-but-protected PV, a second pod on another node using an RWO CSI claim, an NFS outage under
a new pod). The dashboard's snapshot tests read the file, so their ages and names never move.

    python tests/tui/make_seed_fixture.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kstor.kube.kinds import KINDS as KINDS_BY_NAME
from kstor.model.types import KINDS as MODEL_KINDS
from kstor.sim.cluster import SimCluster

OUT = Path(__file__).with_name("seed_cluster.json")
CONTAINER = [
    {
        "name": "app",
        "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
        "args": ["pause"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
]


async def until(what: str, cond: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"seed fixture: {what} did not happen within {timeout:g}s")
        await asyncio.sleep(0.05)


def items(reg: Any, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
    return reg.list(plural, namespace)["items"]


def events(reg: Any, reason: str, name: str) -> bool:
    return any(
        e.get("reason") == reason and e["involvedObject"]["name"] == name for e in items(reg, "events")
    )


async def main() -> None:
    cluster = SimCluster(speed=50, seed="kstor-tui-seed")
    await cluster.start("seed")
    reg = cluster.registry
    try:
        await until(
            "every pod Running",
            lambda: (
                (pods := items(reg, "pods"))
                and all(p.get("status", {}).get("phase") == "Running" for p in pods)
            ),
        )
        reg.create(
            "persistentvolumeclaims",
            {
                "metadata": {"name": "wffc-claim"},
                "spec": {
                    "storageClassName": "csi-hostpath-sc",
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
            "default",
        )
        reg.delete("persistentvolumes", "manual-pv")
        db0 = reg.get("pods", "db-0", "default")
        other = next(
            n["metadata"]["name"]
            for n in items(reg, "nodes")
            if n["metadata"]["name"].startswith("worker") and n["metadata"]["name"] != db0["spec"]["nodeName"]
        )
        reg.create(
            "pods",
            {
                "metadata": {"name": "db-0-reader"},
                "spec": {
                    "nodeName": other,
                    "containers": CONTAINER,
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}],
                },
            },
            "default",
        )
        reg.patch("deployments", "nfs-server", {"spec": {"replicas": 0}}, "nfs")
        await until(
            "NFS server down",
            lambda: (
                not items(reg, "pods", "nfs")
                or all(not p["metadata"]["name"].startswith("nfs-server") for p in items(reg, "pods", "nfs"))
            ),
        )
        reg.create(
            "pods",
            {
                "metadata": {"name": "nfs-reader"},
                "spec": {
                    "containers": CONTAINER,
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "shared-data"}}],
                },
            },
            "default",
        )
        await until("Multi-Attach", lambda: events(reg, "FailedAttachVolume", "db-0-reader"))
        await until("FailedMount", lambda: events(reg, "FailedMount", "nfs-reader"))
        await until("WaitForFirstConsumer", lambda: events(reg, "WaitForFirstConsumer", "wffc-claim"))
        objects = {kind: items(reg, KINDS_BY_NAME[kind].plural) for kind in MODEL_KINDS}
        doc = {"now": cluster.clock.now().isoformat(), "objects": objects}
        OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"wrote {OUT} ({sum(len(v) for v in objects.values())} objects)")
    finally:
        await cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
