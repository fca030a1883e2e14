"""Wait conditions in demo scripts are chaos drill probes; check them at load time (file:line)."""

from __future__ import annotations

from chaos.drill.probes import ProbeFormatError, parse_probe
from kstor.demo.script import DemoScript, ScriptError


def check_conditions(script: DemoScript) -> None:
    for step in script.steps:
        if step.kind != "wait":
            continue
        try:
            parse_probe(step.until)
        except ProbeFormatError as exc:
            raise ScriptError(f"{script.path}:{step.line}: bad wait condition: {exc}") from None
