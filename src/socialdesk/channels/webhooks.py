"""Webhook endpoints of every connector: verify, store, answer; process after answering.

``/webhooks/{channel}/{account_id}`` names the channel account (our id) the platform was
configured with. Unsigned requests get 401, wrongly signed ones 403, and nothing is stored;
an authentic payload that cannot be understood gets 400 with the reason and is kept in the
dead-letter table; bodies over the limit are refused before they are read in full.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from socialdesk.channels import repository
from socialdesk.channels.accounts import credentials_of
from socialdesk.channels.base import (
    AccountRef,
    Connector,
    DeliveryError,
    MalformedPayload,
    WebhookRejected,
)
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.intake import accept_events
from socialdesk.channels.models import ChannelAccount, DeadLetter
from socialdesk.channels.registry import default_connectors
from socialdesk.channels.sink import EventSink
from socialdesk.channels.x import crc_response
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput
from socialdesk.core.limits import storable, storable_text

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576
GATHER_SECONDS = 0.25
DEAD_LETTER_MAX_CHARS = 1_048_576

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@dataclass(frozen=True)
class WebhookOutcome:
    status: int
    body: dict[str, Any]
    workspace_id: int | None = None
    raw_ids: tuple[int, ...] = ()
    # Events the webhook only named (Instagram mentions), with the account each is for.
    stubs: tuple[tuple[int, InboundEvent], ...] = ()


def account_ref(account: ChannelAccount) -> AccountRef:
    return AccountRef(
        id=account.id,
        workspace_id=account.workspace_id,
        channel=account.channel,
        external_id=account.external_id,
        handle=account.handle,
        settings=dict(account.settings or {}),
    )


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"payload larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a lying or absent Content-Length
            raise HTTPException(413, f"payload larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def handle_delivery(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    connector: Connector,
    *,
    channel: str,
    account_id: int,
    body: bytes,
    headers: Mapping[str, str],
    secret_key: str,
) -> WebhookOutcome:
    """The whole synchronous part of a webhook POST; returns what to answer."""
    with unit_of_work(session_factory) as session:
        account = _active_account(session, channel, account_id)
        if account is None:
            return WebhookOutcome(404, {"detail": "unknown channel account"})
        try:
            connector.verify(body, headers, credentials_of(account, secret_key))
        except WebhookRejected as exc:
            return WebhookOutcome(exc.status, {"detail": exc.reason})
        try:
            events = connector.parse(storable_json(body), account_ref(account))
        # A value the payload's own format allows but we cannot hold (a timestamp out of
        # range) is as unusable as a malformed payload: kept as a dead letter.
        except (MalformedPayload, ValueError, OverflowError, OSError) as exc:
            letter = _dead_letter(session, account, channel, body, headers, str(exc))
            # Meta retries a delivery that is not answered 200 and may switch the
            # subscription off: an authentic payload, kept as a dead letter, is answered 200.
            status = getattr(connector, "malformed_status", 400)
            return WebhookOutcome(status, {"detail": str(exc), "dead_letter_id": letter.id})
        owners, strangers = _owners(session, account, events)
        if strangers:
            named = ", ".join(sorted({e.account or "?" for e in strangers}))
            _dead_letter(
                session,
                account,
                channel,
                body,
                headers,
                f"events for {channel} account(s) {named}, not connected in this workspace",
            )
        unrouted = {id(e) for e in strangers}
        mine = [e for e in events if id(e) not in unrouted]
        stubs = tuple((owners[e.account or ""], e) for e in mine if e.extra.get("unresolved"))
        complete = [e for e in mine if not e.extra.get("unresolved")]
        result = accept_events(
            session, pipeline, account.workspace_id, complete, source=f"webhook:{channel}"
        )
        workspace_id = account.workspace_id
    return WebhookOutcome(
        200,
        {
            "accepted": len(result.accepted_raw_ids),
            "duplicates": result.duplicates,
            "ignored": result.echoes,
            "resolving": len(stubs),
        }
        | ({"unrouted": len(strangers)} if strangers else {}),
        workspace_id,
        tuple(result.accepted_raw_ids),
        stubs,
    )


def _owners(
    session: Session, account: ChannelAccount, events: Sequence[InboundEvent]
) -> tuple[dict[str, int], list[InboundEvent]]:
    """Which of the workspace's accounts each event is for (X's ``for_user_id``, Meta's
    ``entry[].id``): one app's webhook serves all of them. Events for an account that is
    not connected here come back as strangers."""
    owners = {account.external_id: account.id}
    strangers: list[InboundEvent] = []
    for event in events:
        owner = event.account or account.external_id
        if owner not in owners:
            found = repository.get_account_by_external_id(
                session, account.workspace_id, account.channel, owner
            )
            if found is None or not found.active:
                strangers.append(event)
                continue
            owners[owner] = found.id
    owners[""] = account.id
    return owners, strangers


def _dead_letter(
    session: Session,
    account: ChannelAccount,
    channel: str,
    body: bytes,
    headers: Mapping[str, str],
    reason: str,
) -> DeadLetter:
    return repository.add_dead_letter(
        session,
        DeadLetter(
            workspace_id=account.workspace_id,
            channel=channel,
            channel_account_id=account.id,
            source=f"webhook:{channel}",
            content_type=headers.get("content-type", "")[:200],
            body=storable_text(body.decode("utf-8", errors="replace"))[:DEAD_LETTER_MAX_CHARS],
            reason=storable_text(reason)[:2000],
        ),
    )


def resolve_stubs(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    connector: Connector,
    *,
    account_id: int,
    stubs: Sequence[InboundEvent],
    body: bytes,
    secret_key: str,
) -> list[int]:
    """Complete events the webhook only named (Instagram mentions) and accept them.

    A stub that cannot be completed keeps the original payload as a dead letter with the
    reason, so an admin can replay it once the platform answers again.
    """
    resolve = getattr(connector, "resolve_mention", None)
    with session_factory() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or resolve is None:
            return []
        ref = account_ref(account)
        credentials = credentials_of(account, secret_key)
    resolved: list[InboundEvent] = []
    failures: list[str] = []
    for stub in stubs:
        try:
            resolved.append(resolve(stub, ref, credentials))
        except (DeliveryError, InvalidInput) as exc:
            failures.append(f"{stub.external_id}: {exc}")
    with unit_of_work(session_factory) as session:
        result = accept_events(
            session, pipeline, ref.workspace_id, resolved, f"webhook:{ref.channel}"
        )
        if failures:
            repository.add_dead_letter(
                session,
                DeadLetter(
                    workspace_id=ref.workspace_id,
                    channel=ref.channel,
                    channel_account_id=ref.id,
                    source=f"webhook:{ref.channel}",
                    content_type="application/json",
                    body=body.decode("utf-8", errors="replace")[:DEAD_LETTER_MAX_CHARS],
                    reason=("mention could not be fetched: " + "; ".join(failures))[:2000],
                ),
            )
    return result.accepted_raw_ids


# JSON escapes of what no column can hold: NUL, and UTF-16 surrogates (paired or not).
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def storable_json(body: bytes) -> bytes:
    """A verified JSON payload with NUL characters dropped and lone surrogates replaced;
    the signature was checked on the original bytes."""
    if _UNSTORABLE_ESCAPE.search(body) is None:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body  # not JSON: the connector reports what is wrong with it
    return json.dumps(storable(data), ensure_ascii=False).encode()


def _active_account(session: Session, channel: str, account_id: int) -> ChannelAccount | None:
    account = session.get(ChannelAccount, account_id)
    if account is None or account.channel != channel or not account.active:
        return None
    return account


def _state(request: Request) -> tuple[sessionmaker[Session], EventSink, str]:
    state = request.app.state
    return state.session_factory, state.pipeline, state.settings.secret_key


def _connector(request: Request, channel: str) -> Connector:
    connectors = getattr(request.app.state, "connectors", None) or default_connectors()
    found: Connector | None = connectors.get(channel)
    if found is None:
        raise HTTPException(404, f"no connector for {channel}")
    return found


class _Processor:
    """One background thread per pipeline and workspace drains stored events after the
    webhooks answered: deliveries that arrive together are processed as one batch, and
    never two batches of a workspace at once."""

    def __init__(self, pipeline: EventSink, workspace_id: int) -> None:
        self.pipeline = pipeline
        self.workspace_id = workspace_id
        self.wanted = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"webhook-processing-{workspace_id}", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.wanted.wait()
            # A short pause gathers the deliveries arriving meanwhile into one batch: fewer
            # write transactions, so the webhooks' own writes wait less.
            time.sleep(GATHER_SECONDS)
            self.wanted.clear()
            try:
                self.pipeline.process_pending(self.workspace_id)
            except Exception:  # stored events stay pending and are picked up next time
                log.exception("processing webhook events of workspace %d failed", self.workspace_id)


_processors: dict[tuple[int, int], _Processor] = {}
_processors_guard = threading.Lock()


def process_soon(pipeline: EventSink, workspace_id: int) -> None:
    with _processors_guard:
        key = (id(pipeline), workspace_id)
        processor = _processors.get(key)
        if processor is None:
            processor = _processors[key] = _Processor(pipeline, workspace_id)
    processor.wanted.set()


def _hand_over(
    request: Request, pipeline: EventSink, workspace_id: int, raw_ids: list[int]
) -> None:
    """After commit: workers (scale mode), this request (tests) or the batching thread."""
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None and dispatcher.scale_mode:
        dispatcher.dispatch(workspace_id, raw_ids)
    elif getattr(request.app.state, "process_webhooks_inline", False):
        pipeline.process_pending(workspace_id, raw_ids)
    else:
        process_soon(pipeline, workspace_id)


def _resolve_then_process(
    request: Request,
    pipeline: EventSink,
    connector: Connector,
    outcome: WebhookOutcome,
    body: bytes,
) -> None:
    session_factory, _, secret_key = _state(request)
    by_account: dict[int, list[InboundEvent]] = {}
    for account_id, stub in outcome.stubs:
        by_account.setdefault(account_id, []).append(stub)
    for account_id, stubs in by_account.items():
        raw_ids = resolve_stubs(
            session_factory,
            pipeline,
            connector,
            account_id=account_id,
            stubs=stubs,
            body=body,
            secret_key=secret_key,
        )
        if raw_ids and outcome.workspace_id is not None:
            _hand_over(request, pipeline, outcome.workspace_id, raw_ids)


def _credential(
    session_factory: sessionmaker[Session],
    channel: str,
    account_id: int,
    secret_key: str,
    name: str,
) -> str | None:
    with session_factory() as session:
        account = _active_account(session, channel, account_id)
        if account is None:
            return None
        return credentials_of(account, secret_key).get(name)


@router.get("/x/{account_id}")
async def x_crc(request: Request, account_id: int, crc_token: str = "") -> Response:
    """X's challenge-response check, at registration and periodically."""
    session_factory, _, secret_key = _state(request)
    if not crc_token or len(crc_token) > 1000:
        return JSONResponse({"detail": "crc_token missing"}, status_code=400)
    secret = await run_in_threadpool(
        _credential, session_factory, "x", account_id, secret_key, "consumer_secret"
    )
    if not secret:
        return JSONResponse({"detail": "unknown channel account"}, status_code=404)
    return JSONResponse(crc_response(crc_token, secret))


