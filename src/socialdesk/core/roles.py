"""The roles a caller can hold and their order; free of the web framework, so the tables that
name roles (people.models) load without it."""

from __future__ import annotations


class AccessRole:
    """The roles a caller can hold, from the least to the most trusted."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    ALL = (AGENT, SUPERVISOR, ADMIN)


ROLE_RANK = {AccessRole.AGENT: 1, AccessRole.SUPERVISOR: 2, AccessRole.ADMIN: 3}


def has_role(user_role: str, required: str) -> bool:
    """Roles are ordered: an admin may do what a supervisor may, a supervisor what an agent may."""
    return ROLE_RANK.get(user_role, 0) >= ROLE_RANK[required]
