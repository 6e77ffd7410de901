"""The FastAPI application factory: API, health, and (as they land) the web console."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

import socialdesk
from socialdesk.channels.graph_versions import expiry_warning
from socialdesk.channels.registry import default_connectors
from socialdesk.config import Settings, get_settings
from socialdesk.core import audit
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from socialdesk.core.http import NotAuthenticated
from socialdesk.core.live_channel import LiveChannel
from socialdesk.core.migrate import upgrade
from socialdesk.ingest.wiring import build_dispatcher, build_pipeline
from socialdesk.web.deps import authenticate
from socialdesk.web.edge import check_integer_ranges, install_edge
from socialdesk.web.metrics import install_metrics

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    migrate: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    # What the server changes by itself (timers, the pipeline) is the system's doing; each
    # request names its own caller.
    audit.set_default_actor(audit.Actor("system"))
    engine = engine or make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load the triage models now rather than inside the first processing transaction,
        # where they would hold the write lock of an embedded database for seconds.
        threading.Thread(target=_warm_up_triage, name="triage-warm-up", daemon=True).start()
        app.state.live_hub.start()  # scale mode: hear the other processes' changes
        app.state.on_shutdown.append(app.state.live_hub.stop)
        app.state.routing_engine.start()  # real-time distribution and SLA timers
        app.state.on_shutdown.append(app.state.routing_engine.stop)
        app.state.alert_deliveries.start()  # e-mails and webhooks of alerts, after commit
        app.state.on_shutdown.append(app.state.alert_deliveries.stop)
        app.state.webhooks.start()  # outgoing event webhooks: relay and send
        app.state.on_shutdown.append(app.state.webhooks.stop)
        drain = app.state.dispatcher.drain
        if drain is not None:  # embedded: resume what a stop left, finish what is accepted
            resumed = drain.resume_pending()
            if resumed:
                log.info("resuming %d stored events left pending by the last run", resumed)
            app.state.on_shutdown.append(drain.stop)
        yield
        for stop in app.state.on_shutdown:
            stop()

    app = FastAPI(
        title="socialdesk",
        version=socialdesk.__version__,
        description="Social customer care: listen, triage, prioritise, route, answer.",
        lifespan=lifespan,
        docs_url=None,  # served by install_api_docs, with its assets from an installed package
        redoc_url=None,
        dependencies=[Depends(check_integer_ranges)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.authenticate = authenticate  # how the API's routers learn who is calling
    app.state.pipeline = build_pipeline(settings, app.state.session_factory)
    app.state.dispatcher = build_dispatcher(settings, app.state.pipeline)
    app.state.connectors = default_connectors(settings.meta_graph_version)
    warning = expiry_warning(settings.meta_graph_version, datetime.now(UTC).date())
    if warning:
        log.warning("%s", warning)
    app.state.on_shutdown = []
    from socialdesk.web.live import LiveHub

    app.state.live_hub = hub = LiveHub()
    if app.state.dispatcher.bus is not None and settings.redis_url:
        # Browsers attached to any web process see every process's changes at once.
        hub.connect(LiveChannel(settings.redis_url, channel=app.state.dispatcher.bus.key("live")))
    from socialdesk.routing.engine import RoutingEngine

    app.state.routing_engine = RoutingEngine(
        app.state.session_factory,
        bus=app.state.dispatcher.bus,
        on_assigned=lambda workspace_id, _claims: hub.notify(workspace_id),
    )
    from socialdesk.eventhooks.runner import WebhookRunner

    app.state.webhooks = WebhookRunner(app.state.session_factory, settings.secret_key)
    app.state.pipeline.hooks.after_commit.append(app.state.routing_engine.after_commit)
    from socialdesk.listening.delivery import Deliverer, DeliveryLoop

    app.state.alert_deliveries = DeliveryLoop(
        Deliverer(app.state.session_factory, secret_key=settings.secret_key)
    )

    _add_error_handlers(app)
    install_edge(app)
    install_metrics(app)
    _add_routes(app)
    return app


def _warm_up_triage() -> None:
    from socialdesk.triage.classifier import triage_batch

    triage_batch(["warming up"])


def _add_routes(app: FastAPI) -> None:
    from socialdesk.channels.api import router as channels
    from socialdesk.conversations.api import router as conversations
    from socialdesk.customers.api import router as customers
    from socialdesk.ingest.api import router as ingest

    @app.get("/health", tags=["health"])
    def health(request: Request) -> dict[str, str]:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": socialdesk.__version__}

    app.include_router(conversations)
    app.include_router(customers)
    app.include_router(ingest)
    app.include_router(channels)

    from socialdesk.conversations.api_channels import router as case_channels

    app.include_router(case_channels)

    from socialdesk.analytics.api import router as reports
    from socialdesk.compliance.api import router as compliance
    from socialdesk.customers.api_crm import router as crm
    from socialdesk.eventhooks.api import router as webhooks
    from socialdesk.priority.api import router as priority
    from socialdesk.routing.api import router as routing
    from socialdesk.routing.case_api import router as case_actions

    app.include_router(priority)
    app.include_router(routing)
    app.include_router(case_actions)

    from socialdesk.knowledge.api import router as knowledge
    from socialdesk.triage.api import router as triage

    app.include_router(knowledge)
    app.include_router(triage)
    app.include_router(crm)
    app.include_router(compliance)
    app.include_router(reports)
    app.include_router(webhooks)

    from socialdesk.listening.api import router as listening

    app.include_router(listening)

    from socialdesk.web.api_people import router as people

    app.include_router(people)

    from socialdesk.web.api_docs import install_api_docs
    from socialdesk.web.ui import install_ui

    install_ui(app)
    install_api_docs(app)


def _add_error_handlers(app: FastAPI) -> None:
    statuses: dict[type[Exception], int] = {
        NotFound: 404,
        InvalidInput: 400,
        Conflict: 409,
        PermissionDenied: 403,
    }
    for error, status in statuses.items():

        def handler(_request: Request, exc: Exception, status: int = status) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=status)

        app.add_exception_handler(error, handler)

    def unauthenticated(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    app.add_exception_handler(NotAuthenticated, unauthenticated)
