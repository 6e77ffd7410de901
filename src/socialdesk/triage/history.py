"""Learning needs_response from a brand's own history, with no labeling at all.

In a twcs-layout file, an inbound message the brand answered taught us it needed an answer;
one that nobody answered (no reply at all) taught us it did not. An inbound message whose
replies are not in the file is left out: we cannot tell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from socialdesk.triage.io import BadRow, Row

REQUIRED = ("tweet_id", "author_id", "inbound", "text", "response_tweet_id")


@dataclass(frozen=True)
class HistoryLabels:
    examples: list[tuple[str, str]]
    answered: int
    unanswered: int
    unknown: int


def _truthy(value: object) -> bool | None:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def labels_from_history(
    rows: Iterator[Row | BadRow], on_bad: Callable[[BadRow], None]
) -> HistoryLabels:
    inbound: list[tuple[int, str, list[str]]] = []
    brand_ids: set[str] = set()
    for row in rows:
        if isinstance(row, BadRow):
            on_bad(row)
            continue
        missing = [c for c in REQUIRED if c not in row.fields]
        if missing:
            on_bad(BadRow(row.line, f"not a twcs row: missing {', '.join(missing)}"))
            continue
        is_inbound = _truthy(row.fields["inbound"])
        if is_inbound is None:
            on_bad(
                BadRow(row.line, f"inbound must be True or False, not {row.fields['inbound']!r}")
            )
            continue
        tweet_id = str(row.fields["tweet_id"]).strip()
        if not is_inbound:
            brand_ids.add(tweet_id)
            continue
        responses = [r.strip() for r in str(row.fields["response_tweet_id"] or "").split(",")]
        inbound.append((row.line, str(row.fields["text"]), [r for r in responses if r]))
    examples: list[tuple[str, str]] = []
    answered = unanswered = unknown = 0
    for _, text, responses in inbound:
        if any(r in brand_ids for r in responses):
            examples.append((text, "yes"))
            answered += 1
        elif not responses:
            examples.append((text, "no"))
            unanswered += 1
        else:
            unknown += 1
    return HistoryLabels(examples, answered, unanswered, unknown)
