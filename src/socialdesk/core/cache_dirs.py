"""Where socialdesk keeps what it derives and can always derive again (exported and seed
models): per user, never in the database."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(override_variable: str, name: str) -> Path:
    """The directory the environment variable names, else ``socialdesk/<name>`` in the
    user's cache directory (XDG_CACHE_HOME, else ~/.cache)."""
    explicit = os.environ.get(override_variable)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "socialdesk" / name
