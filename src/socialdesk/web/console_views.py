"""Read models of the agent console: what each screen shows, gathered from the repositories."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.channels.events import CHANNELS
from socialdesk.conversations.action_models import CaseEvent, Note
from socialdesk.conversations.models import Conversation, Direction, Message
from socialdesk.core.clock import as_utc
from socialdesk.core.errors import NotFound
from socialdesk.core.work import Task, TaskStatus
from socialdesk.customers.models import Customer, Identity
from socialdesk.people.models import Team, TeamKind, User
from socialdesk.priority.sla import PriorityExplanation
from socialdesk.triage.labels import KINDS, SENTIMENTS
from socialdesk.web import console_repository as repo
from socialdesk.web import inbox_filters, integrations
from socialdesk.web.inbox_filters import InboxFilters
from socialdesk.web.integrations import TriageView

WARN_FRACTION = 0.75
NO_FILTERS = InboxFilters()
FIRST_LINE_CHARS = 240
_MENTION = re.compile(r"(?<![\w@])@(\w{1,50})")


def sla_state(
    waiting_since: datetime,
    due_at: datetime | None,
    now: datetime,
    warn_fraction: float = WARN_FRACTION,
    *,
    status: str = TaskStatus.OPEN,
) -> str:
    """none (no target, or nobody owes an answer: answered or done), ok, warn (past the
    warning share of the target) or breach."""
    if due_at is None or status not in TaskStatus.ACTIVE:
        return "none"
    start, due = as_utc(waiting_since), as_utc(due_at)
    if now >= due:
        return "breach"
    total = (due - start).total_seconds()
    if total > 0 and (now - start).total_seconds() >= warn_fraction * total:
        return "warn"
    return "ok"


_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|good (?:morning|afternoon|evening|day)|greetings"
    r"|to whom it may concern|hallo|hola|bonjour|buenos d[ií]as|guten tag)\b"
    r"(?:(?:\s+[\w.'’-]+){0,4}\s*[,!:;.—-]|(?:\s+[\w.'’-]+){0,2})$",
    re.IGNORECASE,
)


def is_greeting(line: str) -> bool:
    """A line that only greets ("Hi,", "Dear Acme team,", "To whom it may concern:")."""
    return bool(_GREETING.match(line.strip()))


def first_line(text: str, limit: int = FIRST_LINE_CHARS) -> str:
    """The first line that says something: greetings are skipped (an e-mail's "Hi," tells
    the agent nothing), unless the message is nothing but a greeting."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = next((x for x in lines if not is_greeting(x)), lines[0] if lines else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def breakdown_rows(breakdown: dict[str, Any]) -> list[tuple[str, float]]:
    """Each factor's contribution to the value score, largest first, whatever its shape."""
    rows: list[tuple[str, float]] = []
    factors = breakdown.get("factors", breakdown)
    if not isinstance(factors, dict):
        return rows
    for name, value in factors.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            rows.append((str(name), float(value)))
        elif isinstance(value, dict):
            for key in ("contribution", "points", "value", "score"):
                inner = value.get(key)
                if isinstance(inner, int | float) and not isinstance(inner, bool):
                    rows.append((str(name), float(inner)))
                    break
    rows.sort(key=lambda r: -abs(r[1]))
    return rows


@dataclass(frozen=True, slots=True)
class InboxItem:
    task: Task
    conversation: Conversation
    customer: Customer | None
    message: Message | None
    author: Identity | None
    triage: TriageView | None
    sla: str
    first_line: str
    assignee: User | None

    @property
    def subject(self) -> str:
        """An e-mail's subject (posts and DMs have none)."""
        return self.conversation.subject if self.task.channel == "email" else ""

    @property
    def customer_label(self) -> str:
        if self.customer and self.customer.display_name:
            return self.customer.display_name
        if self.author:
            return self.author.display_name or self.author.handle or self.author.external_id
        return "unknown"


def _scope(session: Session, viewer: User, scope: str) -> dict[str, Any]:
    if scope == "all":
        return {"everything": True}
    if scope == "mine":
        return {"assignee_id": viewer.id}
    teams = repo.my_teams(session, viewer.workspace_id, viewer.id)
    return {
        "assignee_id": viewer.id,
        "team_ids": [t.id for t in teams],
        "queues": sorted({t.kind for t in teams}) or [TeamKind.CARE],
    }


