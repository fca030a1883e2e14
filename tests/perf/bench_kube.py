"""kstor.kube benchmarks: initial sync vs a plain paginated list, store memory, watch ingestion.

    python tests/perf/bench_kube.py [--quick] [--sim]

1. sync: informers (list + store) vs plain paginated GET + json.loads of the same objects from the same
   server, both concurrent across kinds (target <= 1.5x). Server: the embedded cluster's HTTPS API when
   `kstor.sim.testing` is available (bulk-loaded), else an in-process fake list server.
2. memory: a 50,000-object store (tracemalloc) per object, against the JSON bytes received (target
   overhead < 4 KB/object).
3. watch: a server streams watch events at 5,000/s; the store (and kstor.model's builder, if present)
   must keep up: sent and achieved rate, the lag per event and its growth (median lag of the last
   fifth of the stream minus that of the second fifth: a consumer that cannot keep up shows a lag that
   grows with the stream). Also the ceiling rate (as fast as the server can send).
Ends with one JSON line of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from kstor.kube import gctune  # noqa: E402
from kstor.kube.cluster import Cluster  # noqa: E402
from kstor.kube.connect import connect  # noqa: E402
from kstor.kube.informer import Informer, InformerOptions  # noqa: E402
from kstor.kube.kinds import KINDS  # noqa: E402
from kstor.kube.store import Store  # noqa: E402

MANAGED = [
    {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "apiVersion": "v1",
        "time": "2026-11-26T18:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:status": {"f:phase": {}, "f:conditions": {".": {}, 'k:{"type":"Ready"}': {}}}},
    }
]


def make_pod(i: int, nodes: int) -> dict:
    ns, name = f"ns-{i % 50}", f"app-{i}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"00000000-0000-0000-0000-{i:012d}",
            "resourceVersion": str(1000 + i),
            "creationTimestamp": "2026-11-26T18:00:00Z",
            "labels": {"app": f"app-{i % 100}", "pod-template-hash": "5d8f7c9b"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"rs-{i % 100}",
                    "uid": "rs-uid",
                    "controller": True,
                }
            ],
            "managedFields": MANAGED,
        },
        "spec": {
            "nodeName": f"node-{i % nodes}",
            "schedulerName": "default-scheduler",
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example/app:1.2.3",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{i}"}}],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.0.{i // 250 % 250}.{i % 250}",
            "hostIP": "192.168.0.1",
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": "2026-11-26T18:00:00Z"}
                for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": 0,
                    "image": "registry.example/app:1.2.3",
                    "state": {"running": {"startedAt": "2026-11-26T18:00:01Z"}},
                }
            ],
        },
    }


def make_pvc(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": f"data-{i}",
            "namespace": f"ns-{i % 50}",
            "uid": f"pvc-uid-{i}",
            "resourceVersion": str(50000 + i),
            "finalizers": ["kubernetes.io/pvc-protection"],
            "annotations": {
                "pv.kubernetes.io/bind-completed": "yes",
                "volume.kubernetes.io/storage-provisioner": "csi.example.com",
            },
            "managedFields": MANAGED,
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "fast",
            "volumeMode": "Filesystem",
            "resources": {"requests": {"storage": "1Gi"}},
            "volumeName": f"pvc-uid-{i}",
        },
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}},
    }


def make_pv(i: int, nodes: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-uid-{i}",
            "uid": f"pv-uid-{i}",
            "resourceVersion": str(90000 + i),
            "finalizers": ["kubernetes.io/pv-protection"],
            "annotations": {"pv.kubernetes.io/provisioned-by": "csi.example.com"},
            "managedFields": MANAGED,
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "1Gi"},
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "namespace": f"ns-{i % 50}",
                "name": f"data-{i}",
                "uid": f"pvc-uid-{i}",
            },
            "csi": {"driver": "csi.example.com", "volumeHandle": f"vol-{i}", "fsType": "ext4"},
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "fast",
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "topology.kubernetes.io/zone",
                                    "operator": "In",
                                    "values": [f"zone-{i % nodes % 3}"],
                                }
                            ]
                        }
                    ]
                }
            },
        },
        "status": {"phase": "Bound"},
    }


def make_node(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{i}",
            "uid": f"node-uid-{i}",
            "resourceVersion": str(200000 + i),
            "labels": {"kubernetes.io/hostname": f"node-{i}", "topology.kubernetes.io/zone": "zone-0"},
            "managedFields": MANAGED,
        },
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "conditions": [
                {
                    "type": t,
                    "status": "False" if t != "Ready" else "True",
                    "lastHeartbeatTime": "2026-11-26T18:00:00Z",
                    "reason": "KubeletReady",
                }
                for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
            ],
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Ubuntu 24.04"},
        },
    }


def population(scale: int) -> dict[str, list[dict]]:
    nodes = max(1, scale // 10)
    return {
        "Pod": [make_pod(i, nodes) for i in range(scale)],
        "PersistentVolumeClaim": [make_pvc(i) for i in range(scale)],
        "PersistentVolume": [make_pv(i, nodes) for i in range(scale)],
        "Node": [make_node(i) for i in range(nodes)],
    }


# ---------------------------------------------------------------- a list/watch server for the bench
class ListServer:
    """Serves pre-encoded pages (so server cost is the same for both clients) and scripted watches."""

    def __init__(self, objects: dict[str, list[dict]]) -> None:
        self.pages: dict[str, list[bytes]] = {}
        for kind, items in objects.items():
            path = KINDS[kind].path()
            stripped = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items]
            chunks = [stripped[i : i + 500] for i in range(0, len(stripped), 500)] or [[]]
            self.pages[path] = [
                json.dumps(
                    {
                        "kind": "List",
                        "apiVersion": "v1",
                        "metadata": {
                            "resourceVersion": "5",
                            **({"continue": str(n + 1)} if n + 1 < len(chunks) else {}),
                        },
                        "items": chunk,
                    }
                ).encode()
                for n, chunk in enumerate(chunks)
            ]
        self.watch_lines: list[bytes] = []
        self.watch_rate = 0.0  # events/s; 0 = as fast as possible
        self.watch_done = asyncio.Event()
        self.last_write = 0.0
        self.written: list[tuple[int, float]] = []  # (index of the last event written, when)

    async def start(self) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_get("/version", lambda r: web.json_response({"major": "1"}))
        app.router.add_get("/{tail:.*}", self.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") == "true":
            return await self.stream(request)
        pages = self.pages.get(request.path)
        if pages is None:
            return web.json_response({"kind": "List", "metadata": {"resourceVersion": "5"}, "items": []})
        return web.Response(
            body=pages[int(request.query.get("continue") or 0)], content_type="application/json"
        )

    async def stream(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        await resp.prepare(request)
        lines, self.watch_lines = self.watch_lines, []
        if lines:
            tick, start = 0.01, time.perf_counter()
            per_tick = max(1, int(self.watch_rate * tick)) if self.watch_rate else 2000
            for i in range(0, len(lines), per_tick):
                if self.watch_rate:
                    delay = start + (i / self.watch_rate) - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await resp.write(b"".join(lines[i : i + per_tick]))
                self.written.append((min(i + per_tick, len(lines)) - 1, time.perf_counter()))
            self.last_write = time.perf_counter()
            self.watch_done.set()
        await asyncio.sleep(3600)
        return resp


def kubeconfig_for(port: int, path: Path) -> str:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "b",
                "clusters": [{"name": "b", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "b", "context": {"cluster": "b", "user": "u"}}],
            }
        )
    )
    return str(path)


# ---------------------------------------------------------------- measurements
async def plain_list(kubeconfig: str, kinds: list[str], *, keep: bool = False) -> tuple[float, int]:
    """Baseline: the same paginated lists with a bare aiohttp session and json.loads, nothing else
    (`keep`: also hold on to the decoded items, which any client that uses them must do)."""
    conn = await connect(kubeconfig)
    try:
        session = conn.transport.session
        headers = await conn.transport.headers()
        server = conn.transport.server

        async def one(kind: str) -> int:
            cont, n, kept = "", 0, []
            while True:
                params = {"limit": "500", **({"continue": cont} if cont else {})}
                async with session.get(server + KINDS[kind].path(), params=params, headers=headers) as resp:
                    page = json.loads(await resp.read())
                n += len(page["items"])
                if keep:
                    kept.extend(page["items"])
                cont = page["metadata"].get("continue")
                if not cont:
                    return n

        start = time.perf_counter()
        counts = await asyncio.gather(*(one(k) for k in kinds))
        return time.perf_counter() - start, sum(counts)
    finally:
        await conn.close()


async def informer_sync(kubeconfig: str, kinds: list[str]) -> tuple[float, int]:
    conn = await connect(kubeconfig)
    cluster = Cluster(conn, kinds=kinds)
    start = time.perf_counter()
    cluster.start()
    try:
        await cluster.wait_synced(600)
        return time.perf_counter() - start, sum(cluster.store.count(k) for k in kinds)
    finally:
        await cluster.close()


async def bench_sync(kubeconfig: str, kinds: list[str], rounds: int) -> dict[str, float]:
    """Rounds of the three syncs back to back (order reversed every other round, a full collection
    before each so no run pays for the previous one's garbage); each ratio is the median over rounds
    of the ratio measured within a round, so load drifting over the run cancels out."""
    await plain_list(kubeconfig, kinds)  # warm up both paths (imports, TLS, server caches)
    await informer_sync(kubeconfig, kinds)
    runs: dict[str, list[float]] = {"plain": [], "keep": [], "informer": []}
    n = 0

    async def timed(name: str) -> None:
        nonlocal n
        gc.collect()
        if name == "informer":
            t, m = await informer_sync(kubeconfig, kinds)
            assert m == n, (m, n)
        else:
            t, n = await plain_list(kubeconfig, kinds, keep=name == "keep")
        runs[name].append(t)

    for r in range(rounds):
        for name in ("plain", "keep", "informer") if r % 2 == 0 else ("informer", "keep", "plain"):
            await timed(name)
    med = statistics.median
    return {
        "objects": n,
        "rounds": rounds,
        "plain_s": med(runs["plain"]),
        "plain_keep_s": med(runs["keep"]),
        "informer_s": med(runs["informer"]),
        "ratio": med([i / p for i, p in zip(runs["informer"], runs["plain"], strict=True)]),
        "ratio_keep": med([i / k for i, k in zip(runs["informer"], runs["keep"], strict=True)]),
        "ratio_max": max(i / p for i, p in zip(runs["informer"], runs["plain"], strict=True)),
    }


def _traced(fn: Any) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used, result


def bench_memory(scale: int) -> dict[str, float]:
    """Bytes per stored object, filled the two ways a store is filled: list pages and watch events."""
    objects = population(scale)
    compact = (",", ":")  # API servers send compact JSON
    per_kind = {
        k: [json.dumps(o, separators=compact).encode() for o in items] for k, items in objects.items()
    }
    del objects
    n = sum(map(len, per_kind.values()))
    json_bytes = sum(len(b) for items in per_kind.values() for b in items)
    pages = {
        k: [
            b'{"kind":"List","metadata":{"resourceVersion":"5"},"items":['
            + b",".join(items[i : i + 500])
            + b"]}"
            for i in range(0, len(items), 500)
        ]
        for k, items in per_kind.items()
    }
    events = {k: [b'{"type":"ADDED","object":' + b + b"}" for b in items] for k, items in per_kind.items()}
    del per_kind

    def fill_from_lists() -> Store:
        store = Store()
        for kind, kind_pages in pages.items():
            inf = Informer(transport=None, store=store, kind=KINDS[kind])  # type: ignore[arg-type]
            items = [inf._prepare(o) for page in kind_pages for o in json.loads(page)["items"]]
            store.replace(kind, items)
        store.flush()
        return store

    def fill_from_watch() -> Store:
        store = Store()
        for kind, lines in events.items():
            inf = Informer(transport=None, store=store, kind=KINDS[kind])  # type: ignore[arg-type]
            for i in range(0, len(lines), 64):  # a watch chunk holds many lines
                inf._handle_lines(lines[i : i + 64])
        store.flush()
        return store

    def plain_dicts() -> list:
        return [json.loads(line) for lines in events.values() for line in lines]

    listed, store = _traced(fill_from_lists)
    del store
    watched, store = _traced(fill_from_watch)
    del store
    plain, dicts = _traced(plain_dicts)
    del dicts
    return {
        "objects": n,
        "json_b_per_obj": json_bytes / n,
        "listed_b_per_obj": listed / n,
        "watched_b_per_obj": watched / n,
        "dicts_b_per_obj": plain / n,
        "overhead_b_per_obj": (max(listed, watched) - json_bytes) / n,
    }


def watch_lines(count: int, *, listed: list[dict] | None = None) -> list[bytes]:
    """`count` watch events for up to 20,000 pods: each pod ADDED once, then MODIFIED with a status
    that flips between Running and Pending/ContainerCreating (what a kubelet writes), so every event
    changes what the model shows. The event's resourceVersion is 10000 + its index. With `listed`
    (20,000 pods the server lists first), every event is such a MODIFIED: the steady state."""
    pods = [make_pod(i, 100) for i in range(min(count, 20000))] if listed is None else listed
    first_modified = len(pods) if listed is None else 0
    pods = [json.loads(json.dumps(p)) for p in pods] if listed is not None else pods
    waiting = {"waiting": {"reason": "ContainerCreating"}}
    lines = []
    for i in range(count):
        pod = pods[i % len(pods)]
        pod["metadata"]["resourceVersion"] = str(10000 + i)
        kind = "MODIFIED" if i >= first_modified else "ADDED"
        if kind == "MODIFIED":
            status = pod["status"]
            running = status["phase"] == "Running"
            status["phase"] = "Pending" if running else "Running"
            status["containerStatuses"][0]["ready"] = not running
            status["containerStatuses"][0]["state"] = (
                waiting if running else {"running": {"startedAt": "2026-11-26T18:00:01Z"}}
            )
        lines.append(json.dumps({"type": kind, "object": pod}, separators=(",", ":")).encode() + b"\n")
    return lines


async def bare_watch(count: int) -> float:
    """Baseline: read the same stream with a bare aiohttp session, json.loads each line and keep the
    latest object per name (the least a store must do); events/s."""
    server = ListServer({})
    server.watch_lines = watch_lines(count)
    runner, port = await server.start()
    try:
        async with aiohttp.ClientSession(read_bufsize=2**21) as session:
            start, n, kept = time.perf_counter(), 0, {}
            async with session.get(f"http://127.0.0.1:{port}/api/v1/pods", params={"watch": "true"}) as resp:
                async for line in resp.content:
                    event = json.loads(line)
                    kept[event["object"]["metadata"]["name"]] = event["object"]
                    n += 1
                    if n == count:
                        break
            return count / (time.perf_counter() - start)
    finally:
        await runner.cleanup()


def _lags(written: list[tuple[int, float]], applied: list[tuple[int, float]], count: int) -> list[float]:
    """Per event: from the server writing it to the subscriber holding it (or a newer version of its
    object: a batch delivers every event received so far), in seconds."""
    lags, a = [], 0
    for n, (last, t_written) in enumerate(written):
        first = written[n - 1][0] + 1 if n else 0
        while applied[a][0] < last:
            a += 1
        lags.extend([applied[a][1] - t_written] * (last - first + 1))
    return lags[:count]


async def bench_watch(
    rate: float, seconds: float, with_model: bool, *, synced: bool = False
) -> dict[str, Any]:
    """Stream `rate` events/s for `seconds` (rate 0: `seconds` events, as fast as possible) into a
    Cluster's store (and the topology model). Figures are taken when the last event reached the
    subscriber (the model, when attached): achieved rate, lag p50/p99/max per event, and whether the
    model then equals a fresh build from the store. `synced`: the server first lists 20,000 pods and
    the stream only modifies them (steady state); otherwise the stream creates them."""
    count = int(rate * seconds) if rate else int(seconds)
    listed = [make_pod(i, 100) for i in range(20000)] if synced else None
    for pod in listed or ():
        pod["metadata"]["resourceVersion"] = "1"  # below every event's (10000 + index)
    lines = watch_lines(count, listed=listed)
    server = ListServer({"Pod": listed} if listed else {})
    server.watch_lines, server.watch_rate = lines, rate
    runner, port = await server.start()
    tmp = Path("/tmp") / f"kstor-bench-{port}.kubeconfig"
    conn = await connect(kubeconfig_for(port, tmp))
    cluster = Cluster(conn, kinds=["Pod"], options=InformerOptions())
    applied: list[tuple[int, float]] = []  # (highest event index in the batch, when it was applied)
    all_in = asyncio.Event()
    builder = None
    model_note = "none"
    if with_model:
        from kstor.model.builder import TopologyBuilder

        builder = TopologyBuilder(cluster.store)
        builder.build()
        model_note = "TopologyBuilder"

    cpu0 = [0.0]

    def feed(batch: list) -> None:
        if builder is not None:
            builder.apply(batch)
        newest = max(int(c.obj["metadata"]["resourceVersion"]) for c in batch) - 10000
        if newest < 0:  # the initial list (synced mode): CPU is counted from here on
            cpu0[0] = time.process_time()
            return
        applied.append((newest, time.perf_counter()))
        if newest == count - 1:
            all_in.set()

    cluster.store.subscribe(feed)
    cluster.start()
    cpu0[0] = time.process_time()
    try:
        await asyncio.wait_for(all_in.wait(), timeout=seconds * 20 + 60 if rate else 600)
        cpu = time.process_time() - cpu0[0]
        done = applied[-1][1]
        start = server.written[0][1]
        in_order = _lags(server.written, applied, count)
        lags = sorted(in_order)
        # Keeping up means the lag does not grow: compare the last fifth of the stream with the second.
        fifth = max(1, count // 5)
        lag_growth = statistics.median(in_order[-fifth:]) - statistics.median(in_order[fifth : 2 * fifth])
        same = None
        if builder is not None:
            from kstor.model.builder import build_topology

            same = builder.snapshot.same_content(build_topology(cluster.store))
        return {
            "events": count,
            "target_rate": rate,
            "achieved_rate": count / max(done - start, 1e-9),
            # The server shares this process: what it managed to send bounds what can be achieved.
            "sent_rate": count / max(server.last_write - start, 1e-9),
            "lag_ms": (done - server.last_write) * 1000,
            "lag_p50_ms": lags[len(lags) // 2] * 1000,
            "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000,
            "lag_max_ms": lags[-1] * 1000,
            "lag_growth_ms": lag_growth * 1000,
            "cpu_us_per_event": cpu / count * 1e6,
            "model": model_note,
            "model_equals_rebuild": same,
        }
    finally:
        await cluster.close()
        await runner.cleanup()
        tmp.unlink(missing_ok=True)


def _watch_row(name: str, res: dict[str, Any], note: str) -> tuple[str, ...]:
    return (
        name,
        f"{res['events']} events",
        f"sent {res['sent_rate']:.0f}/s, achieved {res['achieved_rate']:.0f}/s",
        f"lag p50 {res['lag_p50_ms']:.0f} / p99 {res['lag_p99_ms']:.0f} / max {res['lag_max_ms']:.0f} ms, "
        f"growth {res['lag_growth_ms']:+.0f} ms",
        f"{res['cpu_us_per_event']:.0f} us CPU/event; {note}",
    )


def bench_sim_sync(scale: int, rounds: int) -> dict[str, float] | None:
    """Initial sync over HTTPS from the embedded cluster, bulk-loaded (the `large` scenario needs its
    controllers to create pods and volumes, which takes minutes; the object counts match it)."""
    try:
        from kstor.sim.testing import SimServerThread
    except ImportError:
        return None
    with SimServerThread(with_controllers=False) as sim:
        objects = [o for items in population(scale).values() for o in items]
        loaded = sim.call(sim.registry.load, objects)
        del objects
        kinds = ["Pod", "PersistentVolumeClaim", "PersistentVolume", "Node"]
        result = asyncio.run(bench_sync(str(sim.kubeconfig), kinds, rounds))
        result["loaded"] = loaded
        return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 2000 if args.quick else 10000
    # Same collector settings for baselines and kstor (Cluster applies them on start anyway).
    gctune.tune_for_large_heap()
    figures: dict[str, Any] = {}
    rows = []

    server = ListServer(population(scale))
    runner, port = await server.start()
    tmp = Path("/tmp") / f"kstor-bench-list-{port}.kubeconfig"
    kinds = list(server_kinds := ["Pod", "PersistentVolumeClaim", "PersistentVolume", "Node"])
    sync = await bench_sync(kubeconfig_for(port, tmp), kinds, rounds=5)
    await runner.cleanup()
    tmp.unlink(missing_ok=True)
    figures["sync_ratio"] = round(sync["ratio"], 3)
    figures["sync_ratio_worst_round"] = round(sync["ratio_max"], 3)
    figures["sync_ratio_vs_keep"] = round(sync["ratio_keep"], 3)
    figures["sync_objects"] = sync["objects"]
    rows.append(
        (
            "initial sync (list server)",
            f"{sync['objects']} objs",
            f"plain {sync['plain_s']:.2f}s",
            f"informers {sync['informer_s']:.2f}s",
            f"{sync['ratio']:.2f}x median of {sync['rounds']} (worst {sync['ratio_max']:.2f}x;"
            f" target <= 1.5x); vs list+keep {sync['ratio_keep']:.2f}x",
        )
    )
    del server_kinds

    simres = await asyncio.get_running_loop().run_in_executor(
        None, bench_sim_sync, 2000 if args.quick else 10000, 3 if args.quick else 5
    )
    if simres is not None:
        figures["sim_sync_ratio"] = round(simres["ratio"], 3)
        figures["sim_sync_ratio_worst_round"] = round(simres["ratio_max"], 3)
        figures["sim_sync_ratio_vs_keep"] = round(simres["ratio_keep"], 3)
        figures["sim_sync_objects"] = simres["objects"]
        rows.append(
            (
                "initial sync (sim, HTTPS)",
                f"{simres['objects']} objs",
                f"plain {simres['plain_s']:.2f}s",
                f"informers {simres['informer_s']:.2f}s",
                f"{simres['ratio']:.2f}x median of {simres['rounds']} (worst {simres['ratio_max']:.2f}x;"
                f" target <= 1.5x); vs list+keep {simres['ratio_keep']:.2f}x",
            )
        )

    mem = bench_memory(2000 if args.quick else 16130)  # full: 16,130 x (pod, pvc, pv) + nodes = 50,003
    figures |= {
        "mem_objects": mem["objects"],
        "json_b_per_obj": round(mem["json_b_per_obj"]),
        "store_listed_b_per_obj": round(mem["listed_b_per_obj"]),
        "store_watched_b_per_obj": round(mem["watched_b_per_obj"]),
        "mem_overhead_b_per_obj": round(mem["overhead_b_per_obj"]),
        "mem_ratio_vs_plain_dicts": round(mem["watched_b_per_obj"] / mem["dicts_b_per_obj"], 3),
    }
    rows.append(
        (
            "store memory",
            f"{mem['objects']} objs",
            f"json {mem['json_b_per_obj']:.0f} B/obj",
            f"listed {mem['listed_b_per_obj']:.0f} / watched {mem['watched_b_per_obj']:.0f} B/obj"
            f" (per-line dicts {mem['dicts_b_per_obj']:.0f})",
            f"overhead {mem['overhead_b_per_obj']:.0f} B/obj (target < 4096)",
        )
    )

    seconds = 2 if args.quick else 6
    s5 = await bench_watch(5000, seconds, with_model=False)
    figures |= {
        "watch_5k_store_achieved": round(s5["achieved_rate"]),
        "watch_5k_store_lag_ms": round(s5["lag_ms"], 1),
        "watch_5k_store_lag_p99_ms": round(s5["lag_p99_ms"], 1),
    }
    rows.append(_watch_row("watch @5000/s", s5, "store only"))
    w = await bench_watch(5000, seconds, with_model=True)
    figures |= {
        "watch_5k_sent": round(w["sent_rate"]),
        "watch_5k_achieved": round(w["achieved_rate"]),
        "watch_5k_lag_ms": round(w["lag_ms"], 1),
        "watch_5k_lag_p50_ms": round(w["lag_p50_ms"], 1),
        "watch_5k_lag_p99_ms": round(w["lag_p99_ms"], 1),
        "watch_5k_lag_max_ms": round(w["lag_max_ms"], 1),
        "watch_5k_lag_growth_ms": round(w["lag_growth_ms"], 1),
        "watch_5k_cpu_us_per_event": round(w["cpu_us_per_event"], 1),
        "watch_model": w["model"],
        "watch_model_equals_rebuild": w["model_equals_rebuild"],
    }
    note = f"model: {w['model']}, == rebuild: {w['model_equals_rebuild']}"
    rows.append(_watch_row("watch @5000/s (creates)", w, note))
    ws = await bench_watch(5000, seconds, with_model=True, synced=True)
    figures |= {
        "watch_5k_steady_sent": round(ws["sent_rate"]),
        "watch_5k_steady_achieved": round(ws["achieved_rate"]),
        "watch_5k_steady_lag_p50_ms": round(ws["lag_p50_ms"], 1),
        "watch_5k_steady_lag_p99_ms": round(ws["lag_p99_ms"], 1),
        "watch_5k_steady_lag_growth_ms": round(ws["lag_growth_ms"], 1),
        "watch_5k_steady_cpu_us_per_event": round(ws["cpu_us_per_event"], 1),
        "watch_5k_steady_model_equals_rebuild": ws["model_equals_rebuild"],
    }
    note = f"20k pods listed first; == rebuild: {ws['model_equals_rebuild']}"
    rows.append(_watch_row("watch @5000/s (modifies)", ws, note))
    events = 20000 if args.quick else 60000
    ceiling = await bench_watch(0, events, with_model=False)
    model_ceiling = await bench_watch(0, events, with_model=True)
    figures["watch_ceiling_per_s"] = round(ceiling["achieved_rate"])
    figures["watch_ceiling_ratio_to_5k"] = round(ceiling["achieved_rate"] / 5000, 2)
    figures["watch_model_ceiling_per_s"] = round(model_ceiling["achieved_rate"])
    figures["watch_model_ceiling_ratio_to_5k"] = round(model_ceiling["achieved_rate"] / 5000, 2)
    bare = await bare_watch(events)
    figures["watch_bare_per_s"] = round(bare)
    figures["watch_ceiling_ratio_to_bare"] = round(ceiling["achieved_rate"] / bare, 3)
    rows.append(
        (
            "watch bare read+json.loads",
            "same stream",
            f"{bare:.0f}/s",
            f"store path = {ceiling['achieved_rate'] / bare:.2f}x bare",
            "baseline",
        )
    )
    for label, res in (("store only", ceiling), ("with model", model_ceiling)):
        rows.append(
            (
                "watch ceiling",
                f"{res['events']} events",
                f"{res['achieved_rate']:.0f}/s",
                f"{res['achieved_rate'] / 5000:.1f}x the 5k target",
                label,
            )
        )

    for row in rows:
        print(" | ".join(f"{c:<28}" for c in row))
    print(json.dumps({"bench": "kube", "quick": args.quick, **figures}))


if __name__ == "__main__":
    asyncio.run(main())
