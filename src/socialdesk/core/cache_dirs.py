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
    """Records that the entry was used now (the marker file's modification time)."""
    with contextlib.suppress(OSError):
        os.utime(marker)


def remove_unused(
    directory: Path,
    patterns: tuple[str, ...],
    marker: str,
    *,
    keep: Path,
    unused_for: float = UNUSED_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Removes the entries (directories matching ``patterns``) whose ``marker`` file, or the
    entry itself when it has none, was last used longer ago than ``unused_for`` seconds;
    returns them. Another process may be building or using an entry meanwhile: an entry in
    use was marked recently, and an entry that vanishes is simply built again."""
    cutoff = (time.time() if now is None else now) - unused_for
    removed: list[Path] = []
    for pattern in patterns:
        for entry in directory.glob(pattern):
            if entry == keep or not entry.is_dir():
                continue
            try:
                stamp = entry / marker if (entry / marker).exists() else entry
                if stamp.stat().st_mtime >= cutoff:
                    continue
            except OSError:
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
