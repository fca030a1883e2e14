"""Read a drill file: YAML (keeping each node's line), the JSON Schema, then kstor's own checks.

Every problem is one `file:line: what is wrong` (DrillFormatError), found before anything runs.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from chaos.actions import ACTIONS
from chaos.drill.model import ActionStep, Drill, PauseStep, Slo, Step, UndoStep, WaitStep
from chaos.drill.probes import ProbeFormatError, parse_probe
from chaos.errors import ActionError, DrillFormatError

Path_ = tuple[Any, ...]
DEFAULT_WAIT_TIMEOUT = 300.0
DEFAULT_OBSERVE = 300.0
TARGET_REFS = {"pv-of", "node-of", "pod-of", "va-of", "target-of"}
_LIMIT = re.compile(r"^\s*(?:<=)?\s*([0-9]+(?:\.[0-9]+)?)\s*s?\s*$")


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("chaos").joinpath("drill.schema.json").read_text())
    return loaded


class _Located:
    """The parsed document plus the line of every node, by its path of keys/indexes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[Path_, int] = {}

    def line(self, where: Path_) -> int:
        for cut in range(len(where), -1, -1):
            if where[:cut] in self.lines:
                return self.lines[where[:cut]]
        return 1

    def error(self, where: Path_, message: str) -> DrillFormatError:
        return DrillFormatError(f"{self.path}:{self.line(where)}: {message}")

    def build(self, node: yaml.Node, where: Path_ = ()) -> Any:
        self.lines[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, (*where, "<key>"))
                if not isinstance(key, str):
                    raise self.error((*where, "<key>"), f"keys must be strings, got {key!r}")
                if key in out:
                    raise DrillFormatError(
                        f"{self.path}:{key_node.start_mark.line + 1}: duplicate key {key!r}"
                    )
                self.lines[(*where, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*where, key))
                self.lines[(*where, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*where, i)) for i, item in enumerate(node.value)]
        return yaml.constructor.SafeConstructor().construct_object(node)


