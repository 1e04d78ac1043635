"""Atomic file replacement, the one way FleetBench writes a file a reader may open at any time."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8): a reader sees the old file or the new one, never a part.

    The text goes to a temporary file beside ``path``, is forced to disk, then renamed over it. The
    file is readable by its owner only (mode 0600, as the temporary file is created): releases,
    reports and token files are each one party's own.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