async def _meta_verify(request: Request, channel: str, account_id: int) -> Response:
    """Meta's subscription handshake: echo hub.challenge when hub.verify_token matches."""
    session_factory, _, secret_key = _state(request)
    params = request.query_params
    expected = await run_in_threadpool(
        _credential, session_factory, channel, account_id, secret_key, "verify_token"
    )
    if not expected:
        return JSONResponse({"detail": "unknown channel account"}, status_code=404)
    if params.get("hub.mode") != "subscribe" or params.get("hub.verify_token") != expected:
        return JSONResponse({"detail": "verify token does not match"}, status_code=403)
    return PlainTextResponse(params.get("hub.challenge", "")[:1000])


@router.get("/facebook/{account_id}")
async def facebook_verify(request: Request, account_id: int) -> Response:
    return await _meta_verify(request, "facebook", account_id)


@router.get("/instagram/{account_id}")
async def instagram_verify(request: Request, account_id: int) -> Response:
    return await _meta_verify(request, "instagram", account_id)


@router.post("/{channel}/{account_id}")
async def receive(
    request: Request, channel: str, account_id: int, background: BackgroundTasks
) -> Response:
    connector = _connector(request, channel)
    body = await read_limited_body(request)
    session_factory, pipeline, secret_key = _state(request)
    outcome = await run_in_threadpool(
        handle_delivery,
        session_factory,
        pipeline,
        connector,
        channel=channel,
        account_id=account_id,
        body=body,
        headers=dict(request.headers),
        secret_key=secret_key,
    )
    if outcome.stubs:
        background.add_task(_resolve_then_process, request, pipeline, connector, outcome, body)
    if outcome.raw_ids and outcome.workspace_id is not None:
        background.add_task(
            _hand_over, request, pipeline, outcome.workspace_id, list(outcome.raw_ids)
        )
    return Response(
        json.dumps(outcome.body), status_code=outcome.status, media_type="application/json"
    )
