"""`socialdesk listening detect`: a CSV series in, the detections' timestamps out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.listening.synthetic import SeriesSpec, generate_series

runner = CliRunner()


def write_series(path: Path, days: int = 14, seed: int = 3) -> list[str]:
    series = generate_series(SeriesSpec(days=days, gaps_per_week=0.0), seed)
    lines = ["timestamp,value"] + [
        f"{t.strftime('%Y-%m-%d %H:%M:%S')},{int(v)}"
        for t, v in zip(series.timestamps, series.values, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def test_detections_are_written_as_json_and_a_prefix_gives_the_same_ones(tmp_path: Path) -> None:
    lines = write_series(tmp_path / "s.csv")
    result = runner.invoke(
        app, ["listening", "detect", str(tmp_path / "s.csv"), "--json", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 0, result.output
    full = json.loads((tmp_path / "o.json").read_text())["detections"]
    assert full and all(len(t) == 19 for t in full)  # written as the file wrote them
    cut = len(lines) * 2 // 3
    (tmp_path / "p.csv").write_text("\n".join(lines[:cut]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["listening", "detect", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    prefix = json.loads(result.stdout)["detections"]
    last = lines[cut - 1].split(",")[0]
    assert prefix == [t for t in full if t <= last]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,count\n2026-01-01 00:00,1\n", "missing column(s) timestamp, value"),
        (
            "timestamp,value\n2026-01-01 00:00,1\n2026-01-01 00:05,lots\n2026-01-01 00:10,2\n",
            "line 3: value 'lots' is not a number",
        ),
        (
            "timestamp,value\n2026-01-01 00:00,1\n2026-01-01 00:05,2\n"
            "2026-01-01 00:07,2\n2026-01-01 00:12,1\n",
            "irregular steps",
        ),
        ("timestamp,value\nyesterday,1\n", "line 2: timestamp 'yesterday' is not an ISO date"),
        (
            "timestamp,value\n2026-01-01 00:05,1\n2026-01-01 00:00,1\n2026-01-01 00:10,1\n",
            "timestamps must increase",
        ),
        ("", "the file is empty"),
    ],
)
def test_a_bad_series_gets_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(
        app, ["listening", "detect", str(path), "--json", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o.json").exists()


def test_missing_steps_are_gaps_not_errors(tmp_path: Path) -> None:
    rows = ["timestamp,value"] + [
        f"2026-01-01T{h:02d}:00:00Z,{5 + h % 3}" for h in range(24) if h != 7
    ]
    path = tmp_path / "gappy.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    result = runner.invoke(app, ["listening", "detect", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 missing step(s)" in result.output
    assert json.loads(result.stdout) == {"detections": []}


def test_a_jittering_clock_is_not_an_irregular_step(tmp_path: Path) -> None:
    rows = ["timestamp,value", "2026-01-01 00:00:00,3", "2026-01-01 00:05:12,4"]
    rows += ["2026-01-01 00:09:55,3", "2026-01-01 00:15:00,5", "2026-01-01 00:25:03,4"]
    path = tmp_path / "jitter.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    result = runner.invoke(app, ["listening", "detect", str(path)])
    assert result.exit_code == 0, result.output
    assert "step 0:05:00, 1 missing step(s)" in result.output
