"""`--state FILE`: the registry's objects saved on shutdown and restored on start.

Written atomically (temp file in the same directory, fsync, os.replace) so a crash mid-write
leaves the previous file intact; a file that is not a state file is one clear error.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kstor.errors import KstorError

if TYPE_CHECKING:
    from kstor.sim.apiserver.registry import Registry

FORMAT = "kstor.sim/state-v1"


def save_state(registry: Registry, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    data = {"format": FORMAT, **registry.dump()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
    return path


def load_state(registry: Registry, path: str | os.PathLike[str]) -> int:
    """Replace the registry's contents with the file's; returns the number of objects restored."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise KstorError(f"{path}: cannot read state file: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        raise KstorError(f"{path}: line {line}: corrupt state file (not JSON): {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(data.get("objects"), list)
    ):
        raise KstorError(f"{path}: not a kstor sim state file (expected format {FORMAT!r})")
    try:
        registry.restore(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KstorError(f"{path}: corrupt state file: bad object ({exc})") from None
    except Exception as exc:  # ApiError from an unknown kind
        raise KstorError(f"{path}: corrupt state file: {exc}") from None
    return len(data["objects"])
