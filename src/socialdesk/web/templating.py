"""The Jinja2 environment of the console: autoescaping on for every template, a few filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from socialdesk.analytics.metrics import format_duration
from socialdesk.core.clock import as_utc

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.autoescape = True


def _iso(value: datetime | None) -> str:
    return "" if value is None else as_utc(value).isoformat().replace("+00:00", "Z")


def _short_time(value: datetime | None) -> str:
    return "" if value is None else as_utc(value).strftime("%d %b %H:%M UTC")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


# What the status region says after an action (the redirect names it with ?done=...).
DONE_MESSAGES = {
    "assigned": "Assigned to you.",
    "transferred": "Transferred.",
    "resolved": "Case resolved.",
    "reopened": "Case reopened.",
    "noted": "Note added.",
    "replied": "Reply queued for sending.",
    "retrying": "Sending again.",
    "shifted": "Channel shift recorded.",
    "relabelled": "Correction saved.",
    "snoozed": "Snoozed.",
    "presence": "Presence changed.",
    "joined": "They work in another workspace already: they joined this one with their own "
    "password.",
}

templates.env.globals["done_messages"] = DONE_MESSAGES
templates.env.filters["iso"] = _iso
templates.env.filters["when"] = _short_time
templates.env.filters["duration"] = format_duration
templates.env.filters["percent"] = _percent


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    viewer = getattr(request.state, "viewer", None)
    return templates.TemplateResponse(
        request, name, {"viewer": viewer, **context}, status_code=status_code
    )
