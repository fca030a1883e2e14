"""Connecting to a cluster: kubeconfig files (merged like kubectl), in-cluster config, the sim.

Credentials (tokens, exec plugins, client certificates) are resolved by kubernetes_asyncio's
`KubeConfigLoader`; kstor only merges the files the way kubectl does and turns every failure into
one `KstorError` line.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio.client import Configuration
from kubernetes_asyncio.config.incluster_config import (
    SERVICE_CERT_FILENAME,
    SERVICE_HOST_ENV_NAME,
    SERVICE_TOKEN_FILENAME,
    InClusterConfigLoader,
)
from kubernetes_asyncio.config.kube_config import ConfigNode, KubeConfigLoader

from kstor.errors import KstorError
from kstor.kube.errors import ApiError, Forbidden, NotFound, TransportError, Unauthorized
from kstor.kube.transport import Transport

SERVICE_NAMESPACE_FILENAME = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
SIM_CLUSTER_PREFIX = "kstor-sim"


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    context: str
    cluster: str
    server: str
    is_sim: bool
    namespace: str


@dataclass
class Connection:
    """A verified connection: what we talk to, and the transport to do it with."""

    info: ClusterInfo
    transport: Transport

    async def close(self) -> None:
        await self.transport.close()


def kubeconfig_paths(kubeconfig: str | os.PathLike[str] | None = None) -> list[Path]:
    """The files to merge, in priority order: --kubeconfig, else $KUBECONFIG, else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    env = os.environ.get("KUBECONFIG", "")
    paths = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return paths or [Path.home() / ".kube" / "config"]


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KstorError(f"kubeconfig {path}: no such file") from None
    except OSError as exc:
        raise KstorError(f"kubeconfig {path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise KstorError(f"kubeconfig {path}:{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        got = type(data).__name__
        raise KstorError(f"kubeconfig {path}: not a kubeconfig (expected a mapping, got {got})")
    for section in ("clusters", "contexts", "users"):
        items = data.get(section) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) and "name" in i for i in items):
            raise KstorError(f"kubeconfig {path}: '{section}' must be a list of entries with a name")
    return data


def merge_kubeconfigs(paths: list[Path]) -> tuple[dict[str, Any], list[Path]]:
    """Merge files like kubectl: the first file to set a value (or define a name) wins.

    Missing files in a KUBECONFIG list are skipped as kubectl does; all missing is an error.
    Each entry remembers its file so relative certificate paths resolve against it.
    """
    present = [p for p in paths if p.exists()] if len(paths) > 1 else paths
    if not present:
        raise KstorError(f"kubeconfig: none of these files exist: {', '.join(map(str, paths))}")
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    seen: dict[str, set[str]] = {"clusters": set(), "contexts": set(), "users": set()}
    for path in present:
        data = _read_file(path)
        for section in ("clusters", "contexts", "users"):
            for item in data.get(section) or []:
                if item["name"] not in seen[section]:
                    seen[section].add(item["name"])
                    merged[section].append(ConfigNode(f"{path}/{section}", item, str(path.resolve())))
        if data.get("current-context") and not merged.get("current-context"):
            merged["current-context"] = data["current-context"]
    return merged, present


def _select_context(merged: dict[str, Any], files: str, context: str | None) -> dict[str, Any]:
    known = [c.value["name"] for c in merged["contexts"]]
    name = context or merged.get("current-context")
    if not name:
        names = ", ".join(known) or "none"
        raise KstorError(f"no current context in {files}; pass --context (known: {names})")
    for node in merged["contexts"]:
        if node.value["name"] == name:
            ctx = node.value.get("context") or {}
            break
    else:
        raise KstorError(f'context "{name}" not found in {files}; known: {", ".join(known) or "none"}')
    cluster = ctx.get("cluster")
    if not any(c.value["name"] == cluster for c in merged["clusters"]):
        raise KstorError(f'context "{name}" in {files} refers to cluster "{cluster}", which is not defined')
    user = ctx.get("user")
    if user and not any(u.value["name"] == user for u in merged["users"]):
        raise KstorError(f'context "{name}" in {files} refers to user "{user}", which is not defined')
    return {"name": name, **ctx}


