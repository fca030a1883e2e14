"""asciicast v2: a JSON header line, then `[time, "o", data]` event lines with non-decreasing times."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Cast:
    width: int
    height: int
    title: str = ""
    timestamp: int | None = None
    events: list[tuple[float, str]] = field(default_factory=list)

    def output(self, at: float, data: str) -> None:
        at = round(at, 6)  # times are sums of script intervals: keep float noise out of the file
        if self.events and at < self.events[-1][0]:
            raise ValueError(f"asciicast time went backwards: {at} < {self.events[-1][0]}")
        self.events.append((at, data))

    def header(self) -> dict[str, Any]:
        header: dict[str, Any] = {"version": 2, "width": self.width, "height": self.height}
        if self.timestamp is not None:
            header["timestamp"] = self.timestamp
        if self.title:
            header["title"] = self.title
        header["env"] = {"TERM": "xterm-256color", "SHELL": "/bin/sh"}
        return header

    def dumps(self) -> str:
        lines = [json.dumps(self.header(), ensure_ascii=False)]
        lines += [json.dumps([at, "o", data], ensure_ascii=False) for at, data in self.events]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.dumps(), encoding="utf-8")


class CastFormatError(ValueError):
    pass


def parse_cast(text: str) -> Cast:
    """Parse and check an asciicast v2 file (raises CastFormatError naming the line)."""
    lines = text.splitlines()
    if not lines:
        raise CastFormatError("line 1: empty file")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise CastFormatError(f"line 1: header is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("version") != 2:
        raise CastFormatError("line 1: header must be an object with version 2")
    for key in ("width", "height"):
        if not isinstance(header.get(key), int) or header[key] <= 0:
            raise CastFormatError(f"line 1: header.{key} must be a positive integer")
    cast = Cast(header["width"], header["height"], header.get("title", ""), header.get("timestamp"))
    for number, line in enumerate(lines[1:], start=2):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CastFormatError(f"line {number}: not JSON: {exc}") from None
        ok = (
            isinstance(event, list) and len(event) == 3 and isinstance(event[0], int | float)
            and event[1] in {"o", "i", "m", "r"} and isinstance(event[2], str)
        )
        if not ok:
            raise CastFormatError(f"line {number}: an event must be [time, code, data]")
        try:
            cast.output(float(event[0]), event[2]) if event[1] == "o" else None
        except ValueError as exc:
            raise CastFormatError(f"line {number}: {exc}") from None
    return cast
