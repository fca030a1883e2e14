"""Connecting: kubeconfig merging like kubectl, credentials, and one clear line for every failure."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from kstor.errors import KstorError
from kstor.kube.connect import connect, load_kubeconfig
from tests.kube.fakeapi import TOKEN, FakeApi


def write_config(
    path: Path,
    *,
    current: str | None,
    contexts: dict[str, str],
    server: str = "http://127.0.0.1:1",
    user: dict | None = None,
) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": server}} for c in sorted(set(contexts.values()))],
        "users": [{"name": "u", "user": user or {"token": TOKEN}}],
        "contexts": [{"name": n, "context": {"cluster": c, "user": "u"}} for n, c in contexts.items()],
    }
    if current:
        config["current-context"] = current
    path.write_text(json.dumps(config))
    return path


async def error_of(coro) -> str:
    with pytest.raises(KstorError) as info:
        await coro
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text
    return text


async def test_missing_file(tmp_path: Path) -> None:
    text = await error_of(connect(tmp_path / "nope"))
    assert text == f"kubeconfig {tmp_path / 'nope'}: no such file"


async def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nclusters:\n  - name: x\n    cluster: {server: [\n")
    text = await error_of(connect(bad))
    assert text.startswith(f"kubeconfig {bad}: line ") and "invalid YAML" in text


async def test_not_a_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "list"
    bad.write_text("- just\n- a list\n")
    assert "not a kubeconfig" in await error_of(connect(bad))


async def test_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c", current="a", contexts={"a": "c1", "b": "c1"})
    text = await error_of(connect(path, context="x"))
    assert text == f'context "x" not found in {path}; known: a, b'


async def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was just free and is closed now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = write_config(tmp_path / "c", current="a", contexts={"a": "c1"}, server=f"http://127.0.0.1:{port}")
    text = await error_of(connect(path))
    assert text == f"cannot reach http://127.0.0.1:{port}: connection refused"


async def test_rejected_token(fake: FakeApi, tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "c",
        current="a",
        contexts={"a": "c1"},
        server=f"http://127.0.0.1:{fake.port}",
        user={"token": "wrong"},
    )
    text = await error_of(connect(path))
    assert "unauthorized (401)" in text and '"a"' in text


async def test_several_files_merge_like_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_config(tmp_path / "first", current="b", contexts={"a": "one"}, server="https://first:6443")
    second = write_config(
        tmp_path / "second", current="a", contexts={"a": "two", "b": "two"}, server="https://second:6443"
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing'}:{second}")
    _, info, _ = await load_kubeconfig()
    # current-context from the first file that sets it; context "b" only exists in the second.
    assert (info.context, info.cluster, info.server) == ("b", "two", "https://second:6443")
    _, info, _ = await load_kubeconfig(context="a")
    assert (info.cluster, info.server) == ("one", "https://first:6443")  # first definition of "a" wins


async def test_exec_credential_plugin_supplies_the_token(fake: FakeApi, tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        f"#!{sys.executable}\nimport json\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        f" 'status': {{'token': {TOKEN!r}}}}}))\n"
    )
    plugin.chmod(0o755)
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": str(plugin),
            "interactiveMode": "Never",
        }
    }
    path = write_config(
        tmp_path / "c", current="a", contexts={"a": "c1"}, server=f"http://127.0.0.1:{fake.port}", user=user
    )
    conn = await connect(path)
    try:
        assert conn.info.context == "a"
        assert await conn.transport.request("GET", "/api/v1/pods") == {
            "kind": "List",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(fake.rv)},
            "items": [],
        }
    finally:
        await conn.close()


async def test_failing_exec_plugin_is_one_line(tmp_path: Path) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/false"}}
    path = write_config(tmp_path / "c", current="a", contexts={"a": "c1"}, user=user)
    text = await error_of(connect(path))
    assert text.startswith(f'kubeconfig {path}: context "a": exec: process returned 1')


def test_in_cluster_service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kstor.kube.connect import load_in_cluster

    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "namespace").write_text("storage\n")
    config, info = load_in_cluster(
        token_file=str(tmp_path / "token"),
        cert_file=str(tmp_path / "ca.crt"),
        namespace_file=str(tmp_path / "namespace"),
    )
    assert (info.server, info.namespace, info.is_sim) == ("https://10.0.0.1:443", "storage", False)
    assert config.api_key["BearerToken"] == "Bearer sa-token"
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(KstorError, match="in-cluster config: Service host/port is not set"):
        load_in_cluster(token_file=str(tmp_path / "token"), cert_file=str(tmp_path / "ca.crt"))
