"""A command's JSON report: printed, and kept in a file when asked."""

from __future__ import annotations

import json
from pathlib import Path

from socialdesk.core.report_file import json_report


def test_the_report_is_written_where_asked_even_into_a_folder_not_made_yet(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "today" / "soak.json"
    text = json_report({"benchmark": "soak", "errors": 0}, path)
    assert json.loads(text) == {"benchmark": "soak", "errors": 0}
    assert path.read_text(encoding="utf-8") == text + "\n"


def test_without_a_path_the_report_is_only_returned(tmp_path: Path) -> None:
    assert json.loads(json_report({"runs": []}, None)) == {"runs": []}
    assert list(tmp_path.iterdir()) == []
