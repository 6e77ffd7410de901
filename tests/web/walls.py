"""What the workspace-wall tests need: two workspaces full of objects, and the app's routes.

Each workspace gets one object of every kind a route names in its path, with a marker word in
its text (``zqwall<slug>``) so that a page or answer that leaks another workspace's data shows
it. The routes are read from the application itself, so a route added later is enumerated too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from socialdesk.channels.credentials import encrypt_credentials
from socialdesk.channels.models import ChannelAccount, DeadLetter, OutboxItem
from socialdesk.conversations.models import Message
from socialdesk.core.db import Base
from socialdesk.core.models import Workspace
from socialdesk.eventhooks.models import WebhookDelivery, WebhookSubscription
from socialdesk.knowledge.models import CannedReply, KbArticle
from socialdesk.listening.models import Alert, Incident, IncidentMessage, ListeningRule
from socialdesk.people.models import Team, TeamMember
from socialdesk.routing.models import RoutingNotification
from tests.web.conftest import START
from tests.web.factories import make_case

PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")

# Routes any visitor may call, and why no workspace session is involved.
PUBLIC = {
    "/health": "liveness probe",
    "/ready": "readiness probe",
    "/metrics": "operations metrics, without business data",
    "/login": "the sign-in form",
    "/": "redirects to the console",
    "/favicon.ico": "the icon",
    "/docs": "the API's reference",
    "/webhooks/x/{account_id}": "the platform's challenge; the account's own secret answers",
    "/webhooks/facebook/{account_id}": "the platform's challenge, checked by the verify token",
    "/webhooks/instagram/{account_id}": "the platform's challenge, checked by the verify token",
    "/webhooks/{channel}/{account_id}": "the platform's events, checked by the account's signature",
    "/l/{token}": "a knowledge-base link sent to a customer: a signed token",
}

# Which table's id a path parameter names; a route with a new name fails the tests until it
# is added here (and seeded in ``seed_workspace``).
ID_TABLES = {
    "conversation_id": "conversations",
    "incident_id": "incidents",
    "customer_id": "customers",
    "other_id": "customers",
    "account_id": "channel_accounts",
    "task_id": "tasks",
    "rule_id": "listening_rules",
    "item_id": "outbox_items",
    "user_id": "users",
    "subscription_id": "webhook_subscriptions",
    "letter_id": "dead_letters",
    "delivery_id": "webhook_deliveries",
    "message_id": "messages",
    "reply_id": "canned_replies",
    "alert_id": "alerts",
    "notification_id": "routing_notifications",
    "identity_id": "identities",
    "article_id": "kb_articles",
    "team_id": "teams",
}
# A route that reads a parameter in its own way.
ROUTE_TABLES = {("/console/alerts/{source}/{item_id}/ack", "item_id"): "alerts"}
# Path parameters that name no object: their value is the same in every workspace.
CONSTANTS = {"section": "agents", "source": "alert", "channel": "x", "kind": "conversations"}


def marker(workspace: Workspace) -> str:
    return f"zqwall{workspace.slug}"


@dataclass(frozen=True)
class RouteCall:
    """One method of one route, as the tests call it."""

    method: str
    path: str
    route: APIRoute

    @property
    def params(self) -> list[str]:
        return PATH_PARAM.findall(self.path)

    @property
    def id_params(self) -> list[str]:
        return [p for p in self.params if p not in CONSTANTS]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route_calls(app: FastAPI) -> list[RouteCall]:
    """Every method of every route the application serves (API and console), public or not."""
    calls = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            calls.append(RouteCall(method, context.path, route))
    return calls


def seed_workspace(session: Session, workspace: Workspace, admin_id: int) -> None:
    """One object of every kind a route's path names, each carrying the workspace's marker."""
    mark = marker(workspace)
    ws = workspace.id
    conv, task, message = make_case(
        session, ws, text=f"my router is down {mark}", at=START, name=f"Dana {mark}"
    )
    make_case(session, ws, text=f"and my bill {mark}", at=START, name=f"Eli {mark}")
    team = Team(workspace_id=ws, name=f"Care {mark}", kind="care", settings={})
    session.add(team)
    account = ChannelAccount(
        workspace_id=ws, channel="x", external_id=f"acct-{mark}", handle=f"@{mark}", settings={}
    )
    session.add(account)
    session.flush()
    session.add(TeamMember(team_id=team.id, user_id=admin_id))
    reply = Message(
        workspace_id=ws,
        conversation_id=conv.id,
        thread_id=message.thread_id,
        channel="x",
        direction="outbound",
        visibility="public",
        external_id=f"out-{mark}",
        text=f"we are on it {mark}",
        metrics={},
        created_at=START,
        received_at=START,
    )
    session.add(reply)
    session.flush()
    session.add(
        OutboxItem(
            workspace_id=ws,
            conversation_id=conv.id,
            message_id=reply.id,
            channel="x",
            action="reply",
            text=reply.text,
            idempotency_key=f"idem-{mark}",
            status="failed",
            next_attempt_at=START,
        )
    )
    session.add(CannedReply(workspace_id=ws, shortcut=mark, title=f"Hi {mark}", body="Hello"))
    session.add(KbArticle(workspace_id=ws, title=f"Reset {mark}", url="https://kb.test/reset"))
    session.add(ListeningRule(workspace_id=ws, name=f"Outage {mark}", terms=["outage"]))
    incident = Incident(workspace_id=ws, title=f"Outage {mark}", opened_at=START)
    session.add(incident)
    session.flush()
    session.add(
        IncidentMessage(
            incident_id=incident.id,
            message_id=message.id,
            conversation_id=conv.id,
            added_at=START,
        )
    )
    session.add(
        Alert(
            workspace_id=ws,
            kind="spike",
            series=f"topic:{mark}",
            title=f"Spike {mark}",
            window_start=START,
        )
    )
    session.add(RoutingNotification(workspace_id=ws, task_id=task.id, kind="sla_warning"))
    session.add(DeadLetter(workspace_id=ws, channel="x", reason=f"bad {mark}", body=mark))
    subscription = WebhookSubscription(
        workspace_id=ws,
        url=f"https://hooks.test/{mark}",
        events=["task.created"],
        secret_encrypted=encrypt_credentials({"secret": mark}, "test-secret"),
    )
    session.add(subscription)
    session.flush()
    session.add(
        WebhookDelivery(
            workspace_id=ws,
            subscription_id=subscription.id,
            event_type="task.created",
            event_key=f"task-{mark}",
            payload={"marker": mark},
            status="failed",
            next_attempt_at=START + timedelta(days=1),
        )
    )
    session.flush()


def table_of(call: RouteCall, param: str) -> str:
    table = ROUTE_TABLES.get((call.path, param)) or ID_TABLES.get(param)
    assert table is not None, (
        f"{call}: no workspace object is known for {{{param}}}; add it to ID_TABLES in "
        "tests/web/walls.py and seed one in seed_workspace"
    )
    return table


def first_id(session: Session, table_name: str, workspace_id: int) -> int:
    table: Table = Base.metadata.tables[table_name]
    found = session.scalar(
        select(table.c.id).where(table.c.workspace_id == workspace_id).order_by(table.c.id)
    )
    assert found is not None, f"no {table_name} row was seeded in workspace {workspace_id}"
    return int(found)


def fill_path(session: Session, call: RouteCall, workspace_id: int) -> str:
    """The route's path with every object it names taken from one workspace."""
    path = call.path
    for param in call.params:
        if param in CONSTANTS:
            value: object = CONSTANTS[param]
        else:
            value = first_id(session, table_of(call, param), workspace_id)
        path = re.sub(r"{" + param + r"(?::\w+)?}", str(value), path)
    return path


