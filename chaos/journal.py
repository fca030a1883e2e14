"""The chaos journal: an append-only JSONL file, fsync'd before each action executes.

A `begin` line records the action, its target's previous state and the restore steps; a later
`done` line says it was carried out and a `restored` line that it was undone. Whatever has a
`begin` with restore steps but no `restored` line is what `kstor chaos restore` undoes — also
after the process that wrote it was killed.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def default_journal_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kstor" / "journal.jsonl"


@dataclass
class JournalEntry:
    """One action as the journal knows it (folded from its lines)."""

    id: str
    action: str
    target: str
    context: str
    kubeconfig: str | None
    previous: dict[str, Any]
    restore: list[dict[str, Any]]
    status: str = "begun"  # begun | done | failed | restored
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def needs_restore(self) -> bool:
        return bool(self.restore) and self.status != "restored"


class Journal:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_journal_path()

    def _append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # a line torn by a crash stays on its own line, never glued to ours
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def begin(
        self,
        *,
        action: str,
        target: str,
        context: str,
        kubeconfig: str | None,
        previous: dict[str, Any],
        restore: list[dict[str, Any]],
    ) -> str:
        entry_id = secrets.token_hex(6)
        self._append(
            {
                "id": entry_id,
                "event": "begin",
                "at": _now(),
                "action": action,
                "target": target,
                "context": context,
                "kubeconfig": kubeconfig,
                "previous": previous,
                "restore": restore,
            }
        )
        return entry_id

    def mark(self, entry_id: str, event: str, **details: Any) -> None:
        """Append a `done`, `failed` or `restored` line for an entry."""
        self._append({"id": entry_id, "event": event, "at": _now(), **details})

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open() as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except json.JSONDecodeError:
                    # A line cut short by a crash mid-write is the only damage an append can do;
                    # its action's `begin` line (written and fsync'd first) still stands.
                    log.warning("%s:%d: skipping a torn journal line", self.path, number)
                    continue
                if isinstance(record, dict) and "id" in record:
                    yield record

    def entries(self) -> list[JournalEntry]:
        found: dict[str, JournalEntry] = {}
        for record in self.records():
            if record.get("event") == "begin":
                found[record["id"]] = JournalEntry(
                    id=record["id"],
                    action=record.get("action", "?"),
                    target=record.get("target", ""),
                    context=record.get("context", ""),
                    kubeconfig=record.get("kubeconfig"),
                    previous=record.get("previous") or {},
                    restore=record.get("restore") or [],
                    lines=[record],
                )
            elif record["id"] in found:
                entry = found[record["id"]]
                entry.lines.append(record)
                if entry.status != "restored":
                    entry.status = str(record.get("event", entry.status))
        return list(found.values())

    def pending(self) -> list[JournalEntry]:
        """Entries still to undo, newest first (undo in reverse order of doing)."""
        return [e for e in reversed(self.entries()) if e.needs_restore]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