def _narrowing(
    session: Session, viewer: User, filters: InboxFilters, now: datetime, warn: float
) -> list[Any]:
    if not filters.active:
        return []
    ws = viewer.workspace_id
    task_ids = None
    if filters.sla:
        task_ids = [
            task_id
            for task_id, status, waiting_since, due_at in repo.task_clocks(session, ws)
            if sla_state(waiting_since, due_at, now, warn, status=status) == filters.sla
        ]
    return repo.search_conditions(
        ws,
        filters,
        viewer_id=viewer.id,
        task_ids=task_ids,
    )


def filter_choices(session: Session, workspace_id: int) -> dict[str, Any]:
    """What the inbox's filter menus offer."""
    return {
        "channels": CHANNELS,
        "kinds": KINDS,
        "sentiments": SENTIMENTS,
        "sla": inbox_filters.SLA_STATES,
        "topics": integrations.topic_ids(session, workspace_id),
        "people": sorted(
            (u for u in repo.users(session, workspace_id).values() if u.is_active),
            key=lambda u: u.name,
        ),
        "teams": repo.teams(session, workspace_id),
    }


def inbox_total(
    session: Session,
    viewer: User,
    *,
    scope: str,
    now: datetime,
    filters: InboxFilters = NO_FILTERS,
) -> int:
    warn = integrations.warning_fraction(session, viewer.workspace_id)
    return repo.inbox_count(
        session,
        viewer.workspace_id,
        now=now,
        extra=_narrowing(session, viewer, filters, now, warn),
        **_scope(session, viewer, scope),
    )


