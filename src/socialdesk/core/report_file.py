"""The JSON report a command prints, and keeps in a file when asked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def json_report(report: Mapping[str, Any], path: Path | None) -> str:
    """The report as indented JSON, also written to ``path`` when one is given (its folder
    is made, so that a long run's figures are not lost to a missing directory)."""
    text = json.dumps(report, indent=2)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    return text
