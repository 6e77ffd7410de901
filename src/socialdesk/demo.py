"""The demo: an embedded socialdesk with a brand, a team, and generated traffic arriving live."""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.config import Settings, get_settings
from socialdesk.conversations.repository import latest_message_at
from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.demo_content import DEMO_TAXONOMY, seed_knowledge
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.people.models import Role, TeamKind, User
from socialdesk.simulation.traffic import BrandProfile
from socialdesk.triage.service import configure_sector

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str
    team: str


DEMO_PEOPLE = (
    DemoPerson("supervisor@demo.socialdesk.example", "Sam Supervisor", Role.SUPERVISOR, "Care"),
    DemoPerson("ava@demo.socialdesk.example", "Ava Agent", Role.AGENT, "Care"),
    DemoPerson("ben@demo.socialdesk.example", "Ben Agent", Role.AGENT, "Care"),
    DemoPerson("mia@demo.socialdesk.example", "Mia Marketing", Role.AGENT, "Marketing"),
    DemoPerson("sol@demo.socialdesk.example", "Sol Sales", Role.AGENT, "Sales"),
    DemoPerson("admin@demo.socialdesk.example", "Ada Admin", Role.ADMIN, "Care"),
)
DEMO_TEAMS = {"Care": TeamKind.CARE, "Marketing": TeamKind.MARKETING, "Sales": TeamKind.SALES}

# What each role may do, as the demo tells those who sign in (roles are ordered: each may do
# what the one before it may).
ROLE_SUMMARY = {
    Role.AGENT: "the inbox: reply, note, assign, shift channel, resolve",
    Role.SUPERVISOR: "as an agent, plus the dashboard, every admin screen to read, value weights",
    Role.ADMIN: "as a supervisor, plus changing channels, teams, agents, SLAs, taxonomies, "
    "canned replies and the knowledge base",
}


def sign_in_lines(people: Sequence[DemoPerson] = DEMO_PEOPLE) -> list[str]:
    """Every demo sign-in with its role, agents first, then what each role may do."""
    order = {role: rank for rank, role in enumerate(Role.ALL)}
    width = max(len(p.email) for p in people)
    return [
        *(
            f"{p.role:<10} {p.email:<{width}}  {p.name}, {p.team} team"
            for p in sorted(people, key=lambda p: order[p.role])
        ),
        *(f"{role:<10} may use {ROLE_SUMMARY[role]}" for role in Role.ALL),
    ]


DEMO_CAPACITY = {"x": 3, "facebook": 3, "instagram": 3, "email": 5, "webhook": 3}


def seed_people(session: Session, workspace_id: int, *, now: datetime | None = None) -> None:
    """Teams and people of the demo brand, created once: agents with skills and capacity on
    every channel. They start away: the simulated team is on duty, and whoever signs in sets
    themselves online (the console's top bar) to receive work alongside it."""
    from socialdesk.routing.service import set_presence, upsert_agent
    from socialdesk.web.auth import create_user

    existing = set(session.scalars(select(User.email).where(User.workspace_id == workspace_id)))
    for person in DEMO_PEOPLE:
        if person.email not in existing:
            create_user(
                session, workspace_id, person.email, person.name, DEMO_PASSWORD, person.role
            )
        user = upsert_agent(
            session,
            workspace_id,
            person.email,
            person.name,
            role=person.role,
            languages=("en", "es", "fr", "de", "pt", "ar"),
            capacity=DEMO_CAPACITY,
            teams=((person.team, DEMO_TEAMS[person.team]),),
        )
        if person.email not in existing and person.role == Role.AGENT:
            set_presence(session, workspace_id, user.id, "away", now or utcnow())
    session.flush()


def seed_sandbox_accounts(session: Session, workspace_id: int, secret_key: str) -> None:
    """The demo brand's accounts on every channel, as sandboxes: answers count as sent
    without reaching a platform."""
    from socialdesk.channels.accounts import create_account
    from socialdesk.channels.repository import get_account_by_external_id

    brand = BrandProfile()
    for channel in ("x", "facebook", "instagram", "email"):
        external_id = brand.account(channel)
        if get_account_by_external_id(session, workspace_id, channel, external_id) is None:
            create_account(
                session,
                workspace_id=workspace_id,
                channel=channel,
                external_id=external_id,
                secret_key=secret_key,
                handle=brand.care_email if channel == "email" else brand.handle,
                name=f"{brand.name} ({channel}, sandbox)",
                settings={"sandbox": True},
            )
    session.flush()


def use_sector_taxonomy(session: Session, workspace_id: int) -> None:
    """The telecom brand's topics (outage, billing, roaming…) rather than the general list,
    unless someone already chose a taxonomy for the demo workspace."""
    from socialdesk.triage import service as triage

    if "taxonomy" not in triage.triage_settings(session, workspace_id):
        triage.configure(session, workspace_id, taxonomy=DEMO_TAXONOMY)