def inbox(
    session: Session,
    viewer: User,
    *,
    scope: str,
    now: datetime,
    filters: InboxFilters = NO_FILTERS,
) -> list[InboxItem]:
    ws = viewer.workspace_id
    warn = integrations.warning_fraction(session, ws)
    rows = repo.inbox_rows(
        session,
        ws,
        now=now,
        order=integrations.ordering(session, ws),
        extra=_narrowing(session, viewer, filters, now, warn),
        **_scope(session, viewer, scope),
    )
    latest = repo.latest_inbound(session, ws, [c.id for _, c, _ in rows])
    triage = integrations.triage_for_messages(session, ws, [m.id for m, _ in latest.values()])
    people = repo.users(session, ws)
    items = []
    for task, conv, customer in rows:
        message, author = latest.get(conv.id, (None, None))
        items.append(
            InboxItem(
                task=task,
                conversation=conv,
                customer=customer,
                message=message,
                author=author,
                triage=None if message is None else triage.get(message.id),
                sla=sla_state(task.waiting_since, task.due_at, now, warn, status=task.status),
                first_line=first_line(message.text if message else conv.subject),
                assignee=people.get(task.assignee_id) if task.assignee_id else None,
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str  # inbound, outbound, note, event
    message: Message | None = None
    author: Identity | None = None
    note: Note | None = None
    event: CaseEvent | None = None
    user: User | None = None
    triage: TriageView | None = None
    delivery: integrations.Delivery | None = None


@dataclass(frozen=True, slots=True)
class CustomerPanel:
    customer: Customer
    identities: list[Identity]
    past_cases: list[Conversation]
    recent: list[Message]
    mentions: list[tuple[str, int]]
    sentiment: list[tuple[datetime, float]]
    stance: str  # advocate, detractor, neutral or unknown
    # People they talk with or about (their @handles resolved to known customers; the brand's
    # own accounts and unknown handles left out), with how often.
    related: list[tuple[Customer, int]] = field(default_factory=list)

    @property
    def followers(self) -> int:
        return sum(i.followers for i in self.identities)

    @property
    def verified(self) -> bool:
        return any(i.verified for i in self.identities)


@dataclass(frozen=True, slots=True)
class ConversationView:
    conversation: Conversation
    task: Task | None
    timeline: list[TimelineEntry]
    customer: CustomerPanel | None
    last_inbound: Message | None
    last_triage: TriageView | None
    breakdown: list[tuple[str, float]]
    sla: str
    assignee: User | None
    colleagues: list[User]
    teams: list[Team]
    channels: list[str] = field(default_factory=list)
    why: PriorityExplanation | None = None


def mentioned_handles(texts: list[str]) -> list[tuple[str, int]]:
    """Who a customer talks about or with: @handles in their posts, most frequent first."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({m.lower() for m in _MENTION.findall(text)})
    return counts.most_common(10)


def stance(customer: Customer, sentiment: list[tuple[datetime, float]]) -> str:
    declared = str(customer.crm_fields.get("stance", "")).lower()
    if declared in ("advocate", "detractor"):
        return declared
    if len(sentiment) < 3:
        return "unknown"
    mean = sum(v for _, v in sentiment) / len(sentiment)
    return "advocate" if mean > 0.3 else "detractor" if mean < -0.3 else "neutral"


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """The customer 360: the panel's facts plus the whole history and the people around."""

    panel: CustomerPanel
    timeline: list[tuple[Message, Identity | None]]


def customer_profile(session: Session, workspace_id: int, customer_id: int) -> CustomerProfile:
    return CustomerProfile(
        panel=customer_panel(session, workspace_id, customer_id),
        timeline=repo.customer_timeline(session, workspace_id, customer_id),
    )


def customer_panel(session: Session, workspace_id: int, customer_id: int) -> CustomerPanel:
    customer = repo.customer(session, workspace_id, customer_id)
    if customer is None:
        raise NotFound("customer not found")
    identities = repo.identities_of(session, workspace_id, customer_id)
    recent = repo.recent_messages_by(session, workspace_id, [i.id for i in identities])
    triage = integrations.triage_for_messages(session, workspace_id, [m.id for m in recent])
    sentiment = sorted(
        (m.created_at, t.compound)
        for m in recent
        if (t := triage.get(m.id)) is not None and t.compound is not None
    )
    mentions = mentioned_handles([m.text for m in recent])
    known = repo.customers_by_handle(
        session, workspace_id, [h for h, _ in mentions], exclude_customer_id=customer_id
    )
    return CustomerPanel(
        customer=customer,
        identities=identities,
        past_cases=repo.conversations_of(session, workspace_id, customer_id),
        recent=recent[:10],
        mentions=mentions,
        sentiment=sentiment,
        stance=stance(customer, sentiment),
        related=[(known[h], n) for h, n in mentions if h in known],
    )


def conversation_view(
    session: Session, workspace_id: int, conversation_id: int, *, now: datetime
) -> ConversationView:
    conv = repo.conversation(session, workspace_id, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    messages = repo.messages_of(session, workspace_id, conversation_id)
    notes, events = repo.notes_and_events(session, workspace_id, conversation_id)
    people = repo.users(session, workspace_id)
    triage = integrations.triage_for_messages(session, workspace_id, [m.id for m, _ in messages])
    deliveries = integrations.deliveries_by_message(session, workspace_id, conversation_id)
    timeline: list[TimelineEntry] = []
    for m, a in messages:
        delivery = deliveries.get(m.id)
        sender = delivery.author_user_id if delivery else None
        timeline.append(
            TimelineEntry(
                at=m.created_at,
                kind=m.direction,
                message=m,
                author=a,
                triage=triage.get(m.id),
                delivery=delivery,
                user=people.get(sender) if sender else None,
            )
        )
    timeline += [
        TimelineEntry(at=n.created_at, kind="note", note=n, user=people.get(n.author_user_id))
        for n in notes
    ]
    timeline += [
        TimelineEntry(
            at=e.created_at,
            kind="event",
            event=e,
            user=people.get(e.actor_user_id) if e.actor_user_id else None,
        )
        for e in events
        if e.kind != "note"
    ]
    timeline.sort(key=lambda t: (as_utc(t.at), 0 if t.kind in Direction.ALL else 1))
    task = repo.task_of(session, workspace_id, conversation_id)
    inbound = [m for m, _ in messages if m.direction == Direction.INBOUND]
    last = inbound[-1] if inbound else None
    return ConversationView(
        conversation=conv,
        task=task,
        timeline=timeline,
        customer=None
        if conv.customer_id is None
        else customer_panel(session, workspace_id, conv.customer_id),
        last_inbound=last,
        last_triage=None if last is None else triage.get(last.id),
        breakdown=breakdown_rows(task.value_breakdown) if task else [],
        sla="none"
        if task is None
        else sla_state(
            task.waiting_since,
            task.due_at,
            now,
            integrations.warning_fraction(session, workspace_id),
            status=task.status,
        ),
        assignee=people.get(task.assignee_id) if task and task.assignee_id else None,
        colleagues=sorted((u for u in people.values() if u.is_active), key=lambda u: u.name),
        teams=repo.teams(session, workspace_id),
        channels=sorted({m.channel for m, _ in messages}),
        why=None
        if task is None
        else integrations.priority_explanation(
            session,
            workspace_id,
            float(task.priority or 0.0),
            task.waiting_since,
            task.due_at,
            now,
        ),
    )
