"""Wiring scale mode: web processes and workers of one deployment share the keys they name."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.bus import RedisStreamsBus
from socialdesk.ingest.wiring import build_dispatcher, build_pipeline


def test_a_deployment_prefix_names_the_web_processes_streams(
    session_factory: sessionmaker[Session],
) -> None:
    settings = Settings(
        mode="scale", redis_url="redis://127.0.0.1:1/0", stream_prefix="deployment-a:"
    )
    dispatcher = build_dispatcher(settings, build_pipeline(settings, session_factory))
    assert isinstance(dispatcher.bus, RedisStreamsBus)
    assert dispatcher.bus.key("ingest") == "deployment-a:ingest"
    assert dispatcher.bus.key("live") == "deployment-a:live"


def test_the_default_prefix_is_the_one_workers_use_by_default() -> None:
    from socialdesk.core.bus import STREAM_PREFIX

    assert Settings().stream_prefix == STREAM_PREFIX
