"""`socialdesk users ...`: people who sign in to the console."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from socialdesk.config import get_settings
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import SocialdeskError
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import ensure_workspace, get_workspace
from socialdesk.people.models import Role
from socialdesk.web import auth
from socialdesk.web import repository as repo

users_app = typer.Typer(help="People who sign in to the console.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


@users_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail address")],
    name: Annotated[str, typer.Option("--name", "-n", help="Display name")] = "",
    role: Annotated[
        str, typer.Option("--role", "-r", help="agent, supervisor or admin")
    ] = Role.AGENT,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Workspace slug (default: settings)")
    ] = None,
    create_workspace: Annotated[
        bool, typer.Option("--create-workspace", help="Create the workspace if it is missing")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="Password (prompted, hidden, when left out; avoid on shared machines)",
        ),
    ] = None,
) -> None:
    """Create a user who can sign in to the console, or give a person a membership here.

    Someone who signs in already (for another workspace) keeps their password: none is asked.
    """
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as session:
            existing = auth.person_exists(session, email)
        if password is None and not existing:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        with unit_of_work(factory) as session:
            slug = workspace or settings.default_workspace
            ws = (
                ensure_workspace(session, slug)
                if create_workspace
                else get_workspace(session, slug)
            )
            user = auth.create_user(
                session, ws.id, email, name or email.split("@")[0], password or "", role
            )
            console.print(f"created {user.role} {user.email} in workspace {ws.slug}")
            if existing:
                console.print("they work in another workspace already: their password is kept")
    except SocialdeskError as exc:
        console.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@users_app.command("list")
def list_users(
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Workspace slug (default: settings)")
    ] = None,
) -> None:
    """List the workspace's users and their roles."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            ws = get_workspace(session, workspace or settings.default_workspace)
            table = Table("e-mail", "name", "role", "active")
            for u in repo.list_users(session, ws.id):
                table.add_row(u.email, u.name, u.role, "yes" if u.is_active else "no")
            Console().print(table)
    except SocialdeskError as exc:
        console.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
