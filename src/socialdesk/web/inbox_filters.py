"""Search and filters of the inbox lists, read from the query string.

Pure: parsing and validation only; the repository turns a filter into SQL conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from socialdesk.channels.events import CHANNELS
from socialdesk.core.errors import InvalidInput
from socialdesk.triage.labels import KINDS, SENTIMENTS

# The service-level states as the lists name them (the badge shows the same words).
SLA_STATES = {"breach": "late", "warn": "at risk", "ok": "on time", "none": "no target"}
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class InboxFilters:
    q: str = ""
    channel: str = ""
    kind: str = ""
    sentiment: str = ""
    topic: str = ""
    assignee: str = ""  # "me", "none" or a person's id
    team: str = ""  # a team's id
    sla: str = ""  # a key of SLA_STATES

    @property
    def active(self) -> bool:
        return any(asdict(self).values())

    def query_string(self) -> str:
        """The filters as URL parameters (empty ones left out), for links and live updates."""
        return urlencode({k: v for k, v in asdict(self).items() if v})


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...] | None) -> str:
    value = (params.get(name) or "").strip()
    if value and allowed is not None and value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _id_or(params: Mapping[str, str], name: str, words: tuple[str, ...]) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in words and not value.isdigit():
        choices = " or ".join([*words, "a number"]) if words else "a number"
        raise InvalidInput(f"{name} must be {choices} (got {value!r})")
    return value


def parse_filters(params: Mapping[str, str]) -> InboxFilters:
    """The filters of a request; a value that cannot be one is a clear error, not ignored."""
    q = " ".join((params.get("q") or "").split())
    if len(q) > MAX_QUERY:
        raise InvalidInput(f"the search is longer than {MAX_QUERY} characters")
    topic = (params.get("topic") or "").strip()
    if len(topic) > 64:
        raise InvalidInput("topic is at most 64 characters")
    return InboxFilters(
        q=q,
        channel=_choice(params, "channel", CHANNELS),
        kind=_choice(params, "kind", KINDS),
        sentiment=_choice(params, "sentiment", SENTIMENTS),
        topic=topic,
        assignee=_id_or(params, "assignee", ("me", "none")),
        team=_id_or(params, "team", ()),
        sla=_choice(params, "sla", tuple(SLA_STATES)),
    )
