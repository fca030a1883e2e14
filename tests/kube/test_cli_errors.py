"""`kstor --kubeconfig <bad>`: one line on stderr naming the file or server, exit 1, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kubeconfig_text(server: str) -> str:
    return (
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        f"clusters:\n- name: c\n  cluster: {{server: '{server}'}}\n"
        "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n"
    )


CASES = {
    "missing": (None, [], "kstor: error: kubeconfig {path}: no such file"),
    "broken": ("clusters: [\n  - {name: x\n", [], "kstor: error: kubeconfig {path}: line "),
    "context": (
        kubeconfig_text("https://127.0.0.1:1"),
        ["--context", "nope"],
        'kstor: error: context "nope" not found in {path}; known: a',
    ),
    "unreachable": (
        kubeconfig_text("http://127.0.0.1:{port}"),
        [],
        "kstor: error: cannot reach http://127.0.0.1:{port}: connection refused",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_kubeconfig_is_one_line(case: str, tmp_path: Path) -> None:
    text, extra, expected = CASES[case]
    path, port = tmp_path / "kubeconfig", closed_port()
    if text is not None:
        path.write_text(text.replace("{port}", str(port)))
    result = subprocess.run(
        [sys.executable, "-m", "kstor", "--kubeconfig", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(expected.format(path=path, port=port)), lines[0]
