"""A workspace hearing real traffic: the pipeline with triage, scoring and rule matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import create_account
from socialdesk.channels.events import InboundEvent, Party
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening.mentions import install
from socialdesk.people.models import User
from socialdesk.priority.service import ScoringHook
from socialdesk.routing.service import upsert_agent
from socialdesk.triage.hook import FastTriageHook
from socialdesk.web.auth import create_user

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "test-secret"


def listening_pipeline(session_factory: sessionmaker[Session]) -> Pipeline:
    hooks = PipelineHooks(triage=FastTriageHook())
    hooks.on_tasks_changed.append(ScoringHook(lambda: NOW))
    install(hooks)
    return Pipeline(session_factory, hooks, clock=lambda: NOW)


@pytest.fixture
def pipeline(session_factory: sessionmaker[Session]) -> Pipeline:
    return listening_pipeline(session_factory)


def person(factory: sessionmaker[Session], workspace: Workspace, email: str, role: str) -> User:
    with factory() as s:
        user = create_user(
            s, workspace.id, email, email.split("@")[0].title(), "pw-123456789", role
        )
        upsert_agent(s, workspace.id, email, user.name, role=role)
        s.commit()
        return user


@pytest.fixture
def supervisor(session_factory: sessionmaker[Session], workspace: Workspace) -> User:
    return person(session_factory, workspace, "sam@acme.test", "supervisor")


@pytest.fixture
def x_account(session_factory: sessionmaker[Session], workspace: Workspace) -> int:
    """The brand's X account (Enterprise API) in sandbox mode: answers count as sent
    without a platform."""
    with session_factory() as s:
        account = create_account(
            s,
            workspace_id=workspace.id,
            channel="x",
            external_id="brand-1",
            secret_key=SECRET,
            handle="@AcmeCare",
            # An Enterprise app: a self-serve one may answer in public only posts that
            # mention or quote the account (socialdesk.channels.policy), not a hashtag burst.
            settings={"sandbox": True, "x_tier": "enterprise"},
        )
        s.commit()
        return account.id


def post(
    n: int,
    text: str,
    *,
    minutes: float = 0.0,
    followers: int = 10,
    author: str | None = None,
    channel: str = "x",
    private: bool = False,
    metrics: dict[str, int] | None = None,
    base: datetime = NOW,
) -> InboundEvent:
    who = author or f"user{n}"
    return InboundEvent.model_validate(
        {
            "channel": channel,
            "external_id": f"p{n}",
            "visibility": "private" if private else "public",
            "author": Party(
                id=f"id-{who}", handle=f"@{who}", name=who.title(), followers=followers
            ),
            "account": "brand-1",
            "text": text,
            "created_at": base - timedelta(minutes=30) + timedelta(minutes=minutes),
            "metrics": metrics or {},
        }
    )
