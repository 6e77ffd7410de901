"""`socialdesk simulate`: compare distribution policies on a simulated care team."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.replay import Read, read_file
from socialdesk.core.errors import SocialdeskError
from socialdesk.priority.scoring import ValuePolicy
from socialdesk.priority.sla import BusinessHours, SlaPolicy, business_hours_from_dict
from socialdesk.simulation.engine import TeamConfig
from socialdesk.simulation.erlang import staffing_by_hour
from socialdesk.simulation.handling import HandlingTimes
from socialdesk.simulation.incident_run import IncidentOptions, compare_incident_response
from socialdesk.simulation.items import ItemSource, StoredFacts, StoredTraffic, build_items
from socialdesk.simulation.metrics import hourly_load
from socialdesk.simulation.output import print_report, write_charts, write_json
from socialdesk.simulation.runner import Scenario, ServiceGoal, policy_names, run_scenario
from socialdesk.simulation.staffing import interval_load, staffing_by_interval
from socialdesk.simulation.traffic import BrandProfile, generate
from socialdesk.simulation.vocabulary import SECTORS
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, Taxonomy, taxonomy_for_sector

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


StoredLoader = Callable[[str | None, datetime | None, datetime | None], StoredTraffic]
_stored: dict[str, StoredLoader] = {}


def use_stored_traffic(loader: StoredLoader) -> None:
    """Give ``--from-db`` its reader of stored traffic. The command line that owns the
    database sets it: the simulation itself never touches storage."""
    _stored["loader"] = loader


def _moment(raw: str | None, what: str) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"{what} must be an ISO date or time, like 2026-11-16 or 2026-11-16T09:00"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _fail(message: str) -> typer.Exit:
    console.print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(code=2)


def _load_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"{path}: cannot read the {what}: {exc}") from exc
    if not isinstance(data, dict):
        raise _fail(f"{path}: the {what} must be a JSON object")
    return data


STAFFING_PLANS = ("erlang", "interval")


def parse_staffing(raw: str) -> tuple[int, ...] | None:
    """24 comma-separated agent counts, or 'erlang' / 'interval' (None here: planned later)."""
    if raw.strip().lower() in STAFFING_PLANS:
        return None
    try:
        counts = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(
            "staffing must be 24 comma-separated whole numbers, 'erlang' or 'interval'"
        ) from None
    if len(counts) != 24:
        raise ValueError(f"staffing needs 24 hourly counts, got {len(counts)}")
    return counts


def parse_languages(raw: str) -> dict[str, int]:
    """'es:2,fr:1' -> {'es': 2, 'fr': 1}."""
    spoken: dict[str, int] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        language, _, count = part.partition(":")
        try:
            spoken[language.strip().lower()] = int(count)
        except ValueError:
            raise ValueError(
                f"languages must look like 'es:2,fr:1', not {part.strip()!r}"
            ) from None
    return spoken


def _replayed(path: Path) -> list[InboundEvent]:
    events: list[InboundEvent] = []
    rejected = 0
    try:
        outcomes = read_file(path)
        for outcome in outcomes:
            if isinstance(outcome, Read):
                events.append(outcome.event)
            else:
                rejected += 1
                if rejected <= 5:
                    console.print(
                        f"{outcome.file}:{outcome.line}: skipped: {outcome.reason}",
                        markup=False,
                        highlight=False,
                    )
    except (OSError, ValueError) as exc:
        raise _fail(f"{path}: {exc}") from exc
    if rejected:
        console.print(f"{path}: {rejected} record(s) skipped", markup=False, highlight=False)
    if not events:
        raise _fail(f"{path}: no usable events")
    return events


def simulate(
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay", help="Replay a file (.jsonl socialdesk or .csv twcs) instead of generating."
        ),
    ] = None,
    from_db: Annotated[
        bool,
        typer.Option(
            "--from-db",
            help="Replay the workspace's stored messages with their stored triage, under the "
            "workspace's own value, SLA and business-hours policies.",
        ),
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="--from-db: first moment replayed (ISO date or time, UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="--from-db: replay up to this moment (excluded).")
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="--from-db: workspace slug (default: settings)."),
    ] = None,
    hours: Annotated[float, typer.Option(help="Hours of generated traffic.", min=0.1)] = 24.0,
    rate: Annotated[
        float, typer.Option(help="Generated messages per hour (daily average).", min=0.1)
    ] = 100.0,
    sector: Annotated[str, typer.Option(help=f"Brand sector: {', '.join(SECTORS)}.")] = "telecom",
    bursts: Annotated[
        float, typer.Option(help="Bursts (outages) per day in generated traffic.", min=0.0)
    ] = 1.0,
    burst_size: Annotated[
        int | None,
        typer.Option(
            help="Messages in one burst of generated traffic (default: 1.5 hours of traffic).",
            min=1,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (traffic and handling times).")] = 1,
    start: Annotated[
        str, typer.Option(help="Start of generated traffic, ISO date or time (UTC).")
    ] = "2026-11-23",
    agents: Annotated[int, typer.Option(help="Agents on duty all day.", min=1)] = 12,
    staffing: Annotated[
        str | None,
        typer.Option(
            help="Agents per hour of day (UTC): 24 comma-separated counts, 'erlang' to staff "
            "each hour of day as Erlang C recommends for the goal (averaged over the days), or "
            "'interval' to staff each hour of the record (date and hour) for its own traffic."
        ),
    ] = None,
    slots: Annotated[int, typer.Option(help="Items an agent works at once.", min=1)] = 1,
    answered_holds_slot: Annotated[
        bool,
        typer.Option(
            "--answered-holds-slot",
            help="The rest of the work after an item's first reply keeps its slot (the "
            "team setting 'hold a slot'); by default the slot frees with the first reply "
            "and the agent writes new first replies before follow-up work.",
        ),
    ] = False,
    languages: Annotated[
        str | None,
        typer.Option(
            help="Agents speaking other languages besides English, e.g. 'es:2,fr:1'. "
            "Without it, languages are not modelled."
        ),
    ] = None,
    foreign_factor: Annotated[
        float,
        typer.Option(
            help="Handling time multiplier for an answer in a language the agent does not speak.",
            min=1.0,
        ),
    ] = 1.5,
    language_overflow: Annotated[
        float,
        typer.Option(
            help="value: minutes after which any agent may take an item in a "
            "language they do not speak.",
            min=0.0,
        ),
    ] = 30.0,
    sweep: Annotated[
        float,
        typer.Option(
            help="round_robin: minutes between assignment sweeps (the peers use 15; "
            "0 deals each item as it arrives).",
            min=0.0,
        ),
    ] = 0.0,
    classify: Annotated[
        str,
        typer.Option(
            help="Where kinds and sentiment come from: 'truth' (the generator's ground truth), "
            "'triage' (socialdesk's classifier), or 'auto' (truth where present, else triage)."
        ),
    ] = "auto",
    policies: Annotated[
        str, typer.Option(help="Policies to compare: fifo, round_robin, value.")
    ] = "fifo,round_robin,value",
    handling: Annotated[
        Path | None, typer.Option(help="Handling times per kind and channel (JSON).")
    ] = None,
    sla: Annotated[Path | None, typer.Option(help="Service-level policy (JSON).")] = None,
    business_hours: Annotated[
        Path | None,
        typer.Option(
            "--business-hours",
            help='Business hours the SLA clock runs in (JSON: {"timezone": "Europe/London", '
            '"weekly": {"0": ["09:00", "17:00"]}, "holidays": ["2026-12-25"]}).',
        ),
    ] = None,
    value_policy: Annotated[
        Path | None, typer.Option("--value-policy", help="Business-value weights (JSON).")
    ] = None,
    patience: Annotated[
        float | None, typer.Option(help="Hours after which a waiting customer gives up.")
    ] = None,
    drain: Annotated[
        float, typer.Option(help="Hours the team keeps working after the last arrival.", min=0)
    ] = 48.0,
    goal_minutes: Annotated[
        float, typer.Option(help="Erlang C goal: answered within this many minutes.")
    ] = 30.0,
    goal_share: Annotated[
        float, typer.Option(help="Erlang C goal: share answered within the time.")
    ] = 0.8,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report here.")] = None,
    save_traffic: Annotated[
        Path | None,
        typer.Option(
            "--save-traffic",
            help="Also write the generated traffic as socialdesk JSONL (for ingest or replay).",
        ),
    ] = None,
    charts: Annotated[Path | None, typer.Option(help="Write PNG charts into this folder.")] = None,
    incidents: Annotated[
        bool,
        typer.Option(
            "--incidents",
            help="Also compare the bursts' first responses with and without incident response "
            "(one agent, one template, bulk replies) at a normal day's Erlang C staffing.",
        ),
    ] = False,
    incident_detect_minutes: Annotated[
        float, typer.Option(help="Minutes from a burst's first message to its incident.", min=0)
    ] = 3.0,
    template_minutes: Annotated[
        float, typer.Option(help="Minutes to write an incident's reply template.", min=0)
    ] = 8.0,
    bulk_minutes: Annotated[
        float,
        typer.Option(
            help="Minutes per message to check a bulk reply's selection before sending.",
            min=0.01,
        ),
    ] = 0.1,
) -> None:
    """Simulate a care team over a day or more of traffic and compare distribution policies.

    Every policy handles the same items with the same handling times. The value policy
    uses socialdesk's production scoring, service-level and selection code.
    """
    try:
        names = policy_names(policies)
        handling_times = HandlingTimes.load(handling) if handling else HandlingTimes()
        sla_policy = SlaPolicy.from_dict(_load_json(sla, "SLA policy")) if sla else SlaPolicy()
        values = (
            ValuePolicy.from_dict(_load_json(value_policy, "value policy"))
            if value_policy
            else ValuePolicy()
        )
        hours_open = (
            business_hours_from_dict(_load_json(business_hours, "business hours"))
            if business_hours
            else BusinessHours()
        )
        planned = parse_staffing(staffing) if staffing else None
        goal = ServiceGoal(minutes=goal_minutes, share=goal_share)
        if not 0 < goal_share < 1 or goal_minutes <= 0:
            raise ValueError("the goal share must lie in (0, 1) and the minutes be positive")
        facts: dict[str, StoredFacts] | None = None
        stored: StoredTraffic | None = None
        taxonomy: Taxonomy | None = None
        if from_db:
            if replay is not None:
                raise ValueError("choose either --replay or --from-db")
            stored = _read_stored(workspace, _moment(since, "--since"), _moment(until, "--until"))
            events, facts = stored.events, stored.facts
            values = values if value_policy else stored.value_policy
            sla_policy = sla_policy if sla else stored.sla_policy
            hours_open = hours_open if business_hours else stored.business_hours
        elif since or until or workspace:
            raise ValueError("--since, --until and --workspace go with --from-db")
        elif replay is not None:
            events = _replayed(replay)
        else:
            begin = datetime.fromisoformat(start)
            begin = begin.replace(tzinfo=UTC) if begin.tzinfo is None else begin
            profile = BrandProfile(sector=sector, bursts_per_day=bursts, burst_size=burst_size)
            events = list(generate(profile, begin, timedelta(hours=hours), rate, seed))
            # Triage reads generated traffic as the brand's workspace would: with its
            # sector's topics (the general list would leave "internet down" without one).
            taxonomy = DEFAULT_TAXONOMIES[taxonomy_for_sector(sector)]
            if save_traffic is not None:
                _write_jsonl(events, save_traffic)
        source = build_items(
            events,
            value_policy=values,
            sla_policy=sla_policy,
            handling=handling_times,
            seed=seed,
            classify=classify,
            hours=hours_open,
            facts=facts,
            taxonomy=taxonomy,
        )
        if not source.items:
            raise ValueError("no item in the traffic needs a response from care")
        timeline = None
        if staffing and staffing.strip().lower() == "interval":
            timeline = _interval_staffing(source, goal, slots)
        elif staffing and planned is None:
            planned = _erlang_staffing(source, goal, slots)
        team = TeamConfig(
            agents=agents,
            slots=slots,
            staffing=planned,
            timeline=timeline,
            patience_hours=patience,
            drain_hours=drain,
            sweep_minutes=sweep,
            languages=parse_languages(languages) if languages else {},
            foreign_factor=foreign_factor,
            answered_holds_slot=answered_holds_slot,
        )
        scenario = Scenario(
            team=team,
            policies=names,
            value_policy=values,
            sla_policy=sla_policy,
            goal=goal,
            language_overflow_minutes=language_overflow,
        )
    except (ValueError, TypeError) as exc:
        raise _fail(str(exc)) from exc
    if stored is not None and stored.untriaged:
        console.print(
            f"{stored.untriaged} stored message(s) had no triage and were classified afresh",
            markup=False,
            highlight=False,
        )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(f"simulating {len(source.items)} items", total=len(names))
        result = run_scenario(source, scenario, lambda _name: progress.advance(task))
    if incidents:
        try:
            result.report["incidents"] = compare_incident_response(
                source,
                events,
                scenario,
                IncidentOptions(
                    detect_minutes=incident_detect_minutes,
                    template_minutes=template_minutes,
                    per_item_minutes=bulk_minutes,
                ),
            )
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    print_report(result.report, out)
    if json_path is not None:
        write_json(result.report, json_path)
        console.print(f"report written to {json_path}", markup=False, highlight=False)
    if charts is not None:
        for path in write_charts(result.report, result.outcomes, charts):
            console.print(f"chart written to {path}", markup=False, highlight=False)


def _read_stored(slug: str | None, since: datetime | None, until: datetime | None) -> StoredTraffic:
    loader = _stored.get("loader")
    if loader is None:
        raise ValueError("--from-db needs the socialdesk command line (no database here)")
    if since is not None and until is not None and until <= since:
        raise ValueError("--until must come after --since")
    try:
        stored = loader(slug, since, until)
    except SocialdeskError as exc:
        raise ValueError(str(exc)) from exc
    if not stored.events:
        raise ValueError("no stored inbound message in that period")
    return stored


def _write_jsonl(events: list[InboundEvent], path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            for event in events:
                handle.write(event.model_dump_json() + "\n")
    except OSError as exc:
        raise ValueError(f"{path}: cannot write the traffic: {exc}") from exc
    console.print(f"{len(events)} events written to {path}", markup=False, highlight=False)


def _erlang_staffing(source: ItemSource, goal: ServiceGoal, slots: int) -> tuple[int, ...]:
    rates, handling = hourly_load(source)
    plan = staffing_by_hour(rates, handling, goal.minutes, goal.share, slots_per_agent=slots)
    return tuple(max(1, h.agents) for h in plan)


def _interval_staffing(source: ItemSource, goal: ServiceGoal, slots: int) -> tuple[int, ...]:
    load = interval_load(
        ((i.created_at, i.handling_minutes) for i in source.items), source.start, source.end
    )
    plan = staffing_by_interval(load, goal.minutes, goal.share, slots_per_agent=slots, minimum=1)
    return tuple(p.agents for p in plan)


app = typer.Typer(help="Simulation of a care team.", rich_markup_mode=None)
app.command("simulate")(simulate)
