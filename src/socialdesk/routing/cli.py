"""`socialdesk agents ...`: skills, capacity and teams of the people who take work."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from socialdesk.config import get_settings
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import SocialdeskError
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import get_workspace
from socialdesk.routing import repository as repo
from socialdesk.routing import service

agents_app = typer.Typer(help="Agents: skills, capacity, teams, presence.", no_args_is_help=True)
console = Console(soft_wrap=True)

WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace slug (default: settings)")
]


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v for v in (x.strip() for x in value.split(",")) if v]


def _capacity(value: str | None) -> dict[str, int] | None:
    if value is None:
        return None
    out = {}
    for part in _csv(value) or []:
        channel, _, slots = part.partition("=")
        if not slots.strip().isdigit():
            raise typer.BadParameter(f"{part!r}: write CHANNEL=SLOTS, e.g. x=3,email=5")
        out[channel.strip()] = int(slots)
    return out


@agents_app.command("set")
def set_agent(
    email: Annotated[str, typer.Argument(help="The agent's sign-in e-mail (see `users add`)")],
    languages: Annotated[str | None, typer.Option(help="e.g. en,fr (empty: any)")] = None,
    topics: Annotated[str | None, typer.Option(help="e.g. billing,network (empty: any)")] = None,
    tiers: Annotated[str | None, typer.Option(help="customer tiers served (empty: any)")] = None,
    capacity: Annotated[
        str | None, typer.Option(help="items at once per channel, e.g. x=3,facebook=3,email=5")
    ] = None,
    team: Annotated[
        list[str] | None,
        typer.Option(help="NAME:KIND (kind care, marketing, sales or other); repeatable"),
    ] = None,
    presence: Annotated[str | None, typer.Option(help="online, away or offline")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Set an agent's skills, capacity, teams or presence (what is not given stays)."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            ws = get_workspace(session, workspace or settings.default_workspace).id
            user = next(
                (u for u in repo.list_users(session, ws) if u.email == email.strip().lower()),
                None,
            )
            if user is None:
                raise typer.BadParameter(f"no user {email!r}; create one with `users add`")
            service.set_skills(
                session,
                ws,
                user.id,
                languages=_csv(languages),
                topics=_csv(topics),
                tiers=_csv(tiers),
                capacity=_capacity(capacity),
            )
            for spec in team or []:
                name, _, kind = spec.partition(":")
                created = service.create_team(session, ws, name, kind.strip() or "care")
                service.add_to_team(session, ws, created.id, user.id)
            if presence is not None:
                from socialdesk.core.clock import utcnow

                service.set_presence(session, ws, user.id, presence, utcnow())
    except SocialdeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"updated {email}")


@agents_app.command("list")
def list_agents(workspace: WorkspaceOption = None) -> None:
    """Agents with their presence, skills, capacity and current load."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            ws = get_workspace(session, workspace or settings.default_workspace).id
            loads = repo.agent_loads(session, ws)
            teams = {t.id: t.name for t in repo.list_teams(session, ws)}
            table = Table("email", "presence", "languages", "topics", "capacity", "load", "teams")
            for u in repo.list_users(session, ws):
                table.add_row(
                    u.email,
                    u.presence,
                    ",".join(u.languages or []) or "any",
                    ",".join(u.topics or []) or "any",
                    ",".join(f"{k}={v}" for k, v in (u.capacity or {}).items()),
                    ",".join(f"{k}={v}" for k, v in loads.get(u.id, {}).items()) or "0",
                    ",".join(teams[t] for t in repo.team_ids_of(session, ws, u.id)),
                )
    except SocialdeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    console.print(table)
