"""Listening in production: the spike detector and the viral verdict on each workspace's
incoming traffic, alerts and incidents from what they find, and the alerts' deliveries.

``TrafficWatch.tick`` is one round: per workspace, the inbound messages stored since the last
round are fed to the workspace's streaming monitor (``listening.monitor``; each message counts
under the brand, its topic, channel, hashtags and matching rules, each author once per
series), every finished step is closed, and each alarm becomes an alert. A negative post
that ``listening.viral`` judges viral raises an alert and lifts its task's value. Alerts of one
round open one incident together (a burst fires its hashtag, topic and rule series at once),
or join the open incident of the same series. Open incidents then take in the new messages
that belong to them. Everything of a round commits in one transaction per workspace;
the live screens' wake-up follows the commit (e-mails and webhooks leave from
``listening.delivery``'s loop).

On its first round for a workspace the monitor replays ``history`` of stored traffic (by
default the detector's warm-up), so its seasonal baseline starts warm after a restart; alarms
of that replay older than ``replay_grace`` are not raised again.

Messages are read by id, but ids are handed out when a row is inserted, not when it commits:
on PostgreSQL a worker's transaction may commit a message after another worker committed a
higher id. So each round reads every id above a floor that trails ``late_commit`` behind the
highest id read, and skips those already fed: a message committed up to ``late_commit``
after a later one is still heard, and nothing is fed twice. (The replay starts the floor at
the highest id stored then: a message still in flight at that moment is the one exception.)
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.listening import alerts as alert_service
from socialdesk.listening import incidents
from socialdesk.listening import repository as repo
from socialdesk.listening.counting import Mention, series_keys
from socialdesk.listening.detection import Detection
from socialdesk.listening.models import Alert, AlertKind
from socialdesk.listening.monitor import ListeningMonitor, MonitorConfig
from socialdesk.listening.repository import HeardMessage
from socialdesk.listening.viral import PostSignal, ViralPolicy, viral_verdict

log = logging.getLogger(__name__)

BATCH = 5000
# Series whose alert opens an incident by itself: they say what the incident is about. A
# spike of the whole brand or of a channel is shown as an alert; a supervisor opens one.
INCIDENT_SERIES = ("hashtag:", "topic:", "rule:", "message:")


@dataclass
class _State:
    monitor: ListeningMonitor
    rule_names: dict[int, str]
    floor: int = 0
    """Every inbound message at or below this id has been fed (or predates the watch)."""
    seen: set[int] = field(default_factory=set)
    """The ids above the floor already fed."""
    marks: deque[tuple[datetime, int]] = field(default_factory=deque)
    """(round time, highest id fed by then), oldest first: the floor trails behind them."""


class TrafficWatch:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock = utcnow,
        config: MonitorConfig | None = None,
        viral: ViralPolicy | None = None,
        history: timedelta | None = None,
        replay_grace: timedelta = timedelta(minutes=30),
        late_commit: timedelta = timedelta(minutes=5),
        tick_seconds: float = 5.0,
        on_alert: Callable[[int], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.config = config or MonitorConfig()
        self.viral = viral or ViralPolicy()
        self.history = history if history is not None else self.config.volume.warmup
        self.replay_grace = replay_grace
        self.late_commit = late_commit
        self.tick_seconds = tick_seconds
        self.on_alert = on_alert
        self._states: dict[int, _State] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ----------------------------------------------------------------------------

    def tick(self) -> list[int]:
        """One round over every workspace; returns the ids of the alerts raised."""
        raised: list[int] = []
        with self.session_factory() as session:
            workspaces = repo.workspace_ids(session)
        for workspace_id in workspaces:
            try:
                raised.extend(self.watch(workspace_id))
            except Exception:  # one workspace's trouble must not silence the others
                log.exception("listening round failed for workspace %s", workspace_id)
        return raised

    def watch(self, workspace_id: int) -> list[int]:
        now = self.clock()
        state = self._states.get(workspace_id)
        replaying = state is None
        if state is None:
            state = self._start(workspace_id, now)
        fresh, detections = self._feed(
            workspace_id, state, now, since=now - self.history if replaying else None
        )
        detections += state.monitor.advance(now)
        if replaying:
            detections = [d for d in detections if d.at >= now - self.replay_grace]
            fresh = [m for m in fresh if m.created_at >= now - self.replay_grace]
        with unit_of_work(self.session_factory) as session:
            raised = [self._raise(session, workspace_id, d, state, now) for d in detections]
            raised += [self._viral(session, workspace_id, m, now) for m in fresh]
            alerts = [a for a in raised if a is not None]
            self._open_incidents(session, alerts, now)
            if fresh:
                for incident in repo.open_incidents(session, workspace_id):
                    incidents.absorb(session, incident, fresh, now)
            ids = [a.id for a in alerts]
        if ids and self.on_alert is not None:
            self.on_alert(workspace_id)
        return ids

    def _start(self, workspace_id: int, now: datetime) -> _State:
        state = _State(monitor=ListeningMonitor(now - self.history, self.config), rule_names={})
        self._states[workspace_id] = state
        return state

    def _feed(
        self, workspace_id: int, state: _State, now: datetime, since: datetime | None
    ) -> tuple[list[HeardMessage], list[Detection]]:
        """Feed the messages stored since the last round; return them and the alarms of the
        steps their times closed.

        The monitor counts a mention in the step that is open when it is observed, so before
        each message the steps that ended by its time are closed: a replay of a day of stored
        traffic then fills a day of steps, not the first one.
        """
        fed: list[HeardMessage] = []
        found: list[Detection] = []
        with self.session_factory() as session:
            state.rule_names = {r.id: r.name for r in repo.rules(session, workspace_id)}
            if since is not None:  # the replay: what is older than ``since`` is never fed
                top = repo.last_inbound_id(session, workspace_id)
                ids = repo.inbound_ids_after(session, workspace_id, 0, since)
                state.floor = top
            else:
                ids = repo.inbound_ids_after(session, workspace_id, state.floor)
                ids = [i for i in ids if i not in state.seen]
            for start in range(0, len(ids), BATCH):
                # Oldest first within a batch (ids follow arrival, not the posts' times).
                batch = repo.heard_messages(session, workspace_id, ids[start : start + BATCH])
                for m in batch:
                    found += state.monitor.advance(min(m.created_at, now))
                    state.monitor.observe(_mention(m))
                fed.extend(batch)
        state.seen.update(i for i in ids if i > state.floor)
        self._trail(state, now)
        return fed, found

    def _trail(self, state: _State, now: datetime) -> None:
        """Raise the floor to the highest id read ``late_commit`` ago."""
        state.marks.append((now, max(state.seen, default=state.floor)))
        floor = state.floor
        while state.marks and state.marks[0][0] <= now - self.late_commit:
            floor = max(floor, state.marks.popleft()[1])
        if floor != state.floor:
            state.floor = floor
            state.seen = {i for i in state.seen if i > floor}

    # -- alerts -------------------------------------------------------------------------------

    def _raise(
        self, session: Session, workspace_id: int, d: Detection, state: _State, now: datetime
    ) -> Alert | None:
        kind = {"volume": AlertKind.SPIKE, "negative_share": AlertKind.NEGATIVE}.get(d.kind)
        if kind is None:
            return None  # a drop in volume: a feed gone quiet, not a crisis
        label = _label(d.key, state.rule_names)
        minutes = max(1, round((d.window + self.config.step) / timedelta(minutes=1)))
        if kind == AlertKind.SPIKE:
            title = f"Spike on {label}: {d.observed:g} people in {minutes} min"
        else:
            title = f"Anger on {label}: {d.observed:g} negative in {minutes} min"
        return alert_service.raise_alert(
            session,
            workspace_id,
            kind=kind,
            series=d.key,
            title=title,
            window_start=d.at,
            now=now,
            observed=d.observed,
            expected=d.expected,
            detail={"z": round(d.z, 2), "window_minutes": minutes},
        )

    def _viral(
        self, session: Session, workspace_id: int, m: HeardMessage, now: datetime
    ) -> Alert | None:
        verdict = viral_verdict(
            PostSignal(
                followers=m.followers,
                negative=m.sentiment == "negative",
                age=max(timedelta(0), now - m.created_at),
                replies=int(m.metrics.get("replies", 0)),
                reposts=int(m.metrics.get("reposts", 0)),
                quotes=int(m.metrics.get("quotes", 0)),
                likes=int(m.metrics.get("likes", 0)),
                verified=m.author_verified,
            ),
            self.viral,
        )
        if not verdict.viral:
            return None
        # The title names no one and quotes nothing: alerts travel by e-mail and webhook,
        # and a customer's erasure must not have to chase copies of their words.
        alert = alert_service.raise_alert(
            session,
            workspace_id,
            kind=AlertKind.VIRAL,
            series=f"message:{m.message_id}",
            title=f"Viral complaint ({verdict.reason.replace('+', ' and ')}): an author with "
            f"{m.followers:,} followers, message {m.message_id}",
            window_start=m.created_at,
            now=now,
            observed=float(m.followers),
            detail={"reason": verdict.reason, "score": verdict.score},
            message_id=m.message_id,
        )
        if alert is not None:
            alert_service.boost_task(
                session, m.message_id, alert_service.VIRAL_BOOST * (0.5 + verdict.score)
            )
        return alert

    def _open_incidents(self, session: Session, alerts: list[Alert], now: datetime) -> None:
        """One incident for the alerts of one round (one burst fires several series)."""
        eligible = [a for a in alerts if a.series.startswith(INCIDENT_SERIES)]
        viral = [a for a in eligible if a.kind == AlertKind.VIRAL]
        spikes = sorted(
            (a for a in eligible if a.kind != AlertKind.VIRAL),
            key=lambda a: INCIDENT_SERIES.index(a.series.split(":", 1)[0] + ":"),
        )
        for alert in viral:
            incidents.open_from_alert(session, alert, now)
        if spikes:
            incidents.open_for_alerts(session, spikes, now)

    # -- the timer ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("listening round failed")
            self._stop.wait(self.tick_seconds)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="socialdesk-listening", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


def _mention(m: HeardMessage) -> Mention:
    return Mention(
        at=m.created_at,
        author=m.author_handle or str(m.author_id or m.message_id),
        keys=series_keys(
            topic=m.topic, channel=m.channel, text=m.text, rules=[str(r) for r in m.rule_ids]
        ),
        negative=m.sentiment == "negative",
        text=m.text,
    )


def _label(series: str, rule_names: dict[int, str]) -> str:
    kind, _, value = series.partition(":")
    if kind == "rule" and value.isdigit():
        return f"rule {rule_names.get(int(value), value)}"
    if kind == "all" or not value:
        return "all mentions"
    if kind == "hashtag":
        return value
    return f"{kind} {value}"


def start_listening_watch(app: Any) -> Callable[[], None]:
    """Start the watch for a web app made by ``create_app`` (``socialdesk serve``, the demo);
    the bell of this process's browsers rings as soon as an alert is committed. Returns the
    stop function and puts the watch on ``app.state.traffic_watch``."""

    def alerted(workspace_id: int) -> None:
        hub = getattr(app.state, "live_hub", None)
        if hub is not None:
            hub.notify(workspace_id)

    watch = TrafficWatch(app.state.session_factory, on_alert=alerted)
    app.state.traffic_watch = watch
    watch.start()
    return watch.stop
