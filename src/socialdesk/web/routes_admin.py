"""Admin screens: workspace, channel accounts, teams, agents, service levels, value weights,
taxonomies, canned replies and knowledge base articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socialdesk.channels import accounts
from socialdesk.knowledge import repository as knowledge_repo
from socialdesk.knowledge import service as knowledge
from socialdesk.people.models import Role, TeamKind
from socialdesk.routing import service as routing
from socialdesk.web import admin_repository as repo
from socialdesk.web import admin_service, auth, integrations, live
from socialdesk.web.guard import AdminViewer, DbSession, SupervisorViewer, get_clock
from socialdesk.web.templating import render

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)

SECTIONS = (
    ("workspace", "Workspace"),
    ("channels", "Channel accounts"),
    ("teams", "Teams"),
    ("agents", "Agents"),
    ("sla", "Service levels"),
    ("weights", "Value weights"),
    ("taxonomies", "Taxonomies"),
    ("canned", "Canned replies"),
    ("kb", "Knowledge base"),
    ("listening", "Listening"),
    ("webhooks", "Webhooks"),
    ("audit", "Audit log"),
)


def _back(section: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/{section}", 303)


@router.get("")
def admin_home(viewer: SupervisorViewer) -> Response:
    return RedirectResponse(
        "/admin/weights" if not viewer.can(Role.ADMIN) else "/admin/agents", 303
    )


@router.get("/{section}")
def admin_section(
    request: Request, viewer: SupervisorViewer, db: DbSession, section: str
) -> Response:
    """Supervisors may look at every screen (and tune value weights); admins change them."""
    names = dict(SECTIONS)
    if section not in names:
        return render(request, "error.html", {"message": "no such admin screen"}, 404)
    ws = viewer.workspace_id
    context: dict[str, object] = {
        "sections": SECTIONS,
        "section": section,
        "title": names[section],
        "can_edit": viewer.can(Role.ADMIN),
    }
    if section == "workspace":
        context["workspace"] = repo.workspace(db, ws)
    elif section == "channels":
        context["accounts"] = repo.channel_accounts(db, ws)
    elif section == "teams":
        context["teams"] = repo.teams(db, ws)
        context["team_kinds"] = TeamKind.ALL
    elif section == "agents":
        context["users"] = repo.users(db, ws)
        context["teams"] = repo.teams(db, ws)
        context["members"] = admin_service.members(db, ws)
        context["roles"] = Role.ALL
        context["routing"] = integrations.agent_settings(db, ws)
    elif section == "canned":
        context["canned"] = knowledge_repo.canned_replies(db, ws)
    elif section == "kb":
        context["articles"] = knowledge_repo.articles(db, ws)
    elif section == "weights":
        context["weights"] = integrations.value_weights(db, ws)
    elif section == "sla":
        context["policies"] = integrations.sla_policies(db, ws)
        context["sla_json"] = integrations.sla_policy_json(db, ws)
    elif section == "listening":
        from socialdesk.web.routes_listening import listening_admin_context

        context.update(listening_admin_context(db, ws))
    elif section == "webhooks":
        from socialdesk.web.routes_integrations import webhooks_context

        context.update(webhooks_context(db, ws))
    elif section == "audit":
        from socialdesk.web.routes_integrations import audit_context

        if viewer.can(Role.ADMIN):
            context.update(audit_context(request, db, ws))
    elif section == "taxonomies":
        context["taxonomy"] = integrations.taxonomy(db, ws)
        context["taxonomy_name"], context["taxonomy_names"] = integrations.taxonomy_choice(db, ws)
    return render(request, "admin.html", context)


@router.post("/workspace")
def save_workspace(
    viewer: AdminViewer, db: DbSession, name: Annotated[str, Form(max_length=200)]
) -> Response:
    admin_service.rename_workspace(db, viewer.workspace_id, name)
    db.commit()
    return _back("workspace")


@router.post("/channels/{account_id}/toggle")
def toggle_channel(viewer: AdminViewer, db: DbSession, account_id: int) -> Response:
    accounts.set_active(db, viewer.workspace_id, account_id)
    db.commit()
    return _back("channels")


@router.post("/teams")
def add_team(
    viewer: AdminViewer,
    db: DbSession,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
) -> Response:
    routing.add_team(db, viewer.workspace_id, name, kind)
    db.commit()
    return _back("teams")


@router.post("/teams/{team_id}/capacity")
def team_capacity(
    request: Request,
    viewer: AdminViewer,
    db: DbSession,
    team_id: int,
    waiting_holds_slot: Annotated[bool, Form()] = False,
) -> Response:
    """Whether the team's answered items waiting on the customer keep holding a slot."""
    routing.set_team_capacity_rule(
        db, viewer.workspace_id, team_id, waiting_holds_slot=waiting_holds_slot
    )
    db.commit()
    live.tell_routing(request.app.state, "policies", viewer.workspace_id)
    return _back("teams")


