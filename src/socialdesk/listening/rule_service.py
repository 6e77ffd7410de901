"""Managing a workspace's listening rules (admins change them; services flush, callers commit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from socialdesk.channels.mail_listen import quotable
from socialdesk.channels.meta_search import MAX_HASHTAGS
from socialdesk.core.errors import Conflict, NotFound
from socialdesk.listening import repository as repo
from socialdesk.listening.models import ListeningRule
from socialdesk.listening.rules import (
    CleanRule,
    CompiledRule,
    RuleSpec,
    compile_rule,
    mail_search_terms,
    validate,
    x_search_query,
)


def _clean_of(rule: ListeningRule) -> CleanRule:
    return CleanRule(
        name=rule.name,
        terms=list(rule.terms or []),
        handles=list(rule.handles or []),
        hashtags=list(rule.hashtags or []),
        exclusions=list(rule.exclusions or []),
        languages=list(rule.languages or []),
    )


def compiled_rules(session: Session, workspace_id: int) -> list[CompiledRule]:
    return [
        compile_rule(r.id, _clean_of(r))
        for r in repo.rules(session, workspace_id, active_only=True)
    ]


def clean_rules(session: Session, workspace_id: int) -> list[CleanRule]:
    return [_clean_of(r) for r in repo.rules(session, workspace_id, active_only=True)]


def sync_searches(session: Session, workspace_id: int) -> str:
    """Give the workspace's accounts the active rules as searches: every X account one
    recent-search query (``rules_query``, which polling runs beside the account's own saved
    searches), every Instagram account the rules' hashtags (``rules_hashtags``, the first 30:
    Instagram allows 30 unique hashtags a week), every mailbox with a listening folder
    (``listen_folder``) the terms to search it for (``listen_terms``; a term IMAP cannot
    carry as a quoted string, such as one with non-ASCII letters, is left to rule matching
    of the mail that comes in otherwise). Returns the X query."""
    clean = clean_rules(session, workspace_id)
    query = x_search_query(clean) if clean else ""
    tags = list(dict.fromkeys(t.lstrip("#").lower() for r in clean for t in r.hashtags))
    tags = tags[:MAX_HASHTAGS]
    terms = [t for t in mail_search_terms(clean) if quotable(t)]
    for account in repo.accounts_of(session, workspace_id, ("x", "instagram", "email")):
        value: str | list[str]
        if account.channel == "x":
            key, value = "rules_query", query
        elif account.channel == "instagram":
            key, value = "rules_hashtags", tags
        elif (account.settings or {}).get("listen_folder"):
            key, value = "listen_terms", terms
        else:
            continue
        settings = dict(account.settings or {})
        if settings.get(key, "" if key == "rules_query" else []) != value:
            settings[key] = value
            account.settings = settings
    session.flush()
    return query


def create_rule(
    session: Session, workspace_id: int, spec: RuleSpec, *, user_id: int | None, now: datetime
) -> ListeningRule:
    clean = validate(spec)
    if repo.rule_by_name(session, workspace_id, clean.name) is not None:
        raise Conflict(f"a rule named {clean.name!r} exists already")
    rule = ListeningRule(
        workspace_id=workspace_id,
        name=clean.name,
        terms=clean.terms,
        handles=clean.handles,
        hashtags=clean.hashtags,
        exclusions=clean.exclusions,
        languages=clean.languages,
        active=True,
        created_by_id=user_id,
        created_at=now,
        updated_at=now,
    )
    repo.add(session, rule)
    sync_searches(session, workspace_id)
    return rule


def update_rule(
    session: Session,
    workspace_id: int,
    rule_id: int,
    spec: RuleSpec,
    *,
    active: bool | None,
    now: datetime,
) -> ListeningRule:
    rule = get_rule(session, workspace_id, rule_id)
    clean = validate(spec)
    other = repo.rule_by_name(session, workspace_id, clean.name)
    if other is not None and other.id != rule.id:
        raise Conflict(f"a rule named {clean.name!r} exists already")
    rule.name = clean.name
    rule.terms = clean.terms
    rule.handles = clean.handles
    rule.hashtags = clean.hashtags
    rule.exclusions = clean.exclusions
    rule.languages = clean.languages
    if active is not None:
        rule.active = active
    rule.updated_at = now
    session.flush()
    sync_searches(session, workspace_id)
    return rule


def get_rule(session: Session, workspace_id: int, rule_id: int) -> ListeningRule:
    rule = repo.rule(session, workspace_id, rule_id)
    if rule is None:
        raise NotFound(f"listening rule {rule_id} not found")
    return rule


def set_active(
    session: Session, workspace_id: int, rule_id: int, active: bool, now: datetime
) -> ListeningRule:
    rule = get_rule(session, workspace_id, rule_id)
    rule.active = active
    rule.updated_at = now
    session.flush()
    sync_searches(session, workspace_id)
    return rule


def delete_rule(session: Session, workspace_id: int, rule_id: int) -> None:
    session.delete(get_rule(session, workspace_id, rule_id))
    session.flush()
    sync_searches(session, workspace_id)


def list_rules(session: Session, workspace_id: int) -> Sequence[ListeningRule]:
    return repo.rules(session, workspace_id)
