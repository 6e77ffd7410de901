"""The simulation report as a terminal table (rich), a JSON file and PNG charts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table

from socialdesk.simulation.engine import RunOutcome
from socialdesk.simulation.metrics import QUARTILES

POLICY_COLOURS = {"fifo": "#8c8c8c", "round_robin": "#e69f00", "value": "#0072b2"}


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 120:
        return f"{value / 60:.1f} h"
    return f"{value:.1f} min"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def tables(report: Mapping[str, Any]) -> Group:
    """Policies side by side: the overall figures, then per value quartile and channel."""
    policies: Mapping[str, Any] = report["policies"]
    names = list(policies)
    main = Table(title="Policies side by side (first-response time = until the first reply)")
    main.add_column("")
    for name in names:
        main.add_column(name, justify="right")
    rows: list[tuple[str, Any]] = [
        ("items", lambda p: str(p["items"])),
        ("response rate", lambda p: _share(p["response_rate"])),
        ("abandoned", lambda p: str(p["abandoned"])),
        ("FRT p50", lambda p: _minutes(p["frt_minutes"]["p50"])),
        ("FRT p90", lambda p: _minutes(p["frt_minutes"]["p90"])),
        ("FRT p99", lambda p: _minutes(p["frt_minutes"]["p99"])),
        ("handling complete p50", lambda p: _minutes(p["completion_minutes"]["p50"])),
        ("handling complete p90", lambda p: _minutes(p["completion_minutes"]["p90"])),
        ("SLA attainment", lambda p: _share(p["sla_attainment"])),
        ("agent utilisation", lambda p: _share(p["utilisation"])),
        ("longest queue", lambda p: str(p["max_queue"])),
    ]
    for label, cell in rows:
        main.add_row(label, *(cell(policies[n]) for n in names))

    quart = Table(title="FRT p90 by value quartile (Q4 = most valuable quarter)")
    quart.add_column("")
    for name in names:
        quart.add_column(name, justify="right")
    for q in QUARTILES:
        quart.add_row(
            q,
            *(
                f"{_minutes(policies[n]['by_value_quartile'][q]['frt_minutes']['p90'])}"
                f"  ({_share(policies[n]['by_value_quartile'][q]['sla_attainment'])} SLA)"
                for n in names
            ),
        )
    channels = sorted({c for p in policies.values() for c in p["by_channel"]})
    chan = Table(title="FRT p50 / p90 by channel")
    chan.add_column("")
    for name in names:
        chan.add_column(name, justify="right")
    for channel in channels:
        cells = []
        for n in names:
            group = policies[n]["by_channel"].get(channel)
            if group is None:
                cells.append("-")
                continue
            frt = group["frt_minutes"]
            cells.append(f"{_minutes(frt['p50'])} / {_minutes(frt['p90'])}")
        chan.add_row(channel, *cells)

    erlang = report["erlang_c"]
    goal = erlang["goal"]
    staff = Table(
        title=(
            f"Erlang C: smallest team for {goal['share'] * 100:.0f}% answered within "
            f"{goal['minutes']:g} min, per hour of day (UTC)"
        )
    )
    for column in ("hour", "arrivals/h", "handling min", "erlangs", "agents", "service level"):
        staff.add_column(column, justify="right")
    for hour in erlang["by_hour"]:
        staff.add_row(
            f"{hour['hour']:02d}",
            f"{hour['arrivals_per_hour']:.1f}",
            f"{hour['handling_minutes']:.1f}",
            f"{hour['traffic_erlangs']:.2f}",
            str(hour["agents"]),
            _share(hour["service_level"]),
        )
    return Group(main, quart, chan, staff)


def print_report(report: Mapping[str, Any], console: Console) -> None:
    console.print(tables(report))
    comparison = report.get("comparison") or {}
    cut = comparison.get("top_quartile_p90_cut")
    if cut is not None:
        p90 = comparison["top_quartile_p90_minutes"]
        console.print(
            f"value vs fifo, top value quartile p90: {_minutes(p90['fifo'])} -> "
            f"{_minutes(p90['value'])} ({cut:g}x); response rate "
            f"{_share(comparison['response_rate']['value'])}",
            markup=False,
        )
    incidents = report.get("incidents")
    if incidents:
        before = incidents["without_incident_response"]["burst"]
        after = incidents["with_incident_response"]["burst"]
        console.print(
            f"bursts ({incidents['burst_items']} care messages) answered within 60 min at a "
            f"normal day's Erlang C staffing: {_share(before['within_60_minutes'])} without "
            f"incident response, {_share(after['within_60_minutes'])} with it (p90 "
            f"{_minutes(before['frt_minutes']['p90'])} -> {_minutes(after['frt_minutes']['p90'])})",
            markup=False,
        )
    intended = comparison.get("top_intended_quartile_p90_cut")
    if intended is not None:
        p90 = comparison["top_intended_quartile_p90_minutes"]
        console.print(
            f"value vs fifo, top quartile by intended value (ground truth) p90: "
            f"{_minutes(p90['fifo'])} -> {_minutes(p90['value'])} ({intended:g}x)",
            markup=False,
        )
    wait_cut = comparison.get("top_quartile_wait_p90_cut")
    if wait_cut is not None:
        wait = comparison["top_quartile_wait_p90_minutes"]
        console.print(
            f"value vs fifo, top value quartile wait until an agent starts, p90: "
            f"{_minutes(wait['fifo'])} -> {_minutes(wait['value'])} ({wait_cut:g}x)",
            markup=False,
        )
    reference = comparison.get("top_quartile_reference")
    if reference:
        console.print(
            "top value quartile, what no order beats: its first replies' p90 "
            f"{_minutes(reference['first_reply_p90_minutes'])} (a first response includes "
            "writing it); FRT p90 with the team on nothing else (fifo) "
            f"{_minutes(reference['alone_fifo_frt_p90_minutes'])}",
            markup=False,
        )
    erlang = report.get("erlang_c") or {}
    actual = erlang.get("by_interval_summary")
    if actual and actual.get("intervals"):
        console.print(
            f"Erlang C per interval: {actual['intervals']} hours from {actual['first']}, peak "
            f"{actual['peak_agents']} agents at {actual['peak_at']} "
            f"({actual['peak_arrivals']:g} arrivals), {actual['agent_hours']} agent-hours",
            markup=False,
        )
    ahead = (erlang.get("forecast") or {}).get("summary")
    if ahead and ahead.get("intervals"):
        console.print(
            f"forecast for the next {ahead['intervals']} hours from {ahead['first']}: peak "
            f"{ahead['peak_agents']} agents at {ahead['peak_at']}, "
            f"{ahead['agent_hours']} agent-hours",
            markup=False,
        )


def write_json(report: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_charts(
    report: Mapping[str, Any], outcomes: Mapping[str, RunOutcome], directory: Path
) -> list[Path]:
    """PNG charts: p90 by value quartile, the queue over time, Erlang C staffing."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    policies: Mapping[str, Any] = report["policies"]
    names = list(policies)
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        values = [
            (policies[name]["by_value_quartile"][q]["frt_minutes"]["p90"] or 0.0) for q in QUARTILES
        ]
        xs = [q + (i - (len(names) - 1) / 2) * width for q in range(len(QUARTILES))]
        ax.bar(xs, values, width, label=name, color=POLICY_COLOURS.get(name))
    ax.set_xticks(range(len(QUARTILES)), [f"{q}" for q in QUARTILES])
    ax.set_xlabel("value quartile (Q4 = most valuable)")
    ax.set_ylabel("first-response time p90 (minutes)")
    ax.set_title("First response, p90, by business value")
    ax.legend()
    fig.tight_layout()
    written.append(directory / "frt_p90_by_value_quartile.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, outcome in outcomes.items():
        hours = [t / 3600.0 for t, _ in outcome.queue]
        ax.plot(hours, [n for _, n in outcome.queue], label=name, color=POLICY_COLOURS.get(name))
    ax.set_xlabel("hours since start")
    ax.set_ylabel("items waiting")
    ax.set_title("Queue over time")
    ax.legend()
    fig.tight_layout()
    written.append(directory / "queue_over_time.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    by_hour = report["erlang_c"]["by_hour"]
    hours_axis = [h["hour"] for h in by_hour]
    ax.bar(hours_axis, [h["agents"] for h in by_hour], color="#0072b2", label="agents needed")
    ax.set_xlabel("hour of day (UTC)")
    ax.set_ylabel("agents (Erlang C)")
    twin = ax.twinx()
    twin.plot(hours_axis, [h["arrivals_per_hour"] for h in by_hour], color="#d55e00")
    twin.set_ylabel("arrivals per hour", color="#d55e00")
    goal = report["erlang_c"]["goal"]
    ax.set_title(
        f"Staffing for {goal['share'] * 100:.0f}% within {goal['minutes']:g} min (Erlang C)"
    )
    fig.tight_layout()
    written.append(directory / "erlang_staffing.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
