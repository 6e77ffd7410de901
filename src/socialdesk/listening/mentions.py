"""Listening in the pipeline: messages the workspace's rules catch are marked as mentions.

``RuleMatchingTriage`` wraps the pipeline's triage hook. After triage has classified a
batch (and stored each message's language), every inbound message is matched against the
workspace's active rules; a match is recorded with its rule ids, and flagged as a mention
when the message is not addressed to us (public, and naming none of our accounts). Triage's
verdict is left as it is: a mention becomes a task only when it needs a response, like
every other message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from socialdesk.core.processing import PipelineHooks, ProcessedMessage, TriageHook, TriageVerdict
from socialdesk.listening import repository as repo
from socialdesk.listening.models import ListeningMatch
from socialdesk.listening.rule_service import compiled_rules
from socialdesk.listening.rules import addressed_to_us, matching_rules


def mark_mentions(
    session: Session, workspace_id: int, messages: Sequence[ProcessedMessage]
) -> list[ListeningMatch]:
    if not messages:
        return []
    rules = compiled_rules(session, workspace_id)
    if not rules:
        return []
    languages = repo.languages_of(session, [m.message_id for m in messages])
    ours = repo.our_handles(session, workspace_id)
    rows = []
    for m in messages:
        hits = matching_rules(rules, m.text, languages.get(m.message_id))
        if hits:
            rows.append(
                ListeningMatch(
                    message_id=m.message_id,
                    workspace_id=workspace_id,
                    rule_ids=hits,
                    mention=not addressed_to_us(m.text, m.visibility, ours),
                    created_at=m.created_at,
                )
            )
    repo.add_matches(session, rows)
    return rows


class RuleMatchingTriage:
    """The triage hook, followed by rule matching in the same transaction."""

    def __init__(self, inner: TriageHook | None) -> None:
        self.inner = inner

    def __call__(
        self, session: Session, workspace_id: int, messages: Sequence[ProcessedMessage]
    ) -> Mapping[int, TriageVerdict]:
        verdicts = self.inner(session, workspace_id, messages) if self.inner else {}
        mark_mentions(session, workspace_id, messages)
        return verdicts


def install(hooks: PipelineHooks) -> None:
    """Add rule matching to a pipeline's hooks (once)."""
    if not isinstance(hooks.triage, RuleMatchingTriage):
        hooks.triage = RuleMatchingTriage(hooks.triage)
