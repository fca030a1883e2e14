"""The kind lab as an ordered list of commands: what `kstor lab up|down|status` runs.

Keeping the lab a plain plan (argv lists plus the manifests they apply) is what makes
`--dry-run` exact and lets tests check the lab without Docker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kstor.errors import KstorError

CLUSTER_NAME = "kstor-lab"
CONTEXT = f"kind-{CLUSTER_NAME}"
MANIFEST_DIR = Path(__file__).resolve().parents[2] / "demo" / "kind"
CLUSTER_CONFIG = "cluster.yaml"
TOOLS = {
    "docker": "install Docker Engine (https://docs.docker.com/engine/install/)",
    "kind": "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
    "kubectl": "install kubectl (https://kubernetes.io/docs/tasks/tools/)",
}
LAB_APPS = "app in (nfs-server,nfs-subdir-external-provisioner,csi-hostpathplugin,web,db)"
# What to wait for after each manifest, so the next one finds its dependencies running.
ROLLOUTS = {
    "10-nfs-server.yaml": [("nfs", "deployment/nfs-server")],
    "20-nfs-provisioner.yaml": [("nfs", "deployment/nfs-subdir-external-provisioner")],
    "30-csi-hostpath.yaml": [("kube-system", "statefulset/csi-hostpathplugin")],
}


@dataclass(frozen=True)
class Step:
    """One command of the lab; `manifest` is the file it applies (printed in full by --dry-run)."""

    description: str
    argv: list[str]
    manifest: Path | None = None
    tolerate_failure: bool = False
    env: dict[str, str] = field(default_factory=dict)


def manifest_dir() -> Path:
    if not (MANIFEST_DIR / CLUSTER_CONFIG).is_file():
        raise KstorError(f"kind lab manifests not found in {MANIFEST_DIR}: run kstor from a source checkout")
    return MANIFEST_DIR


def manifests() -> list[Path]:
    """The manifests applied to the cluster, in order (everything but the kind config)."""
    return sorted(p for p in manifest_dir().glob("[0-9]*.yaml"))


def worker_nodes() -> list[str]:
    config = yaml.safe_load((manifest_dir() / CLUSTER_CONFIG).read_text())
    workers = [n for n in config["nodes"] if n["role"] == "worker"]
    # kind names workers <cluster>-worker, <cluster>-worker2, ...
    return [f"{CLUSTER_NAME}-worker{'' if i == 0 else i + 1}" for i in range(len(workers))]


def kubectl(*args: str) -> list[str]:
    return ["kubectl", "--context", CONTEXT, *args]


def up_plan(*, cluster_exists: bool = False) -> list[Step]:
    steps: list[Step] = []
    if not cluster_exists:
        steps.append(
            Step(
                "create the kind cluster (1 control plane, 3 workers)",
                [
                    "kind",
                    "create",
                    "cluster",
                    "--config",
                    str(manifest_dir() / CLUSTER_CONFIG),
                    "--wait",
                    "180s",
                ],
                manifest=manifest_dir() / CLUSTER_CONFIG,
            )
        )
    for node in worker_nodes():
        steps.append(
            Step(
                f"make sure {node} can mount NFS (nfs-common)",
                [
                    "docker",
                    "exec",
                    node,
                    "sh",
                    "-c",
                    "command -v mount.nfs >/dev/null || "
                    "(apt-get update -qq && apt-get install -y -qq nfs-common >/dev/null)",
                ],
            )
        )
    for path in manifests():
        steps.append(Step(f"apply {path.name}", kubectl("apply", "-f", str(path)), manifest=path))
        for namespace, target in ROLLOUTS.get(path.name, []):
            steps.append(
                Step(
                    f"wait for {target} in {namespace}",
                    kubectl("-n", namespace, "rollout", "status", target, "--timeout=300s"),
                )
            )
    steps.append(
        Step(
            "wait for the sample claims to bind",
            kubectl(
                "wait",
                "--for=jsonpath={.status.phase}=Bound",
                "pvc",
                "--all",
                "-n",
                "default",
                "--timeout=300s",
            ),
            tolerate_failure=True,
        )
    )
    return steps


def down_plan() -> list[Step]:
    return [Step("delete the kind cluster", ["kind", "delete", "cluster", "--name", CLUSTER_NAME])]


def status_plan() -> list[Step]:
    return [
        Step("nodes", kubectl("get", "nodes", "-o", "wide")),
        Step("storage classes", kubectl("get", "storageclass")),
        Step("volumes and claims", kubectl("get", "pv,pvc", "-A")),
        Step("attachments", kubectl("get", "volumeattachments")),
        Step(
            "lab pods",
            kubectl(
                "get",
                "pods",
                "-A",
                "-l",
                LAB_APPS,
            ),
        ),
    ]