def snapshot(session: Session, workspace_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that belongs to a workspace, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, table in sorted(Base.metadata.tables.items()):
        if "workspace_id" not in table.c:
            continue
        rows = session.execute(select(table).where(table.c.workspace_id == workspace_id))
        out[name] = sorted((tuple(repr(v) for v in row) for row in rows), key=repr)
    return out


# Values that pass validation for a field of this name, where a type alone does not say.
FIELD_SAMPLES: dict[str, Any] = {
    "url": "https://hooks.test/receiver",
    "webhook_url": "https://hooks.test/receiver",
    "events": ["task.created"],
    "visibility": "public",
    "status": "online",
    "presence": "online",
    "target": "u:1",
    "kind": "care",
    "role": "agent",
    "action": "dm",
    "reason": "account data",
    "verdict": "right",
    "email": "someone@example.test",
    "emails": "someone@example.test",
    "minutes": 30,
    "text": "hello",
    "template": "hello {name}",
    "title": "a title",
    "name": "a name",
    "terms": "outage",
}


# Optional fields a route needs one of, or it refuses before any look-up.
ROUTE_EXTRAS: dict[str, dict[str, Any]] = {
    "/api/v1/tasks/{task_id}/transfer": {"user_id": 1},
    "/api/v1/retention": {"raw_payload_days": 1, "closed_case_days": 1},
}


def _from_schema(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _from_schema(name, defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    items = schema.get("items", {})
    of_objects = schema.get("type") == "object" or "$ref" in items or items.get("type") == "object"
    if name in FIELD_SAMPLES and not of_objects:
        return FIELD_SAMPLES[name]
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _from_schema(name, options[0], defs)
    kind = schema.get("type")
    if kind == "object":
        return {
            prop: _from_schema(prop, sub, defs)
            for prop, sub in schema.get("properties", {}).items()
            if prop in schema.get("required", ())
        }
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [_from_schema(name, schema.get("items", {}), defs) for _ in range(count)]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(max(1, schema.get("minimum", 1)))
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date-time":
            return START.isoformat()
        if schema.get("format") == "date":
            return START.date().isoformat()
        return "x" * max(8, int(schema.get("minLength", 0)))
    return None


def sample(name: str, annotation: Any) -> Any:
    schema = TypeAdapter(annotation).json_schema()
    return _from_schema(name, schema, schema.get("$defs", {}))


def _all_params(dependant: Dependant, kind: str) -> list[Any]:
    found = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        found.extend(_all_params(sub, kind))
    return found


def request_parts(call: RouteCall) -> dict[str, Any]:
    """Query parameters and a body that pass the route's validation, for httpx."""
    query = {
        p.alias: sample(p.name, p.field_info.annotation)
        for p in _all_params(call.route.dependant, "query_params")
        if p.field_info.is_required()
    }
    if call.method == "GET":
        query.setdefault("max_seconds", 1)  # live streams end at once
    parts: dict[str, Any] = {"params": query}
    body = _all_params(call.route.dependant, "body_params")
    if not body or call.method == "GET":
        return parts
    embedded = len(body) > 1 or getattr(body[0].field_info, "embed", False)
    body = [p for p in body if p.field_info.is_required()]
    if not body:
        pass
    elif any(isinstance(p.field_info, params.Form) for p in body):
        form = {}
        for p in body:
            value = sample(p.name, p.field_info.annotation)
            if value is not None:
                form[p.alias] = value if not isinstance(value, list) else value[0]
        parts["data"] = form
    elif not embedded:
        # One model, not embedded: the body is the model itself.
        parts["json"] = sample(body[0].name, body[0].field_info.annotation)
    else:
        parts["json"] = {p.alias: sample(p.name, p.field_info.annotation) for p in body}
    extras = ROUTE_EXTRAS.get(call.path)
    if extras:
        parts["json"] = {**parts.get("json", {}), **extras}
    return parts


def acting_user_field(call: RouteCall) -> str | None:
    """Where the route takes the agent an API token acts for: "query", "json" or nowhere."""
    if any(p.name == "user_id" for p in _all_params(call.route.dependant, "query_params")):
        return "query"
    for p in _all_params(call.route.dependant, "body_params"):
        schema = TypeAdapter(p.field_info.annotation).json_schema()
        models = [schema, *schema.get("$defs", {}).values()]
        if p.name == "user_id" or any("user_id" in m.get("properties", {}) for m in models):
            return "json"
    return None
