"""The Graph API version is a setting with a current default, and its expiry is announced."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.graph_versions import DEFAULT_GRAPH_VERSION, EXPIRES, expiry_warning
from socialdesk.channels.registry import default_connectors
from socialdesk.config import Settings
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.web.app import create_app
from tests.channels.fake_meta import FakeMeta
from tests.channels.helpers import SECRET, add_account, inbound, ingest, message_by_external_id
from tests.channels.meta_helpers import APP_SECRET, reply


def test_the_default_is_a_version_meta_has_not_scheduled_to_retire() -> None:
    assert Settings().meta_graph_version == DEFAULT_GRAPH_VERSION
    assert EXPIRES[DEFAULT_GRAPH_VERSION] is None
    assert expiry_warning(DEFAULT_GRAPH_VERSION, date(2026, 12, 7)) is None


def test_a_version_is_announced_ninety_days_before_it_expires_and_after() -> None:
    assert expiry_warning("v21.0", date(2026, 10, 1)) is None
    soon = expiry_warning("v21.0", date(2026, 12, 7))
    assert soon is not None and "expires on 2027-01-21 (45 days)" in soon
    gone = expiry_warning("v21.0", date(2027, 1, 21))
    assert gone is not None and "expired on 2027-01-21" in gone
    assert "SOCIALDESK_META_GRAPH_VERSION=v26.0" in gone


def test_a_malformed_version_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="meta_graph_version"):
        Settings(meta_graph_version="21")


def test_the_app_warns_at_start_when_its_version_is_about_to_expire(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        create_app(
            Settings(secret_key=SECRET, meta_graph_version="v21.0"), engine=engine, migrate=False
        )
    assert any("Graph API v21.0" in r.getMessage() for r in caplog.records)


def test_the_connectors_call_the_configured_version(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    account = add_account(
        session_factory,
        workspace.id,
        "facebook",
        credentials={"app_secret": APP_SECRET, "access_token": "page-token"},
        settings={"graph_host": fake_meta.base_url},
    )
    ingest(session_factory, workspace.id, inbound("555_901", channel="facebook", author="77"))
    reply(session_factory, account, "555_901", "On its way.")
    sender = OutboxSender(
        session_factory, default_connectors("v25.0"), secret_key=SECRET, clock=clock
    )
    assert sender.run_once().sent == 1
    assert [c.path for c in fake_meta.requests] == ["/v25.0/555_901/comments"]
    with session_factory() as s:
        assert message_by_external_id(s, "555_901").channel == "facebook"
