"""How fast the embedded cluster converges: every PVC Bound and every pod Running.

    python tests/perf/bench_sim_converge.py [--quick] [--speed 1000] [--timeout 600]

Full run: the `large` scenario (1,000 nodes, 10,000 PVCs, 10,000 pods). `--quick`: the same shape
at a tenth of the size, generated into a temporary file. Reports wall time to converge, sim time
it covered, controller CPU seconds per 1,000 objects, and the ratio of the converge time to the time
the same process took to load the scenario through the registry (the baseline: creating objects
only, no control loop). Target: converged within 60 s wall at speed 1000 on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from kstor.sim.cluster import SimCluster
from kstor.sim.scenario import load_scenario, nfs_provisioner_deployment, resolve

POLL_SECONDS = 1.0


def quick_scenario(folder: Path) -> Path:
    """`large` divided by ten: 100 nodes, 1,000 PVCs, 1,000 pods."""
    text = resolve("large").read_text()
    text = text.replace("count: 1000", "count: 100").replace("name: large", "name: large-quick")
    text = re.sub(r"copies: (\d+)", lambda m: f"copies: {int(m.group(1)) // 10}", text)
    path = folder / "large-quick.yaml"
    path.write_text(text)
    return path


def progress(cluster: SimCluster) -> tuple[int, int, int, int]:
    """(bound claims, claims, running pods, pods) read from the stored objects without copying."""
    claims = cluster.registry.items("persistentvolumeclaims")
    pods = cluster.registry.items("pods")
    bound = sum(1 for c in claims if c.get("status", {}).get("phase") == "Bound")
    running = sum(1 for p in pods if p.get("status", {}).get("phase") == "Running")
    return bound, len(claims), running, len(pods)


def expected_pods(cluster: SimCluster) -> int:
    reg = cluster.registry
    total = sum(d["spec"].get("replicas", 1) for d in reg.items("deployments"))
    total += sum(s["spec"].get("replicas", 1) for s in reg.items("statefulsets"))
    return total + sum(1 for p in reg.items("pods") if not p["metadata"].get("ownerReferences"))


def expected_claims(cluster: SimCluster) -> int:
    reg = cluster.registry
    loaded = sum(1 for c in reg.items("persistentvolumeclaims") if not c["metadata"].get("labels"))
    templates = sum(
        s["spec"].get("replicas", 1) * len(s["spec"].get("volumeClaimTemplates") or [])
        for s in reg.items("statefulsets")
    )
    return loaded + templates


STORAGE_LOOPS = ("pv-controller", "pvc-protection-controller", "pv-protection-controller", "nfs-provisioner")


def storage_objects(claims: int) -> list[tuple[str, dict, str | None]]:
    """Half the claims bind static `manual` PVs (of mixed sizes), half are NFS-provisioned."""
    objs: list[tuple[str, dict, str | None]] = [
        ("namespaces", {"metadata": {"name": n}}, None) for n in ("nfs", "b")
    ]
    objs.append(
        (
            "storageclasses",
            {"metadata": {"name": "nfs"}, "provisioner": "k8s-sigs.io/nfs-subdir-external-provisioner"},
            None,
        )
    )
    objs.append(
        (
            "deployments",
            nfs_provisioner_deployment(
                "nfs", "k8s-sigs.io/nfs-subdir-external-provisioner", "10.96.0.200", "/exports"
            ),
            "nfs",
        )
    )
    for i in range(claims // 2):
        spec = {
            "capacity": {"storage": f"{1 + i % 7}Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "manual",
            "nfs": {"server": "10.96.0.200", "path": f"/exports/s{i}"},
        }
        objs.append(("persistentvolumes", {"metadata": {"name": f"pv-{i}"}, "spec": spec}, None))
    for i in range(claims):
        cls = "manual" if i % 2 else "nfs"
        spec = {
            "storageClassName": cls,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{1 + i % 3}Gi"}},
        }
        objs.append(("persistentvolumeclaims", {"metadata": {"name": f"c-{i}"}, "spec": spec}, "b"))
    return objs


async def run_storage_only(claims: int, *, speed: float, timeout: float) -> dict[str, float]:
    """The storage loops alone (no scheduler or kubelets): every claim Bound."""
    cluster = SimCluster(speed=speed)
    reg = cluster.registry
    wall0 = time.perf_counter()
    for plural, obj, ns in storage_objects(claims):
        reg.create(plural, obj, ns)
    load_wall = time.perf_counter() - wall0
    pod = {
        "metadata": {
            "name": "nfs-subdir-external-provisioner-0",
            "labels": {"app": "nfs-subdir-external-provisioner"},
        },
        "spec": {"containers": [{"name": "p", "image": "p"}], "nodeName": "n"},
    }
    reg.create("pods", pod, "nfs")
    running = reg.get("pods", pod["metadata"]["name"], "nfs")
    running["status"]["phase"] = "Running"
    reg.update("pods", running, "nfs", subresource="status")
    cluster.world["nfs_up"] = True
    cpu1, wall1 = time.process_time(), time.perf_counter()
    cluster.build()
    for name in STORAGE_LOOPS:
        cluster.controllers.start(name)
    bound = 0
    while time.perf_counter() - wall1 < timeout:
        await asyncio.sleep(0.5)
        bound = progress(cluster)[0]
        if bound >= claims:
            break
    wall, cpu = time.perf_counter() - wall1, time.process_time() - cpu1
    await cluster.stop()
    return {
        "storage_claims": claims,
        "storage_bound": bound,
        "storage_load_wall_s": round(load_wall, 3),
        "storage_bind_wall_s": round(wall, 3),
        "storage_cpu_s_per_1000_claims": round(cpu / claims * 1000, 4),
        "storage_bind_vs_load_ratio": round(wall / load_wall, 2) if load_wall else 0.0,
    }


async def run(scenario: Path | str, *, speed: float, timeout: float) -> dict[str, float]:
    cluster = SimCluster(speed=speed)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    load_scenario(cluster, scenario)
    load_wall, load_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    want_pods, want_claims = expected_pods(cluster), expected_claims(cluster)
    objects = len(cluster.registry.items("nodes")) + want_pods + want_claims

    cpu1, wall1, sim1 = time.process_time(), time.perf_counter(), cluster.clock.elapsed()
    cluster.build()
    cluster.controllers.start_all()
    converged = False
    print(f"{'wall s':>8} {'bound':>13} {'running':>13}")
    while time.perf_counter() - wall1 < timeout:
        await asyncio.sleep(POLL_SECONDS)
        bound, claims, running, pods = progress(cluster)
        elapsed = time.perf_counter() - wall1
        print(f"{elapsed:8.1f} {bound:6}/{want_claims:<6} {running:6}/{want_pods:<6}", flush=True)
        if bound >= want_claims and claims >= want_claims and running >= want_pods and pods >= want_pods:
            converged = True
            break
    wall = time.perf_counter() - wall1
    cpu = time.process_time() - cpu1
    sim = cluster.clock.elapsed() - sim1
    await cluster.stop()
    return {
        "objects": objects,
        "converged": float(converged),
        "load_wall_s": round(load_wall, 3),
        "load_cpu_s": round(load_cpu, 3),
        "converge_wall_s": round(wall, 3),
        "converge_sim_s": round(sim, 1),
        "controller_cpu_s": round(cpu, 3),
        "cpu_s_per_1000_objects": round(cpu / objects * 1000, 4),
        "converge_vs_load_ratio": round(wall / load_wall, 2) if load_wall else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the large scenario")
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many wall seconds")
    parser.add_argument("--only", choices=("storage", "cluster"), help="run one of the two measurements")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scenario: Path | str = quick_scenario(Path(tmp)) if args.quick else "large"
        claims = 1000 if args.quick else 10000
        figures: dict[str, float] = {}
        if args.only != "cluster":
            figures = asyncio.run(run_storage_only(claims, speed=args.speed, timeout=args.timeout))
            print(f"storage loops alone: {figures}", flush=True)
        if args.only != "storage":
            figures.update(asyncio.run(run(scenario, speed=args.speed, timeout=args.timeout)))
    print()
    print(f"{'figure':<26} {'value':>12}")
    for key, value in figures.items():
        print(f"{key:<26} {value:>12}")
    figures["quick"] = float(args.quick)
    figures["speed"] = args.speed
    # wall-clock figures depend on what else the machine runs: record it with them
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    figures["cpus"] = float(os.cpu_count() or 1)
    print(json.dumps(figures))
    ok = figures.get("converged", 1.0) and figures.get("storage_bound", 0) >= figures.get("storage_claims", 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
