"""Builds the pipeline with every domain's hooks: the one place where the stages meet.

Every process that processes events (the web application, ``socialdesk ingest``, ``worker``,
``channels poll``, ``events retry``, the benchmarks) builds its pipeline here, so none of
them can miss a stage: triage, listening rules, scoring, channel shifts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.bus import RedisStreamsBus
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.processing import PipelineHooks
from socialdesk.ingest.dispatch import ProcessingDispatcher
from socialdesk.ingest.drain import EmbeddedDrain
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening.mentions import install as install_rule_matching
from socialdesk.priority.service import HandedTriage, ScoringHook
from socialdesk.triage.hook import FastTriageHook


def default_hooks(
    settings: Settings, session_factory: sessionmaker[Session], *, clock: Clock = utcnow
) -> PipelineHooks:
    from socialdesk.conversations.shift import complete_shifts

    triage = FastTriageHook()
    hooks = PipelineHooks(triage=triage)
    # Triage reads the texts first in the batch's transaction, which then holds its locks
    # for its writes only (two workers meeting the same new author waited on each other's
    # reading: the tail of accept-to-assigned with two workers, README).
    hooks.read_ahead.append(triage.read_ahead)
    # The workspace's listening rules mark the mentions among every triaged batch.
    install_rule_matching(hooks)
    hooks.on_tasks_changed.append(complete_shifts)
    # Business value and the response clock of every opened or reopened task, from the
    # triage results the batch has just stored.
    hooks.on_tasks_changed.append(ScoringHook(clock, triage_lookup=HandedTriage(triage)))
    return hooks


def build_pipeline(
    settings: Settings, session_factory: sessionmaker[Session], *, clock: Clock = utcnow
) -> Pipeline:
    return Pipeline(
        session_factory, default_hooks(settings, session_factory, clock=clock), clock=clock
    )


def build_dispatcher(settings: Settings, pipeline: Pipeline) -> ProcessingDispatcher:
    """Scale mode (mode=scale with a redis_url) hands processing to workers; embedded mode
    to the drain's thread, which takes what the requests stored in rounds (``ingest.drain``)."""
    if settings.mode == "scale":
        if not settings.redis_url:
            raise ValueError("SOCIALDESK_MODE=scale needs SOCIALDESK_REDIS_URL")
        return ProcessingDispatcher(
            pipeline, RedisStreamsBus(settings.redis_url, prefix=settings.stream_prefix)
        )
    return ProcessingDispatcher(pipeline, drain=EmbeddedDrain(pipeline))
