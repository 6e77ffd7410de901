"""Where socialdesk keeps what it derives and can always derive again (exported and seed
models): per user, never in the database; and how entries nobody uses any more go."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path


def user_cache_dir(override_variable: str, name: str) -> Path:
    """The directory the environment variable names, else ``socialdesk/<name>`` in the
    user's cache directory (XDG_CACHE_HOME, else ~/.cache)."""
    explicit = os.environ.get(override_variable)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "socialdesk" / name


# An entry no process has used for this long is removed when a new one is built beside it.
UNUSED_SECONDS = 30 * 24 * 3600


def mark_used(marker: Path) -> None:
    """Records that an entry was used now (the modification time of its marker file, or of
    the entry itself when it is one file)."""
    with contextlib.suppress(OSError):
        os.utime(marker)


def remove_unused(
    directory: Path,
    patterns: tuple[str, ...],
    *,
    keep: Path,
    marker: str | None = None,
    unused_for: float = UNUSED_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Removes the entries matching ``patterns`` (files, or directories with a ``marker``
    file) last used longer ago than ``unused_for`` seconds, and returns them. A directory
    without its marker is judged by its own age. Another process may be building or using an
    entry meanwhile: an entry in use was marked recently, and an entry that vanishes is
    simply built again."""
    cutoff = (time.time() if now is None else now) - unused_for
    removed: list[Path] = []
    for pattern in patterns:
        for entry in directory.glob(pattern):
            if entry == keep:
                continue
            try:
                folder = entry.is_dir()
                if folder and marker is None:
                    continue
                stamp = entry / marker if folder and marker and (entry / marker).exists() else entry
                if stamp.stat().st_mtime >= cutoff:
                    continue
                if folder:
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            except OSError:
                continue
            removed.append(entry)
    return removed