async def load_kubeconfig(
    kubeconfig: str | os.PathLike[str] | None = None, context: str | None = None
) -> tuple[Any, ClusterInfo, KubeConfigLoader]:
    """Resolve a kubeconfig into a client Configuration (credentials loaded) and a ClusterInfo."""
    merged, present = merge_kubeconfigs(kubeconfig_paths(kubeconfig))
    files = ", ".join(map(str, present))
    ctx = _select_context(merged, files, context)
    config = type.__call__(Configuration)
    try:
        loader = KubeConfigLoader(ConfigNode("kubeconfig", merged, None), active_context=ctx["name"],
                                  config_base_path=None)
        await loader.load_and_set(config)
    except KstorError:
        raise
    except Exception as exc:  # ConfigException, exec plugin failures, unreadable cert files...
        raise KstorError(f'kubeconfig {files}: context "{ctx["name"]}": {_one_line(exc)}') from None
    if not getattr(config, "host", None) or config.host == "http://localhost":
        cluster = next(c.value for c in merged["clusters"] if c.value["name"] == ctx["cluster"])
        if not (cluster.get("cluster") or {}).get("server"):
            raise KstorError(f'kubeconfig {files}: cluster "{ctx["cluster"]}" has no server')
    info = ClusterInfo(
        context=ctx["name"],
        cluster=ctx["cluster"],
        server=str(config.host).rstrip("/"),
        is_sim=str(ctx["cluster"]).startswith(SIM_CLUSTER_PREFIX),
        namespace=ctx.get("namespace") or "default",
    )
    return config, info, loader


def _exec_refresher(loader: KubeConfigLoader, config: Any) -> Any:
    """Re-run an exec credential plugin when its token expired (or the server said 401)."""

    async def refresh(force: bool = False) -> None:
        expiry = getattr(loader, "exec_plugin_expiry", None)
        expired = expiry is not None and expiry <= datetime.datetime.now(datetime.UTC) + datetime.timedelta(
            seconds=10
        )
        if not (force or expired):
            return
        if force and hasattr(loader, "exec_plugin_expiry"):
            del loader.exec_plugin_expiry
        try:
            await loader.load_from_exec_plugin()
        except Exception as exc:
            raise KstorError(f"exec credential plugin failed: {_one_line(exc)}") from None
        config.api_key["BearerToken"] = loader.token

    async def hook(_config: Any) -> None:
        await refresh(False)

    config.refresh_api_key_hook = hook
    return refresh


def in_cluster_available() -> bool:
    return bool(os.environ.get(SERVICE_HOST_ENV_NAME)) and os.path.exists(SERVICE_TOKEN_FILENAME)


def load_in_cluster(*, token_file: str = SERVICE_TOKEN_FILENAME, cert_file: str = SERVICE_CERT_FILENAME,
                    namespace_file: str = SERVICE_NAMESPACE_FILENAME) -> tuple[Any, ClusterInfo]:
    config = type.__call__(Configuration)
    try:
        InClusterConfigLoader(token_filename=token_file, cert_filename=cert_file).load_and_set(config)
    except Exception as exc:
        raise KstorError(f"in-cluster config: {_one_line(exc)}") from None
    try:
        namespace = Path(namespace_file).read_text().strip() or "default"
    except OSError:
        namespace = "default"
    info = ClusterInfo("in-cluster", "in-cluster", str(config.host), is_sim=False, namespace=namespace)
    return config, info


async def connect(
    kubeconfig: str | os.PathLike[str] | None = None,
    *,
    context: str | None = None,
    in_cluster: bool | None = None,
    verify: bool = True,
) -> Connection:
    """Open and verify a connection. `in_cluster=None` uses the service account only when no kubeconfig
    file exists and the pod environment is present (like client-go's default loading rules)."""
    if in_cluster is None:
        in_cluster = (
            not kubeconfig
            and not os.environ.get("KUBECONFIG")
            and not kubeconfig_paths()[0].exists()
            and in_cluster_available()
        )
    if in_cluster:
        config, info = load_in_cluster()
        transport = Transport(config)
    else:
        config, info, loader = await load_kubeconfig(kubeconfig, context)
        refresh = _exec_refresher(loader, config) if loader._user and "exec" in loader._user else None
        transport = Transport(config, refresh_credentials=(lambda: refresh(True)) if refresh else None)
    conn = Connection(info=info, transport=transport)
    if verify:
        try:
            await probe(conn)
        except BaseException:
            await conn.close()
            raise
    return conn


async def probe(conn: Connection, *, timeout: float = 15.0) -> None:
    """One cheap request so a bad server, TLS setup or credential fails now, as one line."""
    server = conn.info.server
    try:
        await conn.transport.request("GET", "/version", timeout=timeout)
    except NotFound:
        return  # reachable and authenticated; some servers do not serve /version
    except Unauthorized:
        raise KstorError(
            f'{server}: unauthorized (401): the credentials of context "{conn.info.context}" were rejected'
        ) from None
    except Forbidden as exc:
        context = conn.info.context
        raise KstorError(f'{server}: forbidden (403) for context "{context}": {exc.message}') from None
    except TransportError as exc:
        raise KstorError(str(exc).split(": ", 1)[-1]) from None
    except ApiError as exc:
        raise KstorError(f"{server}: {exc.code} {exc.reason}: {exc.message}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]
