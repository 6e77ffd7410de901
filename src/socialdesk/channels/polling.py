"""Polling fallback for accounts without webhook access: mentions and brand searches on X,
the listening rules' hashtags on Instagram, posts tagging a Facebook Page, new mail over IMAP,
and the mail of a mailbox's listening folder that contains the listening rules' terms.

The cursor (the newest id seen) is kept in the account's settings, so each poll asks only
for what is new; everything found goes through the same intake as webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import credentials_of, save_rotated_credentials
from socialdesk.channels.base import AccountRef, PollResult
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.intake import accept_events
from socialdesk.channels.mail import EmailConnector
from socialdesk.channels.mail_listen import poll_listen_folder
from socialdesk.channels.meta import FacebookConnector, InstagramConnector
from socialdesk.channels.meta_search import MAX_HASHTAGS, poll_hashtag, poll_tagged
from socialdesk.channels.models import ChannelAccount
from socialdesk.channels.sink import EventSink
from socialdesk.channels.webhooks import account_ref
from socialdesk.channels.x import XConnector
from socialdesk.core.clock import utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import NotFound


@dataclass
class PollReport:
    fetched: int = 0
    accepted: int = 0


def _account(
    session_factory: sessionmaker[Session], account_id: int, channel: str, secret_key: str
) -> tuple[AccountRef, Credentials, dict[str, Any]]:
    """The account to poll: its reference, credentials and settings (NotFound if it is not
    an account of that channel)."""
    with session_factory() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or account.channel != channel:
            raise NotFound(f"no {channel} account {account_id}")
        return (
            account_ref(account),
            credentials_of(account, secret_key),
            dict(account.settings or {}),
        )


def poll_x_account(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    *,
    account_id: int,
    secret_key: str,
    connector: XConnector | None = None,
) -> PollReport:
    """Fetch new mentions, the account's saved searches (settings["search_queries"]) and the
    listening rules' query (settings["rules_query"])."""
    x = connector or XConnector()
    ref, credentials, settings = _account(session_factory, account_id, "x", secret_key)
    cursors = dict(settings.get("poll_cursors") or {})
    raw_queries = settings.get("search_queries") or []
    if isinstance(raw_queries, str):  # "--setting search_queries=#acmedown,acme outage"
        raw_queries = raw_queries.split(",")
    # The workspace's listening rules as one recent-search query (kept up to date by
    # socialdesk.listening.rule_service whenever a rule changes).
    rules_query = str(settings.get("rules_query") or "")
    queries = [str(q).strip() for q in [*raw_queries, rules_query] if str(q).strip()]
    report = PollReport()
    try:
        results = {"mentions": x.poll_mentions(ref, credentials, cursors.get("mentions"))}
        for query in queries:
            results[f"search:{query}"] = x.poll_search(
                ref, credentials, query, cursors.get(f"search:{query}")
            )
    finally:
        if credentials.rotated:  # the refresh token was spent: keep the new pair
            with unit_of_work(session_factory) as session:
                save_rotated_credentials(session, account_id, credentials, secret_key, utcnow())
    raw_ids: list[int] = []
    with unit_of_work(session_factory) as session:
        for name, result in results.items():
            report.fetched += len(result.events)
            accepted = accept_events(session, pipeline, ref.workspace_id, result.events, "poll:x")
            raw_ids += accepted.accepted_raw_ids
            if result.cursor:
                cursors[name] = result.cursor
        account = session.get(ChannelAccount, account_id)
        if account is not None:
            account.settings = {**(account.settings or {}), "poll_cursors": cursors}
    report.accepted = len(raw_ids)
    if raw_ids:
        pipeline.process_pending(ref.workspace_id, raw_ids)
    return report


def poll_email_account(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    *,
    account_id: int,
    secret_key: str,
    connector: EmailConnector | None = None,
) -> PollReport:
    """Fetch new mail over IMAP (UIDs above the last one seen, within the mailbox's
    UIDVALIDITY) and accept it."""
    mail = connector or EmailConnector()
    ref, credentials, settings = _account(session_factory, account_id, "email", secret_key)
    last_uid = int(settings.get("imap_last_uid") or 0)
    validity = settings.get("imap_uidvalidity")
    result = mail.poll_imap(ref, credentials, last_uid, str(validity) if validity else None)
    return _accept_mail(session_factory, pipeline, ref, account_id, result, "imap")


