"""Scenarios: YAML descriptions of a cluster that the embedded cluster loads through its registry.

A scenario names its nodes (groups with a count, name prefix, zones, role), CSI drivers (CSIDriver
+ one CSINode per node + the provisioner Deployment), an NFS server (namespace `nfs`, Deployment
`nfs-server` at a fixed address, the nfs-subdir provisioner Deployment), and lists of manifests:
storageClasses, persistentVolumes, persistentVolumeClaims, workloads, podDisruptionBudgets and a
free-form `objects`. Any manifest may carry `copies: N`; `{i}` in its strings becomes 0..N-1.
Mistakes are reported as one `file:line: what` line (ScenarioError, a KstorError).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kstor.errors import KstorError
from kstor.sim.apiserver.resources import RESOURCES

if TYPE_CHECKING:
    from kstor.sim.cluster import SimCluster

Obj = dict[str, Any]

KINDS: dict[str, tuple[str, str]] = {  # kind -> (apiVersion, plural)
    "Namespace": ("v1", "namespaces"),
    "Node": ("v1", "nodes"),
    "CSIDriver": ("storage.k8s.io/v1", "csidrivers"),
    "CSINode": ("storage.k8s.io/v1", "csinodes"),
    "StorageClass": ("storage.k8s.io/v1", "storageclasses"),
    "PersistentVolume": ("v1", "persistentvolumes"),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims"),
    "Deployment": ("apps/v1", "deployments"),
    "StatefulSet": ("apps/v1", "statefulsets"),
    "ReplicaSet": ("apps/v1", "replicasets"),
    "Pod": ("v1", "pods"),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets"),
    "VolumeAttachment": ("storage.k8s.io/v1", "volumeattachments"),
    "Lease": ("coordination.k8s.io/v1", "leases"),
    "Event": ("v1", "events"),
}
ORDER = [plural for _, plural in KINDS.values()]
CLUSTER_SCOPED = {"namespaces", "nodes", "csidrivers", "csinodes", "storageclasses", "persistentvolumes",
                  "volumeattachments"}  # fmt: skip
SECTIONS: dict[str, tuple[str, ...]] = {  # manifest list -> kinds allowed (first is the default)
    "storageClasses": ("StorageClass",),
    "persistentVolumes": ("PersistentVolume",),
    "persistentVolumeClaims": ("PersistentVolumeClaim",),
    "workloads": ("Deployment", "StatefulSet", "Pod"),
    "podDisruptionBudgets": ("PodDisruptionBudget",),
    "objects": tuple(KINDS),
}
TOP_KEYS = {"name", "description", "nodes", "csiDrivers", "nfs", *SECTIONS}
NODE_KEYS = {"name", "prefix", "count", "role", "zones", "labels", "taints", "cpu", "memory", "pods"}
DRIVER_KEYS = {"name", "attachRequired", "topologyKey", "nodes", "provisioner"}
NFS_KEYS = {"server", "path", "namespace", "provisioner", "provisionerName"}

KUBELET_VERSION = "v1.32.0"
NFS_PROVISIONER = "k8s-sigs.io/nfs-subdir-external-provisioner"


class ScenarioError(KstorError):
    """A scenario file that cannot be loaded; the message is `file:line: what`."""


# --- YAML with line numbers -----------------------------------------------------------------------------


class LineDict(dict):  # type: ignore[type-arg]
    line = 0
    key_lines: dict[str, int]


class LineList(list):  # type: ignore[type-arg]
    line = 0


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    out = LineDict(loader.construct_mapping(node, deep=True))
    out.line = node.start_mark.line + 1
    out.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_sequence(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _line(obj: Any, key: str | None = None, default: int = 1) -> int:
    if isinstance(obj, LineDict) and key is not None and key in obj.key_lines:
        return obj.key_lines[key]
    return getattr(obj, "line", 0) or default


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


# --- the parsed scenario --------------------------------------------------------------------------------


@dataclass
class Item:
    plural: str
    obj: Obj
    line: int


@dataclass
class Scenario:
    name: str
    path: str
    items: list[Item] = field(default_factory=list)
    world: dict[str, Any] = field(default_factory=dict)


def scenario_names() -> list[str]:
    folder = resources.files("kstor.sim.scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml")):
        path = Path(text)
        if not path.is_file():
            raise ScenarioError(f"{text}: no such scenario file")
        return path
    if text not in scenario_names():
        raise ScenarioError(f"unknown scenario {text!r} (built-in: {', '.join(scenario_names())})")
    return Path(str(resources.files("kstor.sim.scenarios").joinpath(f"{text}.yaml")))


def parse(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        doc = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{where}: invalid YAML: {problem}") from None
    return Builder(path, doc).build()


class Builder:
    """Checks the structure and expands it into API objects, each with the line it came from."""

    def __init__(self, path: Path, doc: Any) -> None:
        self.path = path
        self.doc = doc
        self.items: list[Item] = []
        self.world: dict[str, Any] = {}
        self.node_names: list[str] = []
        self.worker_names: list[str] = []

    def fail(self, line: int, message: str) -> ScenarioError:
        return ScenarioError(f"{self.path}:{line}: {message}")

    def expect(self, value: Any, kind: type, line: int, what: str) -> Any:
        names = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", bool: "true or false"}
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(line, f"{what} must be {names.get(kind, kind.__name__)}, not {_plain(value)!r}")
        return value

    def check_keys(self, obj: LineDict, allowed: set[str], what: str) -> None:
        for key in obj:
            if key not in allowed:
                raise self.fail(
                    _line(obj, key), f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})"
                )

    def build(self) -> Scenario:
        doc = self.doc
        if doc is None:
            raise self.fail(1, "the scenario is empty")
        self.expect(doc, dict, 1, "a scenario")
        self.check_keys(doc, TOP_KEYS, "the scenario")
        name = str(doc.get("name") or self.path.stem)
        for index, group in enumerate(
            self.expect(doc.get("nodes") or LineList(), list, _line(doc, "nodes"), "nodes")
        ):
            self.node_group(group, index)
        drivers = self.expect(
            doc.get("csiDrivers") or LineList(), list, _line(doc, "csiDrivers"), "csiDrivers"
        )
        topology: dict[str, list[tuple[str, str]]] = {n: [] for n in self.node_names}
        for driver in drivers:
            self.csi_driver(driver, topology)
        self.csi_nodes(topology)
        if doc.get("nfs") is not None:
            self.nfs(self.expect(doc["nfs"], dict, _line(doc, "nfs"), "nfs"))
        for section, kinds in SECTIONS.items():
            if section in doc:
                entries = self.expect(doc[section] or LineList(), list, _line(doc, section), section)
                for entry in entries:
                    self.manifest(entry, section, kinds)
        self.items.sort(key=lambda item: ORDER.index(item.plural))
        return Scenario(name=name, path=str(self.path), items=self.items, world=self.world)

    # --- nodes and drivers -------------------------------------------------------------------------------
    def node_group(self, group: Any, index: int) -> None:
        line = _line(group)
        self.expect(group, dict, line, f"nodes[{index}]")
        self.check_keys(group, NODE_KEYS, "a node group")
        role = group.get("role", "worker")
        if role not in ("worker", "control-plane"):
            raise self.fail(_line(group, "role"), f"role must be worker or control-plane, not {role!r}")
        count = self.expect(group.get("count", 1), int, _line(group, "count"), "count")
        if count < 0:
            raise self.fail(_line(group, "count"), f"count must not be negative, not {count}")
        prefix = str(
            group.get("prefix") or group.get("name") or ("control-plane" if role != "worker" else "worker")
        )
        zones = [
            str(z)
            for z in self.expect(group.get("zones") or ["zone-a"], list, _line(group, "zones"), "zones")
        ]
        labels = {
            str(k): str(v) for k, v in self.expect(group.get("labels") or {}, dict, line, "labels").items()
        }
        taints = list(self.expect(group.get("taints") or [], list, _line(group, "taints"), "taints"))
        for n in range(count):
            name = str(group["name"]) if count == 1 and group.get("name") else f"{prefix}-{n + 1}"
            node = node_object(
                name,
                index=len(self.node_names),
                role=role,
                zone=zones[n % len(zones)],
                labels=labels,
                taints=_plain(taints),
                cpu=str(group.get("cpu", "8")),
                memory=str(group.get("memory", "32Gi")),
                pods=str(group.get("pods", "110")),
            )
            self.node_names.append(name)
            if role == "worker":
                self.worker_names.append(name)
            self.items.append(Item("nodes", node, line))

    def csi_driver(self, driver: Any, topology: dict[str, list[tuple[str, str]]]) -> None:
        line = _line(driver)
        self.expect(driver, dict, line, "a CSI driver")
        self.check_keys(driver, DRIVER_KEYS, "a CSI driver")
        name = str(self.expect(driver.get("name"), str, line, "a CSI driver's name"))
        attach = self.expect(
            driver.get("attachRequired", True), bool, _line(driver, "attachRequired"), "attachRequired"
        )
        key = str(driver.get("topologyKey") or "")
        where = driver.get("nodes", "workers")
        if where not in ("workers", "all"):
            raise self.fail(_line(driver, "nodes"), f"nodes must be workers or all, not {where!r}")
        spec = {"attachRequired": attach, "podInfoOnMount": True, "fsGroupPolicy": "File",
                "volumeLifecycleModes": ["Persistent"], "storageCapacity": False}  # fmt: skip
        self.items.append(Item("csidrivers", {"metadata": {"name": name}, "spec": spec}, line))
        for node in self.worker_names if where == "workers" else self.node_names:
            topology[node].append((name, key))
        if driver.get("provisioner", True) is not False:
            self.items.append(Item("deployments", csi_plugin_deployment(name), line))
            self.ensure_namespace("kube-system", line)

    def csi_nodes(self, topology: dict[str, list[tuple[str, str]]]) -> None:
        labelled = {item.obj["metadata"]["name"]: item for item in self.items if item.plural == "nodes"}
        for node, drivers in topology.items():
            item = labelled[node]
            for _, key in drivers:
                if key:
                    item.obj["metadata"]["labels"][key] = node
            entries = [
                {"name": d, "nodeID": node, "topologyKeys": [k] if k else None, "allocatable": {"count": 100}}
                for d, k in drivers
            ]
            owner = {"apiVersion": "v1", "kind": "Node", "name": node}  # uid filled in at load
            csinode = {"metadata": {"name": node, "ownerReferences": [owner]}, "spec": {"drivers": entries}}
            self.items.append(Item("csinodes", csinode, item.line))

    def nfs(self, spec: LineDict) -> None:
        self.check_keys(spec, NFS_KEYS, "nfs")
        server = str(spec.get("server") or "10.96.0.200")
        export = str(spec.get("path") or "/exports")
        namespace = str(spec.get("namespace") or "nfs")
        self.world["nfs"] = {"server": server, "path": export, "namespace": namespace}
        self.world["nfs_exports"] = {export: set()}
        self.ensure_namespace(namespace, spec.line)
        self.items.append(Item("deployments", nfs_server_deployment(namespace, export), spec.line))
        if spec.get("provisioner", True) is not False:
            name = str(spec.get("provisionerName") or NFS_PROVISIONER)
            self.items.append(
                Item("deployments", nfs_provisioner_deployment(namespace, name, server, export), spec.line)
            )

    def ensure_namespace(self, name: str, line: int) -> None:
        if not any(i.plural == "namespaces" and i.obj["metadata"]["name"] == name for i in self.items):
            self.items.append(Item("namespaces", {"metadata": {"name": name}}, line))

    # --- manifests -----------------------------------------------------------------------------------------
    def manifest(self, entry: Any, section: str, kinds: tuple[str, ...]) -> None:
        line = _line(entry)
        self.expect(entry, dict, line, f"an entry of {section}")
        copies = self.expect(entry.get("copies", 1), int, _line(entry, "copies"), "copies")
        if copies < 1:
            raise self.fail(_line(entry, "copies"), f"copies must be at least 1, not {copies}")
        kind = entry.get("kind", kinds[0] if len(kinds) == 1 else None)
        if kind not in kinds:
            allowed = ", ".join(kinds) if len(kinds) < 5 else "a kind the embedded cluster serves"
            raise self.fail(
                _line(entry, "kind"), f"kind {kind!r} is not allowed in {section} (expected {allowed})"
            )
        api_version, plural = KINDS[kind]
        if entry.get("apiVersion", api_version) != api_version:
            raise self.fail(
                _line(entry, "apiVersion"),
                f"{kind} needs apiVersion {api_version}, not {entry['apiVersion']!r}",
            )
        meta = entry.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
            raise self.fail(_line(entry, "metadata"), f"a {kind} needs metadata.name")
        base = _plain(entry)
        base.pop("copies", None)
        base["apiVersion"], base["kind"] = api_version, kind
        namespace = (
            base["metadata"].setdefault("namespace", "default") if plural not in CLUSTER_SCOPED else None
        )
        if namespace:
            self.ensure_namespace(namespace, line)
        for i in range(copies):
            obj = _substitute(copy.deepcopy(base), str(i)) if copies > 1 else base
            self.items.append(Item(plural, obj, line))


def _substitute(value: Any, index: str) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", index)
    if isinstance(value, dict):
        return {k: _substitute(v, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, index) for v in value]
    return value


# --- generated objects ------------------------------------------------------------------------------------


def node_object(
    name: str, *, index: int, role: str, zone: str, labels: dict[str, str], taints: list[Obj], cpu: str,
    memory: str, pods: str,
) -> Obj:  # fmt: skip
    node_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": zone,
        **labels,
    }
    spec: Obj = {"podCIDR": f"10.{244 + index // 256}.{index % 256}.0/24"}
    spec["podCIDRs"] = [spec["podCIDR"]]
    if role == "control-plane":
        node_labels["node-role.kubernetes.io/control-plane"] = ""
        taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}, *taints]
    if taints:
        spec["taints"] = taints
    capacity = {"cpu": cpu, "ephemeral-storage": "102626232Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                "memory": memory, "pods": pods}  # fmt: skip
    ready = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    ip = f"172.18.{index // 250}.{index % 250 + 2}"
    return {
        "metadata": {
            "name": name,
            "labels": node_labels,
            "annotations": {
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                "node.alpha.kubernetes.io/ttl": "0",
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
            },
        },
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in ready],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, f"machine.{name}").hex,
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"system.{name}")),
                "bootID": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"boot.{name}")),
                "kernelVersion": "6.8.0-48-generic",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def _deployment(name: str, namespace: str, labels: dict[str, str], containers: list[Obj], **pod: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers, **pod}},
        },
    }


def nfs_server_deployment(namespace: str, export: str) -> Obj:
    container = {
        "name": "nfs-server",
        "image": "itsthenetwork/nfs-server-alpine:12",
        "env": [{"name": "SHARED_DIRECTORY", "value": export}],
        "ports": [{"name": "nfs", "containerPort": 2049}],
        "securityContext": {"privileged": True},
    }
    return _deployment("nfs-server", namespace, {"app": "nfs-server"}, [container])


def nfs_provisioner_deployment(namespace: str, provisioner: str, server: str, export: str) -> Obj:
    # As the real chart: the export is mounted at /persistentvolumes, so the pod starts only once the
    # NFS server answers.
    container = {
        "name": "nfs-subdir-external-provisioner",
        "image": "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
        "env": [
            {"name": "PROVISIONER_NAME", "value": provisioner},
            {"name": "NFS_SERVER", "value": server},
            {"name": "NFS_PATH", "value": export},
        ],
        "volumeMounts": [{"name": "nfs-subdir-external-provisioner-root", "mountPath": "/persistentvolumes"}],
    }
    volume = {"name": "nfs-subdir-external-provisioner-root", "nfs": {"server": server, "path": export}}
    labels = {"app": "nfs-subdir-external-provisioner"}
    return _deployment("nfs-subdir-external-provisioner", namespace, labels, [container],
                       serviceAccountName="nfs-subdir-external-provisioner", volumes=[volume])  # fmt: skip


def csi_plugin_deployment(driver: str) -> Obj:
    containers = [
        {"name": "hostpath", "image": "registry.k8s.io/sig-storage/hostpathplugin:v1.15.0",
         "args": [f"--drivername={driver}", "--v=5", "--endpoint=$(CSI_ENDPOINT)",
                  "--nodeid=$(KUBE_NODE_NAME)"]},
        {"name": "csi-provisioner", "image": "registry.k8s.io/sig-storage/csi-provisioner:v5.1.0",
         "args": ["-v=5", "--csi-address=/csi/csi.sock", "--feature-gates=Topology=true"]},
        {"name": "csi-attacher", "image": "registry.k8s.io/sig-storage/csi-attacher:v4.7.0",
         "args": ["--v=5", "--csi-address=/csi/csi.sock"]},
    ]  # fmt: skip
    labels = {"app.kubernetes.io/name": "csi-hostpathplugin", "app.kubernetes.io/component": "plugin"}
    return _deployment(
        "csi-hostpathplugin", "kube-system", labels, containers, serviceAccountName="csi-hostpathplugin-sa"
    )


# --- loading ------------------------------------------------------------------------------------------------


def load_scenario(cluster: SimCluster, name_or_path: str | Path) -> Scenario:
    """Create a scenario's objects in dependency order through `cluster.registry.create`."""
    path = resolve(name_or_path)
    scenario = parse(path)
    registry = cluster.registry
    for key, value in scenario.world.items():
        cluster.world[key] = value
    cluster.world["scenario"] = scenario.name
    existing_ns = {ns["metadata"]["name"] for ns in registry.list("namespaces")["items"]}
    for item in scenario.items:
        if item.plural == "namespaces" and item.obj["metadata"]["name"] in existing_ns:
            continue
        namespace = item.obj.get("metadata", {}).get("namespace")
        try:
            _link_owners(registry, item.obj, namespace)
            registry.create(item.plural, item.obj, namespace)
        except Exception as exc:
            code = getattr(exc, "code", None)
            if code is None:
                raise
            kind = KINDS_BY_PLURAL[item.plural]
            name = item.obj.get("metadata", {}).get("name", "")
            raise ScenarioError(f"{scenario.path}:{item.line}: {kind} {name!r}: {exc}") from None
    return scenario


KINDS_BY_PLURAL = {plural: kind for kind, (_, plural) in KINDS.items()}


def _link_owners(registry: Any, obj: Obj, namespace: str | None) -> None:
    """The API server hands out uids at create: point owner references at the owners' real uids."""
    for owner in obj.get("metadata", {}).get("ownerReferences") or []:
        if not owner.get("uid"):
            plural = KINDS[owner["kind"]][1]
            scope = namespace if RESOURCES[plural].namespaced else None
            owner["uid"] = registry.get(plural, owner["name"], scope)["metadata"]["uid"]
