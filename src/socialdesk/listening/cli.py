"""`socialdesk listening ...`: the listening detectors from the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from socialdesk.core.report_file import json_report
from socialdesk.listening.series import (
    SeriesError,
    cli_config,
    detect_file,
    format_time,
    read_series,
)

listening_app = typer.Typer(
    help="Listening: spike detection on mention volume.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)


@listening_app.command("detect")
def detect(
    series_csv: Annotated[
        Path, typer.Argument(help="CSV with columns timestamp,value at regular steps.")
    ],
    json_path: Annotated[
        Path | None, typer.Option("--json", help='Write {"detections": [timestamp, ...]} here.')
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Sensitivity: the z-score an alarm needs (default 4.5; lower = more).", min=0.5
        ),
    ] = None,
    refractory_hours: Annotated[
        float | None,
        typer.Option("--refractory-hours", help="Silence after an alarm (default 6).", min=0.0),
    ] = None,
) -> None:
    """Run the production spike detector over one volume series, causally, point by point.

    Each detection is the timestamp of the step whose data raised it; a prefix of the file
    gets the same detections on that prefix.
    """
    try:
        series = read_series(series_csv)
    except SeriesError as exc:
        console.print(f"error: {series_csv}: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    config = cli_config()
    if threshold is not None:
        config = replace(config, threshold=threshold)
    if refractory_hours is not None:
        config = replace(config, refractory=timedelta(hours=refractory_hours))
    found = detect_file(series, config)
    stamps = [format_time(d.at, series.naive) for d in found]
    console.print(
        f"{len(series.values)} points, step {series.step}, {series.missing} missing step(s): "
        f"{len(found)} detection(s)",
        markup=False,
        highlight=False,
    )
    if json_path is not None:
        try:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps({"detections": stamps}, indent=1) + "\n", "utf-8")
        except OSError as exc:
            console.print(f"error: cannot write {json_path}: {exc}", markup=False, highlight=False)
            raise typer.Exit(2) from None
    else:
        typer.echo(json.dumps({"detections": stamps}))


def bench_listening(
    days: Annotated[float, typer.Option(help="Days of generated traffic.", min=2.0)] = 7.0,
    rate: Annotated[
        float, typer.Option(help="Generated messages per hour (daily average).", min=10.0)
    ] = 300.0,
    seed: Annotated[int, typer.Option(help="Random seed of the traffic.")] = 1,
    classify: Annotated[
        str,
        typer.Option(
            help="Topic and sentiment from 'truth' (the generator's labels) or 'triage' "
            "(socialdesk's classifier)."
        ),
    ] = "truth",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here.")] = None,
) -> None:
    """A simulated week with an outage (a topic x10), a backlash hashtag (x100 within an
    hour) and a viral complaint: detection delay, false alarms per week, share grouped."""
    from socialdesk.listening.bench import BenchConfig, run_listening_benchmark

    if classify not in ("truth", "triage"):
        console.print("error: --classify must be 'truth' or 'triage'", markup=False)
        raise typer.Exit(2)
    report = run_listening_benchmark(
        BenchConfig(days=days, rate=rate, seed=seed, classify=classify)
    )
    typer.echo(json_report(report, json_out))
