"""The audit log: an append-only record of who changed what, when, before and after.

Any domain records its changes here (it sits in the core so that every layer may); the
compliance domain reads, filters and exports the log. Actions are ``<target>.<verb>``:
user.created, user.updated, token.created, token.revoked, channel_account.created,
channel_account.updated, policy.updated, team.created, taxonomy.updated, retention.updated,
retention.pruned, customer.exported, customer.erased, signin.succeeded, signin.failed,
person.password_changed, session.switched (a person moved between their workspaces).
A ``users`` row is a person's membership of a workspace: user.created and user.updated
record memberships given, changed (role) and removed (deactivated).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class AuditEvent(Base):
    """One change an admin (or a sign-in, or a GDPR request) made; never updated.

    ``actor`` is written out (an email, ``token:NAME`` or ``cli``) so the record still says
    who acted after that person is removed; ``actor_user_id`` carries no foreign key for the
    same reason.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_ws_created", "workspace_id", "created_at"),
        Index("ix_audit_events_ws_action", "workspace_id", "action"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    actor: Mapped[str] = mapped_column(String(400))
    actor_user_id: Mapped[int | None] = mapped_column(BigId, default=None)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    client: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "secret",
        "token",
        "token_hash",
        "credentials",
        "credentials_encrypted",
        "secret_encrypted",
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a person (by email), an API token (``token:NAME``) or the command line."""

    label: str
    user_id: int | None = None
    client: str = ""


def _redacted(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Secrets never enter the log; that they changed is enough."""
    if not values:
        return {}
    return {k: ("[redacted]" if k in SECRET_FIELDS else v) for k, v in values.items()}


def record(
    session: Session,
    workspace_id: int,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object = "",
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event (flushed; the caller's unit of work commits it with the change).

    Without an actor, the one set on the session (the request's caller) acts."""
    actor = actor or session_actor(session)
    event = AuditEvent(
        workspace_id=workspace_id,
        actor=actor.label[:400],
        actor_user_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:200],
        before=_redacted(before),
        after=_redacted(after),
        client=actor.client[:200],
        created_at=now or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, on both sides: what an auditor wants to read."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def event_as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor,
        "actor_user_id": event.actor_user_id,
        "client": event.client,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "before": event.before,
        "after": event.after,
    }


# --- changes recorded as they are flushed -------------------------------------------------
# Watched models are audited on every path that changes them (console, API, command line,
# a future screen) without each caller remembering to: a change is diffed as it is flushed
# and its event is added to the same transaction, so it commits or rolls back with it.

ACTOR_KEY = "audit_actor"
_default_actor = Actor("system")


@dataclass(frozen=True, slots=True)
class Watch:
    target_type: str
    ignore: frozenset[str]  # columns, or "column.key" for one key of a JSON column


_watched: dict[type[Any], Watch] = {}


def watch(model: type[Any], target_type: str, *, ignore: tuple[str, ...] = ()) -> None:
    """Audit every insert, change and delete of ``model``'s rows."""
    _watched[model] = Watch(target_type, frozenset(ignore))


def set_actor(session: Session, actor: Actor | Callable[[], Actor]) -> None:
    """Who is acting in this unit of work; a callable is asked when a change is recorded
    (a request's session opens before its caller is known)."""
    session.info[ACTOR_KEY] = actor


def session_actor(session: Session) -> Actor:
    found = session.info.get(ACTOR_KEY, _default_actor)
    return found() if callable(found) else found  # type: ignore[no-any-return]


def default_actor() -> Actor:
    return _default_actor


def set_default_actor(actor: Actor) -> None:
    """Who acts where nobody said (the command line sets itself; else "system")."""
    global _default_actor
    _default_actor = actor


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return "[bytes]"
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


def _diff_json(name: str, old: Any, new: Any, ignore: frozenset[str]) -> tuple[Any, Any]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return old, new
    keys = [k for k in {*old, *new} if f"{name}.{k}" not in ignore and old.get(k) != new.get(k)]
    return {k: old.get(k) for k in sorted(keys)}, {k: new.get(k) for k in sorted(keys)}


def _changes(obj: Any, watch_: Watch) -> tuple[dict[str, Any], dict[str, Any]]:
    from sqlalchemy import inspect

    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        name = attr.key
        if name in watch_.ignore:
            continue
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        old, new = _diff_json(name, old, new, watch_.ignore)
        if old == new:
            continue
        before[name], after[name] = _plain(old), _plain(new)
    return before, after


def _columns(obj: Any, watch_: Watch) -> dict[str, Any]:
    from sqlalchemy import inspect

    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in watch_.ignore
    }


def _on_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    pending: list[tuple[Any, Watch, str, dict[str, Any], dict[str, Any]]] = []
    for obj in session.new:
        found = _watched.get(type(obj))
        if found is not None:
            pending.append((obj, found, "created", {}, {}))
    for obj in session.dirty:
        found = _watched.get(type(obj))
        if found is not None and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj, found)
            if after or before:
                pending.append((obj, found, "updated", before, after))
    for obj in session.deleted:
        found = _watched.get(type(obj))
        if found is not None:
            pending.append((obj, found, "deleted", _columns(obj, found), {}))
    if pending:
        session.info.setdefault("audit_pending", []).extend(pending)


def _on_after_flush_postexec(session: Session, _context: Any) -> None:
    pending = session.info.pop("audit_pending", None)
    if not pending:
        return
    actor = session_actor(session)
    for obj, found, verb, before, after in pending:
        if verb == "created":
            after = _columns(obj, found)  # ids and defaults are known once flushed
        workspace_id = getattr(obj, "workspace_id", None)
        if workspace_id is None and found.target_type == "workspace":
            workspace_id = obj.id
        if workspace_id is None:
            continue
        key = getattr(obj, "id", None)
        if key is None:
            key = ":".join(str(v) for v in _primary_key(obj))
        session.add(
            AuditEvent(
                workspace_id=workspace_id,
                actor=actor.label[:400],
                actor_user_id=actor.user_id,
                action=f"{found.target_type}.{verb}",
                target_type=found.target_type,
                target_id=str(key)[:200],
                before=_redacted(before),
                after=_redacted(after),
                client=actor.client[:200],
                created_at=utcnow(),
            )
        )


def _primary_key(obj: Any) -> tuple[Any, ...]:
    from sqlalchemy import inspect

    return tuple(inspect(obj).identity or ())


def _rollback(session: Session) -> None:
    session.info.pop("audit_pending", None)


event.listen(Session, "before_flush", _on_before_flush)
event.listen(Session, "after_flush_postexec", _on_after_flush_postexec)
event.listen(Session, "after_soft_rollback", lambda session, _tx: _rollback(session))
