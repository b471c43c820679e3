"""Appending lines to a file kept outside the database (access-log checkpoints, the erasure ledger) so
that they survive: one write to a file opened for appending, so that two writers never interleave, then
fsync, because a line is only worth what survives a crash."""

from __future__ import annotations

import os
from pathlib import Path


def append_lines(path: Path, text: str) -> None:
    """Appends `text` (whole lines) to `path`, creating it readable by owner and group only. Raises OSError."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
