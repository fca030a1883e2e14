"""Benchmark: the embedded API server's list and watch throughput over HTTPS.

    python tests/perf/bench_apiserver.py [--quick]

A child process runs the server (Registry + ApiServer, bulk-loaded with nodes, PVs, PVCs and pods);
this process is a raw aiohttp client (no model classes). Figures are also given as ratios to the
serialization floor: `json.dumps` of the same objects, timed in this process. Targets: a full list
within 2x of the floor; watch delivery >= 20,000 events/s to one watcher and >= 5,000 events/s each
to 10 watchers. Prints a table, then one JSON line of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import ssl
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

NAMESPACES = 50
FULL = {
    "nodes": 5_000,
    "persistentvolumes": 50_000,
    "persistentvolumeclaims": 50_000,
    "pods": 50_000,
    "changes": 10_000,
}
PATHS = {
    "nodes": "/api/v1/nodes",
    "persistentvolumes": "/api/v1/persistentvolumes",
    "persistentvolumeclaims": "/api/v1/persistentvolumeclaims",
    "pods": "/api/v1/pods",
}


# --- objects (realistic sizes: what a kubelet / controllers write) -----------------------------------
def node(i: int) -> dict[str, Any]:
    name = f"node-{i:05d}"
    conditions = [
        {
            "type": t,
            "status": "False",
            "reason": f"KubeletHas{t}",
            "message": "kubelet is fine",
            "lastHeartbeatTime": "2026-01-01T12:00:00Z",
            "lastTransitionTime": "2026-01-01T12:00:00Z",
        }
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": "2026-01-01T12:00:00Z",
            "lastTransitionTime": "2026-01-01T12:00:00Z",
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/zone": f"zone-{i % 3}",
            },
        },
        "spec": {"podCIDR": f"10.{i // 250}.{i % 250}.0/24"},
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "7800m", "memory": "31Gi", "pods": "110"},
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.{i // 250}.{i % 250}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Ubuntu 24.04 LTS",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kernelVersion": "6.8.0-45-generic",
                "architecture": "amd64",
                "operatingSystem": "linux",
            },
        },
    }


def pv(i: int) -> dict[str, Any]:
    ns, claim = f"ns-{i % NAMESPACES}", f"data-{i:05d}"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{i:08d}",
            "finalizers": ["kubernetes.io/pv-protection"],
            "annotations": {"pv.kubernetes.io/provisioned-by": "disk.csi.example.com"},
        },
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "fast",
            "volumeMode": "Filesystem",
            "csi": {"driver": "disk.csi.example.com", "volumeHandle": f"vol-{i:08d}", "fsType": "ext4"},
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "namespace": ns,
                "name": claim,
                "uid": f"00000000-0000-0000-0000-{i:012d}",
                "apiVersion": "v1",
            },
        },
        "status": {"phase": "Bound"},
    }


def pvc(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": f"data-{i:05d}",
            "namespace": f"ns-{i % NAMESPACES}",
            "finalizers": ["kubernetes.io/pvc-protection"],
            "annotations": {
                "pv.kubernetes.io/bind-completed": "yes",
                "volume.kubernetes.io/storage-provisioner": "disk.csi.example.com",
            },
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "10Gi"}},
            "storageClassName": "fast",
            "volumeMode": "Filesystem",
            "volumeName": f"pvc-{i:08d}",
        },
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}},
    }


def pod(i: int, nodes: int) -> dict[str, Any]:
    name = f"app-{i:05d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": f"ns-{i % NAMESPACES}", "labels": {"app": f"app-{i % 100}"}},
        "spec": {
            "nodeName": f"node-{i % nodes:05d}",
            "restartPolicy": "Always",
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example.com/app:1.4.2",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{i:05d}"}}],
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.1.{i // 250 % 250}.{i % 250}",
            "qosClass": "Burstable",
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": "2026-01-01T12:00:00Z"}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": 0,
                    "image": "registry.example.com/app:1.4.2",
                    "state": {"running": {"startedAt": "2026-01-01T12:00:05Z"}},
                }
            ],
        },
    }


# --- the server process -------------------------------------------------------------------------------
def server_main(conn: Connection, sizes: dict[str, int]) -> None:
    asyncio.run(_serve(conn, sizes))


async def _serve(conn: Connection, sizes: dict[str, int]) -> None:
    from kstor.sim.apiserver.registry import Registry
    from kstor.sim.apiserver.server import ApiServer
    from kstor.sim.clock import Clock

    registry = Registry(Clock(1.0), history_size=max(20_000, sizes["changes"] * 2))
    start = time.perf_counter()
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": f"ns-{i}"},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        for i in range(NAMESPACES)
    ]
    objects += [node(i) for i in range(sizes["nodes"])]
    objects += [pv(i) for i in range(sizes["persistentvolumes"])]
    objects += [pvc(i) for i in range(sizes["persistentvolumeclaims"])]
    objects += [pod(i, sizes["nodes"]) for i in range(sizes["pods"])]
    registry.load(objects)
    load_s = time.perf_counter() - start
    server = ApiServer(registry=registry)
    await server.start(0)
    conn.send(
        {
            "url": server.url,
            "token": server.token,
            "ca": server.cert.ca_pem.decode(),
            "load_s": load_s,
            "objects": len(objects),
        }
    )
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command[0] == "mutate":
            before = registry.resource_version
            t0 = time.perf_counter()
            for i in range(command[1]):
                registry.patch(
                    "pods",
                    f"app-{i % sizes['pods']:05d}",
                    {"metadata": {"annotations": {"bench/change": str(i)}}},
                    f"ns-{i % sizes['pods'] % NAMESPACES}",
                )
            conn.send({"from_rv": before, "seconds": time.perf_counter() - t0})
        else:
            await server.stop()
            conn.send("stopped")
            return


# --- the client ---------------------------------------------------------------------------------------
def floor_seconds(objects: list[dict[str, Any]], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        json.dumps(objects)
        best = min(best, time.perf_counter() - t0)
    return best


async def timed_list(session: aiohttp.ClientSession, url: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    async with session.get(url) as resp:
        resp.raise_for_status()
        body = await resp.read()
    return time.perf_counter() - t0, body


async def warm_connections(session: aiohttp.ClientSession, base: str, count: int) -> None:
    """Open `count` pooled TLS connections first: the figures are about delivery, not handshakes."""

    async def one() -> None:
        async with session.get(base + "/version") as resp:
            await resp.read()

    await asyncio.gather(*(one() for _ in range(count)))


async def watch_count(
    session: aiohttp.ClientSession, url: str, from_rv: int, want: int
) -> tuple[float, list[bytes]]:
    params = {"watch": "1", "resourceVersion": str(from_rv), "timeoutSeconds": "600"}
    lines: list[bytes] = []
    t0 = time.perf_counter()
    async with session.get(url, params=params) as resp:
        resp.raise_for_status()
        buffer = b""
        async for chunk in resp.content.iter_any():
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            lines.extend(line for line in done if line)
            if len(lines) >= want:
                break
    return time.perf_counter() - t0, lines


async def client(info: dict[str, Any], conn: Connection, sizes: dict[str, int]) -> dict[str, Any]:
    ctx = ssl.create_default_context(cadata=info["ca"])
    headers = {"Authorization": f"Bearer {info['token']}", "Accept": "application/json"}
    figures: dict[str, Any] = {"load_s": round(info["load_s"], 2), "objects": info["objects"]}
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(
        headers=headers, connector=aiohttp.TCPConnector(ssl=ctx), timeout=timeout, read_bufsize=1 << 20
    ) as session:
        async with session.get(info["url"] + "/version") as resp:  # connection + TLS setup, not list cost
            resp.raise_for_status()
        rows = []
        for plural, path in PATHS.items():
            cold, body = await timed_list(session, info["url"] + path)
            warm, _ = await timed_list(session, info["url"] + path)
            items = json.loads(body)["items"]
            floor = floor_seconds(items)
            n = len(items)
            rows.append((plural, n, n / cold, n / warm, cold / floor, warm / floor))
            figures[f"list_{plural}_objects_per_s"] = round(n / warm)
            figures[f"list_{plural}_ratio_to_floor"] = round(warm / floor, 2)
            figures[f"list_{plural}_first_ratio_to_floor"] = round(cold / floor, 2)
        header = ("list", "objects", "first obj/s", "again obj/s", "first/floor", "again/floor")
        print(f"{header[0]:<24}{header[1]:>9}" + "".join(f"{h:>13}" for h in header[2:]))
        for plural, n, cold_rate, warm_rate, cold_ratio, warm_ratio in rows:
            print(
                f"{plural:<24}{n:>9}{cold_rate:>13,.0f}{warm_rate:>13,.0f}{cold_ratio:>12.2f}{warm_ratio:>12.2f}"
            )

        changes = sizes["changes"]
        conn.send(("mutate", changes))
        mutated = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        figures["writes_per_s"] = round(changes / mutated["seconds"])
        url = info["url"] + PATHS["pods"]
        await warm_connections(session, info["url"], 10)
        one_s, lines = await watch_count(session, url, mutated["from_rv"], changes)
        changed = [json.loads(line)["object"] for line in lines]
        floor = floor_seconds(changed)
        await warm_connections(session, info["url"], 10)
        many = await asyncio.gather(
            *(watch_count(session, url, mutated["from_rv"], changes) for _ in range(10))
        )
        slowest = max(s for s, _ in many)
        figures.update(
            {
                "watch_1_events_per_s": round(changes / one_s),
                "watch_1_ratio_to_floor": round(one_s / floor, 2),
                "watch_10_events_per_s_each": round(changes / slowest),
                "watch_10_ratio_to_floor": round(slowest / floor, 2),
            }
        )
        print(f"\n{'watch':<24}{'events':>9}{'events/s':>13}{'time/floor':>12}")
        print(f"{'1 watcher':<24}{changes:>9}{changes / one_s:>13,.0f}{one_s / floor:>12.2f}")
        print(f"{'10 watchers (each)':<24}{changes:>9}{changes / slowest:>13,.0f}{slowest / floor:>12.2f}")
        print(
            f"\nbulk load {info['objects']} objects: {info['load_s']:.2f}s; "
            f"writes (merge patch via Registry): {figures['writes_per_s']:,}/s"
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer objects and changes")
    args = parser.parse_args()
    sizes = {k: v // 10 for k, v in FULL.items()} if args.quick else dict(FULL)
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=server_main, args=(child, sizes), daemon=True)
    proc.start()
    try:
        if not parent.poll(600):
            print("server did not start", file=sys.stderr)
            return 1
        info = parent.recv()
        figures = asyncio.run(client(info, parent, sizes))
        parent.send(("stop",))
        parent.poll(30)
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
    figures["quick"] = args.quick
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