@router.post("/agents")
def add_agent(
    viewer: AdminViewer,
    db: DbSession,
    email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=16)] = Role.AGENT,
) -> Response:
    """Add a person to the workspace; one who works elsewhere already keeps their password."""
    existing = auth.person_exists(db, email)
    auth.create_user(db, viewer.workspace_id, email, name, password, role)
    db.commit()
    return RedirectResponse("/admin/agents?done=joined", 303) if existing else _back("agents")


@router.post("/agents/{user_id}")
async def edit_agent(
    request: Request, viewer: AdminViewer, db: DbSession, user_id: int
) -> Response:
    form = await request.form()
    team_ids = [int(v) for v in form.getlist("team_ids") if isinstance(v, str) and v.isdigit()]
    role = form.get("role")
    admin_service.update_user(
        db,
        viewer.workspace_id,
        user_id,
        acting_user_id=viewer.user.id,
        role=role if isinstance(role, str) else "",
        active=form.get("active") == "on",
        team_ids=team_ids,
    )
    integrations.save_agent_settings(db, viewer.workspace_id, user_id, form)
    db.commit()
    return _back("agents")


@router.post("/weights")
async def save_weights(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    form = await request.form()
    integrations.save_value_weights(db, viewer.workspace_id, form, get_clock(request))
    db.commit()
    request.app.state.live_hub.notify(viewer.workspace_id)
    live.tell_routing(request.app.state, "policies", viewer.workspace_id)
    return _back("weights")


@router.post("/sla")
def save_sla(
    request: Request,
    viewer: AdminViewer,
    db: DbSession,
    policy: Annotated[str, Form(max_length=100_000)],
) -> Response:
    integrations.save_sla_policy(db, viewer.workspace_id, policy, get_clock(request))
    db.commit()
    request.app.state.live_hub.notify(viewer.workspace_id)
    live.tell_routing(request.app.state, "policies", viewer.workspace_id)
    return _back("sla")


@router.post("/taxonomies")
def save_taxonomy(
    viewer: AdminViewer, db: DbSession, name: Annotated[str, Form(max_length=64)]
) -> Response:
    integrations.set_taxonomy(db, viewer.workspace_id, name)
    db.commit()
    return _back("taxonomies")


@router.post("/canned")
def save_canned(
    viewer: AdminViewer,
    db: DbSession,
    shortcut: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=10_000)],
    channel: Annotated[str, Form(max_length=32)] = "",
    reply_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    knowledge.save_canned_reply(
        db,
        workspace_id=viewer.workspace_id,
        shortcut=shortcut,
        title=title,
        body=body,
        channel=channel or None,
        reply_id=int(reply_id) if reply_id.isdigit() else None,
    )
    db.commit()
    return _back("canned")


@router.post("/canned/{reply_id}/delete")
def delete_canned(viewer: AdminViewer, db: DbSession, reply_id: int) -> Response:
    knowledge.delete_canned_reply(db, workspace_id=viewer.workspace_id, reply_id=reply_id)
    db.commit()
    return _back("canned")


@router.post("/kb")
def save_article(
    viewer: AdminViewer,
    db: DbSession,
    title: Annotated[str, Form(max_length=200)],
    url: Annotated[str, Form(max_length=1000)],
    body: Annotated[str, Form(max_length=50_000)] = "",
    tags: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    knowledge.save_article(
        db,
        workspace_id=viewer.workspace_id,
        title=title,
        url=url,
        body=body,
        tags=tags.split(","),
    )
    db.commit()
    return _back("kb")


@router.post("/kb/{article_id}/delete")
def delete_article(viewer: AdminViewer, db: DbSession, article_id: int) -> Response:
    knowledge.delete_article(db, workspace_id=viewer.workspace_id, article_id=article_id)
    db.commit()
    return _back("kb")
