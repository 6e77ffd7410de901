"""People and the workspace over the API: add a person, change their role or switch them
off, rename the workspace (admins). The console's admin screens call the same services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.errors import NotFound
from socialdesk.core.http import ERROR_RESPONSES, Principal, db_session, require_role
from socialdesk.core.limits import DbId
from socialdesk.core.pagination import examples
from socialdesk.people.models import Role, User
from socialdesk.routing import repository as routing_repo
from socialdesk.web import admin_repository, admin_service, auth, live

router = APIRouter(prefix="/api/v1", tags=["people"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class PersonIn(BaseModel):
    model_config = examples(
        {
            "email": "ana@acme.example",
            "name": "Ana Agent",
            "role": "agent",
            "password": "s3cret-pass",
        },
        {"email": "sam@outsourcer.example", "name": "Sam", "role": "supervisor"},
    )

    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    role: str = Field(default=Role.AGENT, max_length=16, description="agent, supervisor or admin")
    password: str = Field(
        default="",
        max_length=1000,
        description="A new person's password; ignored for someone who works in another "
        "workspace already (they keep their own)",
    )


class PersonChange(BaseModel):
    model_config = examples({"role": "supervisor"}, {"active": False})

    role: str | None = Field(default=None, max_length=16)
    active: bool | None = Field(default=None, description="false: signed out and no more work")


class PersonOut(BaseModel):
    model_config = examples(
        {"id": 7, "email": "ana@acme.example", "name": "Ana Agent", "role": "agent", "active": True}
    )

    id: int
    email: str
    name: str
    role: str
    active: bool

    @classmethod
    def of(cls, user: User) -> PersonOut:
        return cls(
            id=user.id, email=user.email, name=user.name, role=user.role, active=user.is_active
        )


class WorkspaceIn(BaseModel):
    model_config = examples({"name": "Acme Care"})

    name: str = Field(min_length=1, max_length=200)


@router.post(
    "/people",
    status_code=201,
    response_model=PersonOut,
    summary="Add a person to the workspace with a role (admins; audited)",
)
def add_person(
    body: PersonIn, principal: Admin, session: Session = Depends(db_session)
) -> PersonOut:
    user = auth.create_user(
        session, principal.workspace_id, body.email, body.name, body.password, body.role
    )
    session.commit()
    return PersonOut.of(user)


@router.patch(
    "/people/{user_id}",
    response_model=PersonOut,
    summary="Change a person's role, or switch them off or on (admins; audited)",
)
def change_person(
    user_id: DbId,
    body: PersonChange,
    request: Request,
    principal: Admin,
    session: Session = Depends(db_session),
) -> PersonOut:
    user = admin_repository.user(session, principal.workspace_id, user_id)
    if user is None:
        raise NotFound(f"no person {user_id} in this workspace")
    changed = admin_service.update_user(
        session,
        principal.workspace_id,
        user_id,
        acting_user_id=principal.user_id or 0,
        role=body.role if body.role is not None else user.role,
        active=body.active if body.active is not None else user.is_active,
        team_ids=routing_repo.team_ids_of(session, principal.workspace_id, user_id),
    )
    session.commit()
    live.tell_routing(request.app.state, "agents", principal.workspace_id, [user_id])
    return PersonOut.of(changed)


@router.put("/workspace", status_code=204, summary="Rename the workspace (admins)")
def rename_workspace(
    body: WorkspaceIn, principal: Admin, session: Session = Depends(db_session)
) -> None:
    admin_service.rename_workspace(session, principal.workspace_id, body.name)
    session.commit()
