"""Demo scripts (`demo/scripts/*.yaml`): a titled sequence of steps run on the embedded cluster.

```yaml
title: NFS outage
scenario: small          # built-in sim scenario
size: [132, 40]          # terminal columns, rows
steps:
  - caption: The NFS server goes away...   # shown on screen; one SVG frame per captioned step
    hold: 3                                # seconds the frame stays in the recording
  - press: ["2", "j", "j"]                 # keys, as Textual names them
  - chaos: {action: kill-nfs}              # a chaos action (same names as `kstor chaos`)
  - wait: {until: "pod-mount-failed: default/app=web", timeout: 120}
  - advance: 30                            # move the sim clock (seconds)
```
Every mistake is reported as `file:line: what is wrong`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kstor.errors import KstorError

STEP_KINDS = ("caption", "press", "wait", "advance", "chaos", "screen")
DEFAULT_SIZE = (132, 40)


class ScriptError(KstorError):
    """A malformed demo script: the message names file and line."""


@dataclass(frozen=True)
class Step:
    kind: str
    line: int
    caption: str = ""
    hold: float = 2.0
    keys: tuple[str, ...] = ()
    until: Any = ""
    timeout: float = 60.0
    seconds: float = 0.0
    action: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoScript:
    name: str
    title: str
    scenario: str
    size: tuple[int, int]
    steps: tuple[Step, ...]
    path: Path


def _fail(path: Path, node: yaml.Node | None, message: str) -> ScriptError:
    line = node.start_mark.line + 1 if node is not None else 1
    return ScriptError(f"{path}:{line}: {message}")


def _mapping(path: Path, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, f"{what} must be a mapping")
    out: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _fail(path, key, f"{what}: keys must be plain names")
        if key.value in out:
            raise _fail(path, key, f"{what}: duplicate key {key.value!r}")
        out[key.value] = value
    return out


def _scalar(path: Path, node: yaml.Node, what: str, kind: type) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise _fail(path, node, f"{what} must be a {kind.__name__}")
    value = yaml.safe_load(yaml.serialize(node))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _fail(path, node, f"{what} must be a {kind.__name__}, not {value!r}")
    if kind is float and value < 0:
        raise _fail(path, node, f"{what} must not be negative")
    return value


def _step(path: Path, node: yaml.Node) -> Step:
    fields = _mapping(path, node, "a step")
    kinds = [k for k in fields if k in STEP_KINDS]
    if len(kinds) != 1:
        raise _fail(path, node, f"a step needs exactly one of {', '.join(STEP_KINDS)}; got {sorted(fields)}")
    kind = kinds[0]
    line = node.start_mark.line + 1
    allowed = {"caption": {"caption", "hold"}}.get(kind, {kind})
    for key, key_node in ((k, v) for k, v in fields.items() if k not in allowed):
        raise _fail(path, key_node, f"{kind} step: unknown field {key!r}")
    value = fields[kind]
    if kind == "caption":
        hold = _scalar(path, fields["hold"], "hold", float) if "hold" in fields else 2.0
        return Step(kind, line, caption=_scalar(path, value, "caption", str), hold=hold)
    if kind == "press":
        if isinstance(value, yaml.ScalarNode):
            return Step(kind, line, keys=(_scalar(path, value, "press", str),))
        if not isinstance(value, yaml.SequenceNode) or not value.value:
            raise _fail(path, value, "press must be a key or a non-empty list of keys")
        return Step(kind, line, keys=tuple(_scalar(path, k, "a key", str) for k in value.value))
    if kind in {"advance", "screen"}:
        if kind == "screen":
            return Step(kind, line, caption=_scalar(path, value, "screen", str))
        return Step(kind, line, seconds=_scalar(path, value, "advance", float))
    spec = _mapping(path, value, f"{kind} step")
    if kind == "wait":
        if "until" not in spec:
            raise _fail(path, value, "wait needs `until: <condition>`")
        for key in spec:
            if key not in {"until", "timeout"}:
                raise _fail(path, spec[key], f"wait: unknown field {key!r}")
        timeout = _scalar(path, spec["timeout"], "timeout", float) if "timeout" in spec else 60.0
        until = yaml.safe_load(yaml.serialize(spec["until"]))
        if not isinstance(until, str | dict) or not until:
            raise _fail(path, spec["until"], "until must be a probe: a name or {name: arguments}")
        return Step(kind, line, until=until, timeout=timeout)
    if "action" not in spec:
        raise _fail(path, value, "chaos needs `action: <name>`")
    action = yaml.safe_load(yaml.serialize(value))
    return Step(kind, line, action=action)


def load_script(path: str | Path) -> DemoScript:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read demo script: {exc.strerror}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ScriptError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        raise ScriptError(f"{path}:1: empty demo script")
    top = _mapping(path, root, "a demo script")
    for key, node in top.items():
        if key not in {"title", "scenario", "size", "steps", "description"}:
            raise _fail(path, node, f"unknown field {key!r} (expected title, scenario, size, steps)")
    for required in ("title", "steps"):
        if required not in top:
            raise _fail(path, root, f"missing `{required}`")
    size = DEFAULT_SIZE
    if "size" in top:
        node = top["size"]
        values = yaml.safe_load(yaml.serialize(node))
        valid = isinstance(values, list) and len(values) == 2
        if not (valid and all(isinstance(v, int) and v >= 20 for v in values)):
            raise _fail(path, node, "size must be [columns, rows], each at least 20")
        size = (values[0], values[1])
    steps_node = top["steps"]
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        raise _fail(path, steps_node, "steps must be a non-empty list")
    return DemoScript(
        name=path.stem,
        title=_scalar(path, top["title"], "title", str),
        scenario=_scalar(path, top["scenario"], "scenario", str) if "scenario" in top else "small",
        size=size,
        steps=tuple(_step(path, node) for node in steps_node.value),
        path=path,
    )
