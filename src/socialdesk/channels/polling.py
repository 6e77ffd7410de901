"""Polling fallback for accounts without webhook access: mentions and brand searches on X.

The cursor (the newest id seen) is kept in the account's settings, so each poll asks only
for what is new; everything found goes through the same intake as webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import credentials_of, save_rotated_credentials
from socialdesk.channels.intake import accept_events
from socialdesk.channels.mail import EmailConnector
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
    with session_factory() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or account.channel != "x":
            raise NotFound(f"no X account {account_id}")
        ref = account_ref(account)
        credentials = credentials_of(account, secret_key)
        cursors = dict((account.settings or {}).get("poll_cursors") or {})
        raw_queries = (account.settings or {}).get("search_queries") or []
        if isinstance(raw_queries, str):  # "--setting search_queries=#acmedown,acme outage"
            raw_queries = raw_queries.split(",")
        # The workspace's listening rules as one recent-search query (kept up to date by
        # socialdesk.listening.rule_service whenever a rule changes).
        rules_query = str((account.settings or {}).get("rules_query") or "")
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
    with session_factory() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or account.channel != "email":
            raise NotFound(f"no email account {account_id}")
        ref = account_ref(account)
        credentials = credentials_of(account, secret_key)
        last_uid = int((account.settings or {}).get("imap_last_uid") or 0)
        validity = (account.settings or {}).get("imap_uidvalidity")
    result = mail.poll_imap(ref, credentials, last_uid, str(validity) if validity else None)
    with unit_of_work(session_factory) as session:
        accepted = accept_events(session, pipeline, ref.workspace_id, result.events, "poll:email")
        account = session.get(ChannelAccount, account_id)
        if account is not None and result.cursor:
            # The UID and the UIDVALIDITY it belongs to are saved together.
            account.settings = {
                **(account.settings or {}),
                "imap_last_uid": int(result.cursor),
                "imap_uidvalidity": result.epoch,
            }
    if accepted.accepted_raw_ids:
        pipeline.process_pending(ref.workspace_id, accepted.accepted_raw_ids)
    return PollReport(fetched=len(result.events), accepted=len(accepted.accepted_raw_ids))