def parse_yaml(text: str, path: str) -> tuple[Any, _Located]:
    located = _Located(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DrillFormatError(f"{path}:{line}: invalid YAML: {problem}") from None
    if node is None:
        raise DrillFormatError(f"{path}:1: the file is empty")
    return located.build(node), located


def _schema_error(data: Any, located: _Located) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    best = jsonschema.exceptions.best_match(errors)
    where = tuple(best.absolute_path)
    if best.validator == "additionalProperties" and isinstance(best.instance, dict):
        # point at the offending key's line, not at the mapping's first line
        allowed = set(best.schema.get("properties") or {})
        extra = sorted(set(best.instance) - allowed)
        if extra:
            where = (*where, extra[0])
            field = ".".join(str(p) for p in where)
            raise located.error(where, f"{field}: unknown key (allowed: {', '.join(sorted(allowed))})")
    field = ".".join(str(p) for p in where) or "(top level)"
    raise located.error(where, f"{field}: {best.message}")


def _limit(value: Any, where: Path_, located: _Located) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _LIMIT.match(str(value))
    if not match:
        raise located.error(where, f"expected seconds, got {value!r}")
    return float(match.group(1))


def _probe(spec: Any, where: Path_, located: _Located) -> Any:
    try:
        return parse_probe(spec, where)
    except ProbeFormatError as exc:
        raise located.error(exc.path or where, str(exc)) from None


def _action(
    spec: dict[str, Any], where: Path_, located: _Located, labels: set[str] | None = None
) -> ActionStep:
    name = spec["action"]
    cls = ACTIONS.get(name)
    if cls is None:
        raise located.error(
            (*where, "action"), f"unknown action {name!r}; known: {', '.join(sorted(ACTIONS))}"
        )
    target = spec.get("target")
    if isinstance(target, dict):
        key = next(iter(target))
        if key not in TARGET_REFS:
            raise located.error((*where, "target"), f"unknown target reference {key!r}")
    elif not target and not cls.target_optional:
        raise located.error(where, f"action {name} needs a target ({cls.target_help})")
    if isinstance(target, dict) and "target-of" in target and target["target-of"] not in (labels or set()):
        raise located.error(
            (*where, "target"), f"target-of: no earlier action step named {target['target-of']!r}"
        )
    options = spec.get("options") or {}
    try:
        cls("probe-target" if isinstance(target, dict) else str(target or ""), **options)
    except ActionError as exc:
        raise located.error((*where, "options"), str(exc)) from None
    return ActionStep(name, target, options, spec.get("name") or name, located.line(where))


def _step(spec: dict[str, Any], where: Path_, located: _Located, labels: set[str]) -> Step:
    line = located.line(where)
    if "action" in spec:
        step = _action(spec, where, located, labels)
        labels.add(step.label)
        return step
    if "wait-for" in spec:
        probe = _probe(spec["wait-for"], (*where, "wait-for"), located)
        return WaitStep(
            probe, _limit(spec.get("timeout", DEFAULT_WAIT_TIMEOUT), (*where, "timeout"), located), line
        )
    if "pause" in spec:
        return PauseStep(_limit(spec["pause"], (*where, "pause"), located), line)
    if spec["undo"] not in labels:
        raise located.error((*where, "undo"), f"undo: no earlier action step named {spec['undo']!r}")
    return UndoStep(spec["undo"], line)


def _slo(spec: dict[str, Any], where: Path_, located: _Located) -> Slo:
    line = located.line(where)
    for kind in ("time-to-detect", "time-to-recover"):
        if kind in spec:
            return Slo(kind, _limit(spec[kind], (*where, kind), located), None, line)
    if "expect" in spec:
        probe = _probe(spec["expect"], (*where, "expect"), located)
        return Slo("expect", _limit(spec["within"], (*where, "within"), located), probe, line)
    probe = _probe(spec["hold"], (*where, "hold"), located)
    return Slo("hold", _limit(spec["for"], (*where, "for"), located), probe, line)


def parse_drill(text: str, path: str) -> Drill:
    data, located = parse_yaml(text, path)
    if not isinstance(data, dict):
        raise located.error((), "a drill is a mapping (title, target, method, ...)")
    _schema_error(data, located)
    target = data["target"]
    if target.startswith("sim:") and not target[4:]:
        raise located.error(("target",), "sim: needs a scenario name, e.g. sim:small")
    steady = data.get("steady-state") or {}
    probes = [
        _probe(p, ("steady-state", "probes", i), located) for i, p in enumerate(steady.get("probes") or [])
    ]
    setup = [_action(s, ("setup", i), located) for i, s in enumerate(data.get("setup") or [])]
    labels: set[str] = set()
    method = [_step(s, ("method", i), located, labels) for i, s in enumerate(data["method"])]
    rollbacks = [
        _action(s, ("rollbacks", i), located, labels) for i, s in enumerate(data.get("rollbacks") or [])
    ]
    slos = [_slo(s, ("slos", i), located) for i, s in enumerate(data.get("slos") or [])]
    if not any(isinstance(s, ActionStep) for s in method):
        raise located.error(("method",), "the method has no action step: nothing would be injected")
    return Drill(
        path=path,
        title=data["title"],
        description=data.get("description", ""),
        target=target,
        speed=data.get("speed"),
        settle=data.get("settle"),
        observe=float(data.get("observe", DEFAULT_OBSERVE)),
        model_steady=bool(steady.get("model", True)),
        steady_probes=probes,
        method=method,
        rollbacks=rollbacks,
        slos=slos,
        setup=setup,
    )


def load_drill(path: str | Path) -> Drill:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DrillFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_drill(text, str(path))


def library_path() -> Path:
    return Path(str(resources.files("chaos").joinpath("drills")))


def library() -> list[Path]:
    return sorted(library_path().glob("*.yaml"))