class LiveTraffic:
    """Feeds generated traffic into the pipeline as its time comes: ``pump`` hands over what
    is due now; ``start`` pumps on a background thread every ``tick`` seconds."""

    def __init__(
        self,
        pipeline: Pipeline,
        workspace_id: int,
        *,
        rate_per_minute: float,
        seed: int,
        clock: Clock = utcnow,
        tick: float = 1.0,
    ) -> None:
        self.pipeline = pipeline
        self.workspace_id = workspace_id
        self.rate_per_minute = rate_per_minute
        self.seed = seed
        self.clock = clock
        self.tick = tick
        self.stop_event = threading.Event()
        self.delivered = 0
        self._events: Iterator[InboundEvent] | None = None
        self._pending: InboundEvent | None = None
        self.thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)

    def pump(self) -> int:
        """Ingest every generated event whose time has come; returns how many."""
        from socialdesk.simulation.traffic import BrandProfile, generate

        now = self.clock()
        if self._events is None:  # the timeline starts at the first pump
            self._events = generate(
                BrandProfile(),
                now,
                None,
                self.rate_per_minute * 60,
                timeline_seed(self.seed + 1, now),
            )
            self._pending = next(self._events, None)
        due: list[InboundEvent] = []
        while self._pending is not None and self._pending.created_at <= now:
            due.append(self._pending)
            self._pending = next(self._events, None)
        if due:
            self.pipeline.ingest(self.workspace_id, due, source="demo")
            self.delivered += len(due)
        return len(due)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.pump()
            except Exception:  # the demo goes on; the reason is in the log
                log.exception("demo traffic batch failed")
            self.stop_event.wait(self.tick)


# Median minutes to a past answer per channel: about a quarter of each channel's
# first-response target (30 min on X, 2 h on Facebook and Instagram, 24 h for e-mail).
PAST_ANSWER_MINUTES = {"x": 8.0, "facebook": 30.0, "instagram": 30.0, "email": 180.0}

PAST_ANSWERS = (
    "Thanks for reaching out, we are looking into it now.",
    "Sorry about that! Could you send us a DM with your account number?",
    "We have fixed this on our side; please let us know if it happens again.",
    "Thank you for the kind words, we will pass them on to the team!",
    "Our engineers are on it; we will update you within the hour.",
)


def past_answers(
    events: Sequence[InboundEvent],
    brand: BrandProfile,
    *,
    now: datetime,
    seed: int,
    share: float = 0.98,
    median_minutes: Mapping[str, float] | None = None,
) -> list[InboundEvent]:
    """The answers the demo's team gave before the demo started: nearly every message that
    needed one got one, as fast as the team on duty answers (minutes on X, within its
    service level on each channel), so the demo opens on a realistic queue rather than on
    hours of untouched work."""
    medians = PAST_ANSWER_MINUTES if median_minutes is None else median_minutes
    rng = random.Random(seed)
    answers: list[InboundEvent] = []
    for event in events:
        wanted = bool(event.extra.get("sim", {}).get("needs_response", True))
        if not wanted or rng.random() > share:
            continue
        median = medians.get(event.channel, 30.0)
        at = event.created_at + timedelta(minutes=rng.lognormvariate(math.log(median), 0.8))
        if at >= now:
            continue
        private = event.visibility == "private"
        answers.append(
            InboundEvent(
                channel=event.channel,
                external_id=f"{event.external_id}-answer",
                direction="outbound",
                visibility=event.visibility,
                author=brand.brand_party(event.channel),
                recipient=event.author if private else None,
                account=event.account,
                text=rng.choice(PAST_ANSWERS),
                created_at=at,
                reply_to=event.external_id,
                references=[*event.references, event.external_id]
                if event.channel == "email"
                else [],
                subject=f"Re: {event.subject}" if event.subject else "",
            )
        )
    return answers


