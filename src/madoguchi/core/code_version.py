"""Which version of the code is running: the SHA-256 of the package's Python sources."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@functools.cache
def code_digest() -> str:
    """SHA-256 of every Python source of the `madoguchi` package, names and contents (read once
    per process; results kept across processes — `forecasts.dashboard_cache` — carry it so a
    result pickled by other code is never read back)."""
    sha = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        sha.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        sha.update(b"\0")
        sha.update(path.read_bytes())
    return sha.hexdigest()
