"""Builds the pipeline with every domain's hooks: the one place where the stages meet."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.clock import Clock, utcnow
from socialdesk.ingest.hooks import PipelineHooks
from socialdesk.ingest.pipeline import Pipeline


def default_hooks(settings: Settings, session_factory: sessionmaker[Session]) -> PipelineHooks:
    from socialdesk.conversations.shift import complete_shifts

    hooks = PipelineHooks()
    hooks.on_tasks_changed.append(complete_shifts)
    return hooks


def build_pipeline(
    settings: Settings, session_factory: sessionmaker[Session], *, clock: Clock = utcnow
) -> Pipeline:
    return Pipeline(session_factory, default_hooks(settings, session_factory), clock=clock)
