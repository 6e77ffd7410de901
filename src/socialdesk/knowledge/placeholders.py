"""Filling a canned reply's placeholders, e.g. ``Hi {customer_name}, ...``."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
KNOWN = ("customer_name", "customer_handle", "agent_name", "brand", "case_id", "channel")


def placeholders_in(template: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace the placeholders we know a value for; leave the others visible for the agent.

    A single pass over the template, so a value that itself looks like ``{x}`` is never
    expanded again.
    """

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None or value == "" else value

    return PLACEHOLDER.sub(substitute, template)
