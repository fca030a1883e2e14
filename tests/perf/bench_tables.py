"""Cost of the API server's printing, defaulting and validation against a JSON round trip of the same objects.

    python tests/perf/bench_tables.py [--quick]

The registry already deep-copies every object it stores or returns (a JSON round trip), so that is the
baseline: `kubectl get pods` on a large cluster costs build_table on top of it, and every create costs
apply_defaults + validate_create on top of it. Figures are ratios against that baseline, measured in the
same process; targets: Table rows <= 3x, defaulting + validation <= 3x. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kstor.sim.apiserver.defaults import apply_defaults  # noqa: E402
from kstor.sim.apiserver.tables import build_table  # noqa: E402
from kstor.sim.apiserver.validation import validate_create  # noqa: E402

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"web-{i}",
            "namespace": "default",
            "labels": {"app": "web", "shard": str(i % 7)},
            "creationTimestamp": "2026-01-01T11:00:00Z",
        },
        "spec": {
            "nodeName": f"node-{i % 100}",
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{i}"}}],
        },
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": f"10.0.{i % 250}.{i % 200}"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-01-01T11:00:05Z"}},
                }
            ],
        },
    }


def pv(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"pv-{i}", "creationTimestamp": "2026-01-01T10:00:00Z"},
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "claimRef": {"namespace": "default", "name": f"data-{i}"},
            "storageClassName": "fast",
            "csi": {"driver": "hostpath.csi.k8s.io", "volumeHandle": f"vol-{i}"},
        },
        "status": {"phase": "Bound"},
    }


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def roundtrip(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        json.loads(json.dumps(obj))


def create_path(plural: str, objects: list[dict[str, Any]]) -> None:
    # Defaulting only fills what is absent and validation reads: the same objects serve every repeat.
    for obj in objects:
        apply_defaults(plural, obj)
        validate_create(plural, obj)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer objects, fewer repeats")
    args = parser.parse_args()
    count, repeat = (2_000, 3) if args.quick else (20_000, 5)
    figures: dict[str, float] = {"objects": count}
    print(f"{'case':<28}{'baseline ms':>14}{'measured ms':>14}{'ratio':>8}")
    for plural, make in (("pods", pod), ("persistentvolumes", pv)):
        objects = [make(i) for i in range(count)]
        base = best_of(repeat, lambda objects=objects: roundtrip(objects))
        table = best_of(repeat, lambda p=plural, o=objects: build_table(p, o, NOW, wide=True))
        create = best_of(repeat, lambda p=plural, o=objects: create_path(p, o))
        for case, measured in (("table", table), ("defaults+validation", create)):
            ratio = measured / base
            figures[f"{plural}_{case.replace('+', '_')}_ratio"] = round(ratio, 2)
            print(f"{plural + ' ' + case:<28}{base * 1000:>14.1f}{measured * 1000:>14.1f}{ratio:>8.2f}")
        figures[f"{plural}_table_us_per_object"] = round(table / count * 1e6, 2)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