def _accept_mail(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    ref: AccountRef,
    account_id: int,
    result: PollResult,
    prefix: str,
) -> PollReport:
    """Accept the mail found and keep the cursor: the UID and the UIDVALIDITY it belongs to
    are saved together (settings ``<prefix>_last_uid`` and ``<prefix>_uidvalidity``)."""
    with unit_of_work(session_factory) as session:
        accepted = accept_events(session, pipeline, ref.workspace_id, result.events, "poll:email")
        account = session.get(ChannelAccount, account_id)
        if account is not None and result.cursor:
            account.settings = {
                **(account.settings or {}),
                f"{prefix}_last_uid": int(result.cursor),
                f"{prefix}_uidvalidity": result.epoch,
            }
    if accepted.accepted_raw_ids:
        pipeline.process_pending(ref.workspace_id, accepted.accepted_raw_ids)
    return PollReport(fetched=len(result.events), accepted=len(accepted.accepted_raw_ids))


def poll_email_listening(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    *,
    account_id: int,
    secret_key: str,
    connector: EmailConnector | None = None,
) -> PollReport:
    """Search the mailbox's listening folder (settings["listen_folder"]) for new mail that
    contains any of the listening rules' terms (settings["listen_terms"], kept up to date by
    the rules) and accept it; the rules' exclusions and regular expressions are applied by
    rule matching in the pipeline."""
    mail = connector or EmailConnector()
    ref, credentials, settings = _account(session_factory, account_id, "email", secret_key)
    folder = str(settings.get("listen_folder") or "")
    terms = [str(t) for t in settings.get("listen_terms") or [] if str(t)]
    if not folder or not terms:
        return PollReport()
    last_uid = int(settings.get("listen_last_uid") or 0)
    validity = settings.get("listen_uidvalidity")
    result = poll_listen_folder(
        mail, ref, credentials, folder, terms, last_uid, str(validity) if validity else None
    )
    return _accept_mail(session_factory, pipeline, ref, account_id, result, "listen")


def poll_instagram_account(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    *,
    account_id: int,
    secret_key: str,
    connector: InstagramConnector | None = None,
) -> PollReport:
    """Search Instagram for the listening rules' hashtags (settings["rules_hashtags"], kept up
    to date by the rules): posts newer than the last one seen per hashtag are accepted."""
    ig = connector or InstagramConnector()
    ref, credentials, settings = _account(session_factory, account_id, "instagram", secret_key)
    tags = [str(t) for t in settings.get("rules_hashtags") or []][:MAX_HASHTAGS]
    ids = dict(settings.get("hashtag_ids") or {})
    cursors = dict(settings.get("hashtag_cursors") or {})
    found = []
    for tag in tags:
        since = datetime.fromisoformat(cursors[tag]) if cursors.get(tag) else None
        events, ids[tag], newest = poll_hashtag(ig, ref, credentials, tag, ids.get(tag), since)
        found += events
        if newest is not None:
            cursors[tag] = newest.isoformat()
    with unit_of_work(session_factory) as session:
        accepted = accept_events(session, pipeline, ref.workspace_id, found, "poll:instagram")
        account = session.get(ChannelAccount, account_id)
        if account is not None:
            account.settings = {
                **(account.settings or {}),
                "hashtag_ids": ids,
                "hashtag_cursors": cursors,
            }
    if accepted.accepted_raw_ids:
        pipeline.process_pending(ref.workspace_id, accepted.accepted_raw_ids)
    return PollReport(fetched=len(found), accepted=len(accepted.accepted_raw_ids))


def poll_facebook_account(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    *,
    account_id: int,
    secret_key: str,
    connector: FacebookConnector | None = None,
) -> PollReport:
    """Fetch the public posts that tagged the Page since the last one seen (the listening
    rules then mark the mentions among them)."""
    fb = connector or FacebookConnector()
    ref, credentials, settings = _account(session_factory, account_id, "facebook", secret_key)
    cursor = settings.get("tagged_cursor")
    since = datetime.fromisoformat(str(cursor)) if cursor else None
    events, newest = poll_tagged(fb, ref, credentials, since)
    with unit_of_work(session_factory) as session:
        accepted = accept_events(session, pipeline, ref.workspace_id, events, "poll:facebook")
        account = session.get(ChannelAccount, account_id)
        if account is not None and newest is not None:
            account.settings = {**(account.settings or {}), "tagged_cursor": newest.isoformat()}
    if accepted.accepted_raw_ids:
        pipeline.process_pending(ref.workspace_id, accepted.accepted_raw_ids)
    return PollReport(fetched=len(events), accepted=len(accepted.accepted_raw_ids))
