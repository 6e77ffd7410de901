"""Traffic generator throughput and simulator run time, plus the simulation's headline.

    python benchmarks/bench_simulation.py --events 100000 --json benchmarks/results/simulation.json

Measures:
- generation of ``--events`` events (wall and CPU seconds, events/s, peak RSS);
- one simulated day of ``--rate`` messages an hour with ``--agents`` agents, per policy
  (wall seconds) and the figures the simulator reports: FRT p90 overall and of the top
  value quartile, response rate, SLA attainment, and the cut value achieves versus fifo,
  once with the generator's daily outage burst and once without, and once with kinds and
  sentiment from socialdesk's triage instead of the generator's ground truth.

``--handling FILE`` takes handling times as ``socialdesk simulate`` does (``{"first_reply":
null}`` gives the one-sitting model the README's table was measured with), and
``--answered-holds-slot`` keeps an answered item's slot until its whole work is done.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from socialdesk.core.report_file import json_report
from socialdesk.priority.scoring import ValuePolicy
from socialdesk.priority.sla import SlaPolicy
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.simulation.engine import TeamConfig, simulate
from socialdesk.simulation.handling import HandlingTimes
from socialdesk.simulation.items import build_items
from socialdesk.simulation.metrics import summarize
from socialdesk.simulation.runner import compare
from socialdesk.simulation.traffic import BrandProfile, generate, generate_n


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench_generator(events: int, seed: int) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    produced = generate_n(BrandProfile(), events, seed=seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "events": len(produced),
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "events_per_second_wall": round(len(produced) / wall),
        "events_per_second_cpu": round(len(produced) / cpu),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def bench_day(
    rate: float,
    agents: int,
    bursts: float,
    seed: int,
    classify: str = "truth",
    handling: HandlingTimes | None = None,
    holds: bool = False,
) -> dict[str, Any]:
    started = time.perf_counter()
    profile = BrandProfile(bursts_per_day=bursts)
    events = list(
        generate(profile, datetime(2026, 11, 23, tzinfo=UTC), timedelta(days=1), rate, seed)
    )
    source = build_items(
        events,
        value_policy=ValuePolicy(),
        sla_policy=SlaPolicy(),
        handling=handling or HandlingTimes(),
        seed=seed,
        classify=classify,
    )
    prepare = time.perf_counter() - started
    policies: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for name in ("fifo", "round_robin", "value"):
        t = time.perf_counter()
        sla = SlaPolicy()
        outcome = simulate(
            source,
            name,
            TeamConfig(agents=agents, answered_holds_slot=holds),
            RoutingPolicy(
                pressure_weight=sla.pressure_weight,
                rescue_after=sla.rescue_after,
                top_class_from=sla.top_class_from,
            ),
            breach_boost=sla.breach_boost,
        )
        seconds[name] = round(time.perf_counter() - t, 3)
        policies[name] = summarize(source, outcome)
    return {
        "rate_per_hour": rate,
        "agents": agents,
        "bursts_per_day": bursts,
        "classify": classify,
        "events": len(events),
        "items": len(source.items),
        "prepare_seconds": round(prepare, 3),
        "simulate_seconds": seconds,
        "figures": {
            name: {
                "response_rate": p["response_rate"],
                "frt_p50_minutes": p["frt_minutes"]["p50"],
                "frt_p90_minutes": p["frt_minutes"]["p90"],
                "top_quartile_frt_p90_minutes": p["by_value_quartile"]["Q4"]["frt_minutes"]["p90"],
                "sla_attainment": p["sla_attainment"],
                "utilisation": p["utilisation"],
            }
            for name, p in policies.items()
        },
        "comparison": compare(policies),
    }


def _spread(
    rate: float,
    agents: int,
    bursts: float,
    seeds: list[int],
    handling: HandlingTimes | None = None,
    holds: bool = False,
) -> dict[str, Any]:
    """The value-vs-fifo cut of the top quartile's p90 for several traffic seeds."""
    cuts: list[float] = []
    rates: list[float] = []
    for seed in seeds:
        day = bench_day(rate, agents, bursts, seed, handling=handling, holds=holds)
        cut = day["comparison"]["top_quartile_p90_cut"]
        if cut is not None:
            cuts.append(cut)
        rates.append(day["figures"]["value"]["response_rate"])
    return {
        "top_quartile_p90_cut": cuts,
        "min": min(cuts, default=None),
        "median": statistics.median(cuts) if cuts else None,
        "max": max(cuts, default=None),
        "value_response_rates": rates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--triage-agents", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--seeds", default="1,2,3,4,5", help="Seeds for the spread of the headline figure."
    )
    parser.add_argument("--handling", type=Path, default=None, help="Handling times (JSON).")
    parser.add_argument("--answered-holds-slot", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    handling = HandlingTimes.load(args.handling) if args.handling else None
    holds = bool(args.answered_holds_slot)
    work: dict[str, Any] = {"handling": handling, "holds": holds}
    report = {
        "benchmark": "simulation",
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "handling_file": str(args.handling) if args.handling else None,
        "answered_holds_slot": holds,
        "generator": bench_generator(args.events, args.seed),
        "day_with_burst": bench_day(args.rate, args.agents, 1.0, args.seed, **work),
        "day_without_burst": bench_day(args.rate, args.agents, 0.0, args.seed, **work),
        # Triage leaves fewer items to care, so a smaller team faces a comparable load.
        "day_without_burst_triage": bench_day(
            args.rate, args.triage_agents, 0.0, args.seed, classify="triage", **work
        ),
        "spread_over_seeds": {
            "seeds": seeds,
            "with_burst": _spread(args.rate, args.agents, 1.0, seeds, **work),
            "without_burst": _spread(args.rate, args.agents, 0.0, seeds, **work),
        },
    }
    print(json_report(report, args.json))


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
