"""Drill reports: JSON (everything), JUnit XML (one testcase per SLO, for CI), Markdown (for humans)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from chaos.drill.runner import DrillResult


def to_json(result: DrillResult) -> dict[str, Any]:
    drill = result.drill
    figures = result.figures
    return {
        "title": drill.title,
        "file": drill.path,
        "target": drill.target,
        "context": result.context,
        "started_at": result.started_at,
        "status": result.status,
        "exit_code": result.exit_code,
        "error": result.error,
        "steady_problems_before": result.steady_problems,
        "figures": None
        if figures is None
        else {
            "time_to_detect": figures.detect,
            "time_to_recover": figures.recover,
            "deviated": figures.deviated,
            "steady_at_end": figures.steady_at_end,
            "unit": "cluster seconds (sim seconds on the embedded cluster)",
        },
        "slos": [s.to_dict() for s in result.slos],
        "steps": [s.to_dict() for s in result.steps],
        "timeline": [e.to_dict() for e in result.timeline],
    }


def to_junit(result: DrillResult) -> str:
    suite = ET.Element(
        "testsuite",
        name=result.drill.title,
        tests=str(max(len(result.slos), 1)),
        failures=str(sum(1 for s in result.slos if not s.ok)),
        errors="0" if result.status in ("passed", "failed") else "1",
        skipped="0",
        timestamp=result.started_at,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("file", result.drill.path),
        ("target", result.drill.target),
        ("status", result.status),
    ):
        ET.SubElement(props, "property", name=name, value=str(value))
    classname = "kstor.drill." + re.sub(r"[^A-Za-z0-9_]+", "_", Path(result.drill.path).stem)
    if result.status not in ("passed", "failed"):
        case = ET.SubElement(suite, "testcase", name="drill", classname=classname, time="0")
        err = ET.SubElement(case, "error", message=result.error or result.status, type=result.status)
        err.text = "\n".join(result.steady_problems) or (result.error or "")
    for slo in result.slos:
        measured = f"{slo.measured:.3f}" if slo.measured is not None else "0"
        case = ET.SubElement(suite, "testcase", name=slo.title, classname=classname, time=measured)
        if not slo.ok:
            failure = ET.SubElement(case, "failure", message=slo.detail, type="SLO")
            failure.text = f"{result.drill.path}:{slo.line}: {slo.title}: {slo.detail}"
    suites = ET.Element("testsuites", name="kstor drills")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def to_markdown(result: DrillResult) -> str:
    drill, figures = result.drill, result.figures
    out = [f"# Drill: {drill.title}", ""]
    if drill.description:
        out += [drill.description.strip(), ""]
    out += [
        f"- **Result:** {result.status.upper()}" + (f" — {result.error}" if result.error else ""),
        f"- **File:** `{drill.path}`",
        f"- **Target:** {drill.target} (context `{result.context}`)",
        f"- **Started:** {result.started_at}",
    ]
    if figures is not None:
        out += [
            f"- **Time to detect:** {_seconds(figures.detect)}",
            f"- **Time to recover:** {_seconds(figures.recover)}",
        ]
    out.append("")
    if result.steady_problems:
        out += ["## Not steady before the drill", ""] + [f"- {p}" for p in result.steady_problems] + [""]
    if result.slos:
        out += ["## SLOs", "", "| SLO | measured | result | detail |", "|---|---|---|---|"]
        for slo in result.slos:
            verdict = "pass" if slo.ok else "**FAIL**"
            out.append(f"| {_cell(slo.title)} | {_seconds(slo.measured)} | {verdict} | {_cell(slo.detail)} |")
        out.append("")
    out += ["## Steps", "", "| # | step | at | result |", "|---|---|---|---|"]
    for step in result.steps:
        verdict = "ok" if step.ok else f"failed: {step.error}"
        at = "—" if step.started is None else f"{step.started:+.1f} s"
        out.append(f"| {step.section} {step.index} | {_cell(step.description)} | {at} | {_cell(verdict)} |")
    out += ["", "## Timeline", "", "Times in cluster seconds from the injection.", ""]
    out += ["| t | object | change |", "|---:|---|---|"]
    out += [f"| {e.t:+.1f} | {_cell(e.object)} | {_cell(e.change)} |" for e in result.timeline]
    return "\n".join(out) + "\n"


def write_reports(result: DrillResult, directory: str | Path) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = Path(result.drill.path).stem
    files = {
        directory / f"{stem}.json": json.dumps(to_json(result), indent=2) + "\n",
        directory / f"{stem}.junit.xml": to_junit(result),
        directory / f"{stem}.md": to_markdown(result),
    }
    for path, text in files.items():
        path.write_text(text)
    return list(files)
