"""The demo's care team at work: simulated colleagues who work their lists.

Each simulated colleague takes the first item of their own list (the console's "mine" list,
in the work list's order), spends a realistic handling time on it (the simulator's
distributions per kind and channel) and then does what an agent does in the console,
through the same service functions: answers on the channel (and resolves the case when
nothing more is expected), invites the customer to a private message when account details
are needed, or hands the item to a colleague. The distributor refills the freed slot at
once. A person signed in to the demo works alongside them.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.policy import ReplyNotAllowed
from socialdesk.conversations import actions, replies, shift
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.core.work import Task, TaskStatus
from socialdesk.knowledge import repository as knowledge_repo
from socialdesk.knowledge.placeholders import fill
from socialdesk.people.models import Role, TeamKind, User
from socialdesk.routing import cases
from socialdesk.simulation import erlang
from socialdesk.simulation.handling import HandlingTimes
from socialdesk.web import console_repository, integrations

log = logging.getLogger(__name__)

TEAMMATE_DOMAIN = "team.demo.socialdesk.example"
TEAMMATE_NAMES = (
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Milo",
    "Noor",
    "Otto",
    "Pia",
    "Quinn",
    "Rui",
    "Sara",
    "Theo",
    "Uma",
    "Vic",
)
# Items a simulated colleague holds at once per channel: one at hand and the next in line.
TEAMMATE_CAPACITY = {"x": 1, "facebook": 1, "instagram": 1, "email": 1, "webhook": 1}

# What the demo's traffic asks of care, measured on the generator's ground truth (three days
# of the telecom brand, bursts left out): in the busiest hour, 1.45 care items a minute for
# each message a minute of the daily average, and 7.0 minutes of handling per care item.
PEAK_CARE_ITEMS_PER_MESSAGE = 1.45
MEAN_HANDLING_MINUTES = 7.0


def team_for_rate(rate_per_minute: float) -> int:
    """Simulated care colleagues for the demo's traffic: Erlang C's team for the busiest
    normal hour (90% of X items answered within 30 minutes), one more for the items
    colleagues hand over, and at least two."""
    arrivals = rate_per_minute * PEAK_CARE_ITEMS_PER_MESSAGE
    needed = erlang.agents_needed(arrivals, MEAN_HANDLING_MINUTES, 15.0, 0.9)
    return max(2, needed + 1)


@dataclass(frozen=True)
class Teammate:
    email: str
    name: str
    team: str
    kind: str


def teammates(care: int) -> list[Teammate]:
    """``care`` colleagues in the Care team, and one each in Marketing and Sales."""
    people = []
    for i in range(care):
        first = TEAMMATE_NAMES[i % len(TEAMMATE_NAMES)]
        n = first if i < len(TEAMMATE_NAMES) else f"{first}{i // len(TEAMMATE_NAMES) + 1}"
        people.append(
            Teammate(f"{n.lower()}@{TEAMMATE_DOMAIN}", f"{n} (team)", "Care", TeamKind.CARE)
        )
    people.append(
        Teammate(f"maren@{TEAMMATE_DOMAIN}", "Maren (team)", "Marketing", TeamKind.MARKETING)
    )
    people.append(Teammate(f"sandro@{TEAMMATE_DOMAIN}", "Sandro (team)", "Sales", TeamKind.SALES))
    return people


def seed_teammates(
    session: Session, workspace_id: int, care: int, now: datetime | None = None
) -> list[int]:
    """The simulated colleagues, created where missing and online (they are the shift on
    duty); colleagues beyond ``care`` from an earlier, larger team go offline."""
    from socialdesk.routing.service import set_presence, upsert_agent
    from socialdesk.web.auth import create_user

    wanted = teammates(care)
    existing = {
        u.email: u
        for u in session.scalars(
            select(User).where(
                User.workspace_id == workspace_id, User.email.like(f"%@{TEAMMATE_DOMAIN}")
            )
        )
    }
    ids = []
    when = now or utcnow()
    for mate in wanted:
        if mate.email not in existing:
            # Nobody signs in as a simulated colleague: a password no one knows.
            create_user(
                session, workspace_id, mate.email, mate.name, secrets.token_urlsafe(24), Role.AGENT
            )
        user = upsert_agent(
            session,
            workspace_id,
            mate.email,
            mate.name,
            role=Role.AGENT,
            languages=("en", "es", "fr", "de", "pt", "ar"),
            capacity=TEAMMATE_CAPACITY,
            teams=((mate.team, mate.kind),),
        )
        set_presence(session, workspace_id, user.id, "online", when)
        ids.append(user.id)
    for email, user in existing.items():
        if email not in {m.email for m in wanted}:
            set_presence(session, workspace_id, user.id, "offline", when)
    session.flush()
    return ids


def team_members(session: Session, workspace_id: int) -> list[int]:
    """The simulated colleagues on duty (online), by id."""
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.workspace_id == workspace_id,
                User.email.like(f"%@{TEAMMATE_DOMAIN}"),
                User.presence == "online",
            )
            .order_by(User.id)
        )
    )


@dataclass(frozen=True, slots=True)
class InHand:
    """The item a colleague is working on, and what they will do when done."""

    task_id: int
    conversation_id: int
    done_at: datetime
    outcome: str  # answer, answer_resolve, dm, transfer


@dataclass(frozen=True, slots=True)
class Habits:
    """How the simulated colleagues finish an item (shares of the items they finish)."""

    resolve: float = 0.55  # answered and resolved: nothing more is expected
    dm: float = 0.12  # a public post needing account details: invited to a private message
    transfer: float = 0.03  # handed to a colleague (a specialist, a language)


RESOLVE_ALWAYS = frozenset({"praise", "marketing", "spam", "chatter", "suggestion"})
DM_TOPICS = frozenset({"billing", "refund", "account_access", "cancellation", "plan_change"})


class DemoTeam:
    """Simulated colleagues working their lists; ``step`` is one round, ``start`` runs
    rounds on a background thread every ``tick`` seconds."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        workspace_id: int,
        member_ids: Sequence[int],
        *,
        clock: Clock = utcnow,
        seed: int = 7,
        handling: HandlingTimes | None = None,
        habits: Habits = Habits(),
        on_freed: Callable[[list[int]], object] | None = None,
        tick: float = 1.0,
    ) -> None:
        self.session_factory = session_factory
        self.workspace_id = workspace_id
        self.member_ids = list(member_ids)
        self.clock = clock
        self.rng = random.Random(seed)
        self.handling = handling or HandlingTimes()
        self.habits = habits
        self.on_freed = on_freed
        self.tick = tick
        self.in_hand: dict[int, InHand] = {}
        self.done: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round -------------------------------------------------------------------------

    def step(self) -> int:
        """Finish what is due, start the next item where a colleague is free; returns how
        many items were finished."""
        now = self.clock()
        freed: list[int] = []
        for user_id in self.member_ids:
            hand = self.in_hand.get(user_id)
            if hand is not None and hand.done_at <= now:
                del self.in_hand[user_id]
                try:
                    outcome = self._finish(user_id, hand)
                except Exception:  # the demo goes on; the reason is in the log
                    log.exception("a demo colleague could not finish task %s", hand.task_id)
                    outcome = "failed"
                self.done[outcome] = self.done.get(outcome, 0) + 1
                freed.append(user_id)
        for user_id in self.member_ids:
            if user_id not in self.in_hand:
                nxt = self._next(user_id, now)
                if nxt is not None:
                    self.in_hand[user_id] = nxt
        if freed and self.on_freed is not None:
            self.on_freed(freed)
        return len(freed)

    def _next(self, user_id: int, now: datetime) -> InHand | None:
        with self.session_factory() as session:
            user = session.get(User, user_id)
            if user is None or user.presence != "online":
                return None
            rows = console_repository.inbox_rows(
                session,
                self.workspace_id,
                now=now,
                assignee_id=user_id,
                order=integrations.ordering(session, self.workspace_id),
                limit=10,
            )
            for task, _conv, _customer in rows:
                if task.status == TaskStatus.ASSIGNED and task.assignee_id == user_id:
                    minutes = self.handling.sample(self.rng, task.kind, task.channel)
                    return InHand(
                        task.id,
                        task.conversation_id,
                        now + timedelta(minutes=minutes),
                        self._outcome(task),
                    )
        return None

    def _outcome(self, task: Task) -> str:
        draw = self.rng.random()
        if draw < self.habits.transfer and len(self.member_ids) > 1:
            return "transfer"
        if task.kind in RESOLVE_ALWAYS:
            return "answer_resolve"
        draw = self.rng.random()
        if task.topic in DM_TOPICS and task.channel != "email" and draw < self.habits.dm * 3:
            return "dm"
        if draw < self.habits.dm:
            return "dm"
        return "answer_resolve" if self.rng.random() < self.habits.resolve else "answer"

    # -- what a colleague does when done -------------------------------------------------------

    def _finish(self, user_id: int, hand: InHand) -> str:
        with unit_of_work(self.session_factory) as session:
            task = session.get(Task, hand.task_id)
            user = session.get(User, user_id)
            if (
                task is None
                or user is None
                or task.assignee_id != user_id
                or task.status != TaskStatus.ASSIGNED
            ):
                return "taken_elsewhere"  # answered by someone else, taken back, moved
            if hand.outcome == "transfer":
                colleague = self._colleague(session, user_id)
                if colleague is not None:
                    try:
                        with session.begin_nested():
                            cases.transfer_case(
                                session,
                                workspace_id=self.workspace_id,
                                conversation_id=hand.conversation_id,
                                actor=user,
                                to_user_id=colleague,
                                clock=self.clock,
                            )
                        return "transfer"
                    except Conflict:
                        pass  # the colleague has no free slot on the channel: answer instead
            if hand.outcome == "dm":
                try:
                    with session.begin_nested():
                        shift.shift_channel(
                            session,
                            workspace_id=self.workspace_id,
                            conversation_id=hand.conversation_id,
                            actor=user,
                            action="dm",
                            reason="account details are needed",
                            detail="",
                            clock=self.clock,
                        )
                    return "dm"
                except (InvalidInput, ReplyNotAllowed):
                    pass  # already private, or the platform refuses: answer instead
            answered = self._answer(session, user, task)
            if hand.outcome == "answer_resolve" or not answered:
                actions.resolve(
                    session,
                    workspace_id=self.workspace_id,
                    conversation_id=hand.conversation_id,
                    actor=user,
                    clock=self.clock,
                )
                return "answer_resolve" if answered else "resolved_unanswered"
            return "answer"

    def _answer(self, session: Session, user: User, task: Task) -> bool:
        text = self._reply_text(session, user, task)
        for visibility in ("public", "private"):
            try:
                with session.begin_nested():
                    replies.reply_to_case(
                        session,
                        workspace_id=self.workspace_id,
                        conversation_id=task.conversation_id,
                        author_user_id=user.id,
                        text=text,
                        visibility=visibility,
                        clock=self.clock,
                    )
                return True
            except (ReplyNotAllowed, InvalidInput, NotFound, Conflict):
                continue
        return False

    def _reply_text(self, session: Session, user: User, task: Task) -> str:
        canned = {
            c.shortcut: c.body for c in knowledge_repo.canned_replies(session, self.workspace_id)
        }
        if task.channel == "email":
            key = "email-followup"
        elif task.kind == "praise":
            key = "thanks"
        elif task.topic == "outage":
            key = "outage"
        elif task.topic in ("billing", "refund"):
            key = "bill"
        else:
            key = "sorry"
        body = canned.get(key) or "Thanks for reaching out, we are on it. {agent_name}"
        return fill(
            body,
            {
                "customer_name": "there",
                "agent_name": user.name.split(" ")[0],
                "case_id": str(task.conversation_id),
                "channel": task.channel,
            },
        )

    def _colleague(self, session: Session, user_id: int) -> int | None:
        """The online colleague with the fewest items in hand, other than ``user_id``."""
        others = [m for m in self.member_ids if m != user_id]
        if not others:
            return None
        users = {
            u.id: u
            for u in session.scalars(select(User).where(User.id.in_(others)))
            if u.presence == "online"
        }
        held = {m: 0 for m in users}
        for assignee in session.scalars(
            select(Task.assignee_id).where(
                Task.workspace_id == self.workspace_id,
                Task.status == TaskStatus.ASSIGNED,
                Task.assignee_id.in_(list(users)),
            )
        ):
            if assignee is not None:
                held[assignee] = held.get(assignee, 0) + 1
        return min(held, key=lambda m: (held[m], m)) if held else None

    # -- the background thread ---------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="demo-team", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # one bad round (a locked database) must not end the shift
                log.exception("demo team round failed")
            self._stop.wait(self.tick)
