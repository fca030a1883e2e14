"""Guardrails: which contexts and namespaces chaos may touch.

By default only the embedded cluster (context `kstor-sim`) and kind clusters (`kind-*`) are fair
game; anything else must be listed in the user's config file. The check runs before any
connection is opened or any file is written, so a refused run leaves no trace at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaos.errors import GuardrailError
from kstor.errors import KstorError

SIM_CONTEXT = "kstor-sim"
KIND_PREFIX = "kind-"


def config_path() -> Path:
    env = os.environ.get("KSTOR_CONFIG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kstor" / "config.yaml"


@dataclass(frozen=True)
class ChaosConfig:
    allowed_contexts: tuple[str, ...] = ()
    allowed_namespaces: tuple[str, ...] = ()
    source: str = field(default="(defaults)")


def _string_list(value: Any, *, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KstorError(f"{where}: must be a list of strings")
    return tuple(value)


def load_config(path: Path | None = None) -> ChaosConfig:
    path = path or config_path()
    if not path.exists():
        return ChaosConfig()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise KstorError(
            f"{path}{line}: cannot read config: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if not isinstance(data, dict):
        raise KstorError(f"{path}: config must be a mapping")
    section = data.get("chaos") or {}
    if not isinstance(section, dict):
        raise KstorError(f"{path}: `chaos` must be a mapping")
    return ChaosConfig(
        allowed_contexts=_string_list(
            section.get("allowed_contexts"), where=f"{path}: chaos.allowed_contexts"
        ),
        allowed_namespaces=_string_list(
            section.get("allowed_namespaces"), where=f"{path}: chaos.allowed_namespaces"
        ),
        source=str(path),
    )


def _is_loopback(server: str | None) -> bool:
    if not server:
        return True
    host = server.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    return host in {"127.0.0.1", "localhost", "::1"}


def check_context(context: str, *, server: str | None = None, config: ChaosConfig | None = None) -> None:
    """Raise GuardrailError unless chaos may touch `context`."""
    config = config or load_config()
    if context in config.allowed_contexts:
        return
    if context == SIM_CONTEXT and _is_loopback(server):
        return
    if context.startswith(KIND_PREFIX):
        return
    raise GuardrailError(
        f"refusing chaos on context {context!r}: only {SIM_CONTEXT!r} and 'kind-*' are allowed by default; "
        f"add it to chaos.allowed_contexts in {config_path()} to allow it"
    )


def check_namespaces(namespaces: Iterable[str], *, config: ChaosConfig | None = None) -> None:
    """With chaos.allowed_namespaces set, every namespaced object touched must be in one of them."""
    config = config or load_config()
    if not config.allowed_namespaces:
        return
    bad = sorted({ns for ns in namespaces if ns and ns not in config.allowed_namespaces})
    if bad:
        raise GuardrailError(
            f"refusing chaos in namespace(s) {', '.join(bad)}: not in chaos.allowed_namespaces "
            f"({', '.join(config.allowed_namespaces)}) of {config.source}"
        )