def ingest_backlog(
    pipeline: Pipeline,
    workspace_id: int,
    *,
    hours: float,
    rate_per_minute: float,
    seed: int,
    now: datetime,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Traffic of the last hours, so that the demo opens on a realistic workload."""
    from socialdesk.simulation.traffic import generate

    if hours <= 0:
        return 0
    brand = BrandProfile()
    start = now - timedelta(hours=hours)
    inbound = list(generate(brand, start, timedelta(hours=hours), rate_per_minute * 60, seed))
    answers = past_answers(inbound, brand, now=now, seed=seed)
    events = sorted(inbound + answers, key=lambda e: e.created_at)
    for offset in range(0, len(events), 500):
        pipeline.ingest(workspace_id, events[offset : offset + 500], source="demo")
        if on_progress is not None:
            on_progress(min(offset + 500, len(events)), len(events))
    return len(events)


def timeline_seed(seed: int, start: datetime) -> int:
    """The generator's seed for traffic starting at ``start``. Message ids derive from the
    seed, so a restarted demo needs its own: with the first run's seed its messages would
    repeat the earlier ones and be dropped as duplicates."""
    return seed * 1_000_003 + int(as_utc(start).timestamp() // 60)


def backlog_to_fill(last_message: datetime | None, now: datetime, backlog_hours: float) -> float:
    """Hours of traffic to generate before the demo starts: the whole backlog on a fresh
    database; on a restart only the time since the demo's last message (at most the
    backlog), so the timeline carries on instead of stacking a second backlog."""
    if last_message is None:
        return backlog_hours
    gap = (as_utc(now) - as_utc(last_message)).total_seconds() / 3600.0
    return min(backlog_hours, max(0.0, gap))


def prepare_demo(
    settings: Settings,
    session_factory: sessionmaker[Session],
    pipeline: Pipeline,
    *,
    backlog_hours: float,
    rate_per_minute: float,
    seed: int,
    on_progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
    team: int = 0,
) -> int:
    """The demo workspace, its people (with ``team`` simulated care colleagues on duty) and
    the backlog of traffic up to ``now``."""
    from socialdesk.demo_team import seed_teammates

    now = now or utcnow()
    with unit_of_work(session_factory) as session:
        workspace = ensure_workspace(session, settings.default_workspace, "Acme Telecom (demo)")
        # Topics from the demo brand's own sector ("internet down" is a telecom outage).
        configure_sector(session, workspace.id, BrandProfile().sector)
        seed_people(session, workspace.id, now=now)
        if team:
            seed_teammates(session, workspace.id, team, now)
        seed_sandbox_accounts(session, workspace.id, settings.secret_key)
        seed_knowledge(session, workspace.id)
        use_sector_taxonomy(session, workspace.id)
        workspace_id = workspace.id
        last = latest_message_at(session, workspace_id)
    hours = backlog_to_fill(last, now, backlog_hours)
    ingest_backlog(
        pipeline,
        workspace_id,
        hours=hours,
        rate_per_minute=rate_per_minute,
        seed=timeline_seed(seed, now - timedelta(hours=hours)),
        now=now,
        on_progress=on_progress,
    )
    return workspace_id


def banner(host: str, port: int, database_url: str, rate_per_minute: float, team: int = 0) -> str:
    """What the demo prints once it runs: where to go and who can sign in."""
    people = "".join(f"    {line}\n" for line in sign_in_lines())
    on_duty = (
        f"  team      {team} simulated care colleagues (and one each in marketing and sales)"
        " work their lists;\n            set yourself online in the top bar to get work too\n"
        if team
        else ""
    )
    return (
        "\nsocialdesk demo is running\n"
        f"  open      http://{host}:{port}/\n"
        f"  API docs  http://{host}:{port}/docs\n"
        f"  sign in   any of these, password {DEMO_PASSWORD}\n{people}"
        f"  data      {database_url}\n"
        f"  traffic   about {rate_per_minute:g} message{'' if rate_per_minute == 1 else 's'}"
        " a minute\n"
        f"{on_duty}"
    )


def run_demo(
    *,
    host: str,
    port: int,
    rate_per_minute: float,
    backlog_hours: float,
    seed: int,
    team: int | None = None,
) -> None:
    """``team``: simulated care colleagues (None: as many as the rate needs, 0: none)."""
    import uvicorn
    from rich.progress import Progress

    from socialdesk.demo_team import DemoTeam, team_for_rate, team_members
    from socialdesk.web.app import create_app
    from socialdesk.web.live import tell_routing

    care = team_for_rate(rate_per_minute) if team is None else team
    settings = get_settings()
    app = create_app(settings)
    with Progress() as progress:
        bar = progress.add_task(f"backlog of the last {backlog_hours:g} hours", total=None)
        workspace_id = prepare_demo(
            settings,
            app.state.session_factory,
            app.state.pipeline,
            backlog_hours=backlog_hours,
            rate_per_minute=rate_per_minute,
            seed=seed,
            on_progress=lambda done, total: progress.update(bar, completed=done, total=total),
            team=care,
        )
    traffic = LiveTraffic(
        app.state.pipeline, workspace_id, rate_per_minute=rate_per_minute, seed=seed
    )
    traffic.start()
    app.state.on_shutdown.append(traffic.stop)
    from socialdesk.conversations.outbox_thread import start_outbox_thread

    app.state.on_shutdown.append(start_outbox_thread(app))
    from socialdesk.listening.watch import start_listening_watch

    app.state.on_shutdown.append(start_listening_watch(app))
    if care:

        def freed(user_ids: list[int]) -> None:
            # As after a console action: routing refills the slots, the screens refresh,
            # the answers leave now.
            tell_routing(app.state, "agents", workspace_id, user_ids)
            app.state.live_hub.notify(workspace_id)
            wake = getattr(app.state, "outbox_wake", None)
            if wake is not None:
                wake()

        with app.state.session_factory() as session:
            members = team_members(session, workspace_id)
        demo_team = DemoTeam(
            app.state.session_factory, workspace_id, members, seed=seed, on_freed=freed
        )
        demo_team.start()
        app.state.on_shutdown.append(demo_team.stop)
    print(banner(host, port, settings.effective_database_url, rate_per_minute, care), flush=True)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
