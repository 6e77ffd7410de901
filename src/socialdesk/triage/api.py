"""Topic taxonomies: the sector taxonomies that ship with socialdesk, and the workspace's own
(one of them, or a custom one). Changing it is audited (``taxonomy.updated``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.http import ERROR_RESPONSES, Principal, db_session, require_role
from socialdesk.core.pagination import CursorParam, Page, examples, page_by_id
from socialdesk.people.models import Role
from socialdesk.triage import repository as repo
from socialdesk.triage import service
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, Taxonomy, taxonomy_from_settings

router = APIRouter(prefix="/api/v1", tags=["triage"], responses=ERROR_RESPONSES)
Agent = Annotated[Principal, Depends(require_role(Role.AGENT))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class TopicIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=500)
    cues: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=200)


class TopicOut(BaseModel):
    id: str
    description: str


class TaxonomyOut(BaseModel):
    model_config = examples(
        {
            "name": "telecom",
            "current": True,
            "topics": [
                {"id": "billing", "description": "Bills, charges, refunds"},
                {"id": "outage", "description": "No service, network down"},
            ],
        }
    )

    name: str
    current: bool = Field(description="Whether the workspace triages with it")
    topics: list[TopicOut]


class TaxonomyIn(BaseModel):
    """A sector taxonomy by name, or a custom one (a name and its topics)."""

    model_config = examples(
        {"name": "telecom"},
        {
            "name": "acme-custom",
            "topics": [
                {"id": "billing", "description": "Bills and refunds", "cues": ["bill", "refund"]},
                {"id": "delivery", "description": "Parcels", "cues": ["parcel", "courier"]},
            ],
        },
    )

    name: str = Field(min_length=1, max_length=64)
    topics: list[TopicIn] | None = Field(default=None, max_length=200)


def _out(taxonomy: Taxonomy, current: str) -> TaxonomyOut:
    return TaxonomyOut(
        name=taxonomy.name,
        current=taxonomy.name == current,
        topics=[TopicOut(id=t.id, description=t.description) for t in taxonomy.topics],
    )


def _current(session: Session, workspace_id: int) -> Taxonomy:
    return taxonomy_from_settings(repo.workspace_settings(session, workspace_id))


@router.get("/taxonomies", response_model=Page[TaxonomyOut], summary="The topic taxonomies")
def list_taxonomies(
    principal: Agent,
    session: Session = Depends(db_session),
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: CursorParam = None,
) -> Page[TaxonomyOut]:
    """The sector taxonomies, and the workspace's custom one when it has one."""
    current = _current(session, principal.workspace_id)
    available = dict(DEFAULT_TAXONOMIES)
    available[current.name] = current
    ordered = sorted(available.values(), key=lambda t: t.name)
    position = {t.name: i for i, t in enumerate(ordered)}
    return page_by_id(
        ordered,
        cursor=cursor,
        limit=limit,
        id_of=lambda t: position[t.name],
        out=lambda t: _out(t, current.name),
    )


@router.get("/taxonomy", response_model=TaxonomyOut, summary="The workspace's taxonomy")
def get_taxonomy(principal: Agent, session: Session = Depends(db_session)) -> TaxonomyOut:
    current = _current(session, principal.workspace_id)
    return _out(current, current.name)


@router.put(
    "/taxonomy",
    response_model=TaxonomyOut,
    summary="Choose the workspace's taxonomy, or set a custom one (admins)",
)
def put_taxonomy(
    body: TaxonomyIn, principal: Admin, session: Session = Depends(db_session)
) -> TaxonomyOut:
    spec: str | dict[str, object] = body.name
    if body.topics is not None:
        spec = {"name": body.name, "topics": [t.model_dump() for t in body.topics]}
    service.configure(session, principal.workspace_id, taxonomy=spec)
    session.commit()
    current = _current(session, principal.workspace_id)
    return _out(current, current.name)
