"""Knowledge base suggestions for a message: the articles sharing the most telling words."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset(
    {
        "the",
        "and",
        "for",
        "you",
        "your",
        "are",
        "but",
        "not",
        "with",
        "this",
        "that",
        "have",
        "has",
        "was",
        "were",
        "from",
        "what",
        "when",
        "will",
        "can",
        "cant",
        "dont",
        "just",
        "its",
        "our",
        "out",
        "all",
        "any",
        "how",
        "why",
        "who",
        "get",
        "got",
        "been",
        "they",
        "them",
        "their",
        "there",
        "would",
        "could",
        "should",
        "about",
        "into",
        "than",
        "then",
        "also",
        "very",
        "really",
        "still",
        "again",
        "please",
        "thanks",
    }
)


@dataclass(frozen=True, slots=True)
class ArticleText:
    id: int
    title: str
    body: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Suggestion:
    article_id: int
    score: float
    matched: tuple[str, ...]


def words(text: str) -> set[str]:
    found = {w.lower() for w in _WORD.findall(text)}
    # A crude plural fold so "refunds" finds "refund".
    return {w[:-1] if w.endswith("s") and len(w) > 4 else w for w in found} - _STOP


def suggest(message: str, articles: Sequence[ArticleText], limit: int = 3) -> list[Suggestion]:
    """Rank articles by the inverse-document-frequency weight of the words they share with the
    message; title and tag words count double because they say what the article is about."""
    query = words(message)
    if not query or not articles:
        return []
    docs = [(a, words(a.title) | words(" ".join(a.tags)), words(a.body)) for a in articles]
    n = len(docs)
    df: dict[str, int] = {}
    for _, head, body in docs:
        for w in head | body:
            df[w] = df.get(w, 0) + 1
    ranked: list[Suggestion] = []
    for article, head, body in docs:
        score = 0.0
        matched: list[str] = []
        for w in sorted(query & (head | body)):
            idf = math.log(1 + n / df[w])
            score += idf * (2.0 if w in head else 1.0)
            matched.append(w)
        if score > 0:
            ranked.append(Suggestion(article.id, round(score, 4), tuple(matched)))
    ranked.sort(key=lambda s: (-s.score, s.article_id))
    return ranked[:limit]
