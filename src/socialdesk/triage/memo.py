"""Triage results remembered by model set, text and context.

Triage is a pure function of the text, the message's context and the models in force, so
a text seen again in the same context under the same models (a retweet, a spam wave, the
same "DM sent" to a dozen brands, the traffic generator's phrasings) is answered from
memory instead of being read again. Each caller gets its own copy of the lists and dicts
of a result. A model set is told apart from another by a token given when it is first
seen, never by its ``id()``, which Python reuses for a new object once the old one is
gone; a model set that is replaced (a new model version or taxonomy) is never looked up
again, and its entries age out of the memory like any other.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from threading import Lock
from typing import TypeVar

from socialdesk.triage.result import MessageContext, TriageResult

# Results remembered in all (some 1.7 KB each, so about 14 MB at the most: the full
# ingest benchmark stays under its 500 MB peak).
MEMO_LIMIT = 8_192
# Model sets remembered (one per workspace and tier in use, in the same process).
MODEL_SETS = 8

M = TypeVar("M")
_Key = tuple[int, str | None, MessageContext]


class ResultMemo:
    """A bounded, least-recently-used memory of triage results; safe across threads."""

    def __init__(self, limit: int = MEMO_LIMIT, model_sets: int = MODEL_SETS) -> None:
        self.limit = limit
        self.model_sets = model_sets
        self.hits = 0
        self.misses = 0
        self._lock = Lock()
        self._results: OrderedDict[_Key, TriageResult] = OrderedDict()
        # id(model set) -> (the model set, kept alive so its id is not reused; its token)
        self._tokens: OrderedDict[int, tuple[object, int]] = OrderedDict()
        self._next_token = itertools.count(1)

    def _token(self, models: object) -> int:
        entry = self._tokens.get(id(models))
        if entry is not None and entry[0] is models:
            self._tokens.move_to_end(id(models))
            return entry[1]
        token = next(self._next_token)
        self._tokens[id(models)] = (models, token)
        while len(self._tokens) > self.model_sets:
            self._tokens.popitem(last=False)
        return token

    def triage(
        self,
        texts: Sequence[str | None],
        models: M,
        contexts: Sequence[MessageContext] | None,
        classify: Callable[[list[str | None], M, list[MessageContext]], list[TriageResult]],
    ) -> list[TriageResult]:
        """``classify(texts, models, contexts)``'s answer, reading only the texts (in their
        contexts) not already remembered, each distinct one once."""
        contexts = list(contexts) if contexts else [MessageContext()] * len(texts)
        with self._lock:
            token = self._token(models)
            keys = [(token, t, c) for t, c in zip(texts, contexts, strict=True)]
            found: dict[_Key, TriageResult] = {}
            for key in keys:
                result = self._results.get(key)
                if result is not None:
                    self._results.move_to_end(key)
                    found[key] = result
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            fresh = classify([k[1] for k in missing], models, [k[2] for k in missing])
            with self._lock:
                for key, result in zip(missing, fresh, strict=True):
                    found[key] = result
                    self._results[key] = result
                while len(self._results) > self.limit:
                    self._results.popitem(last=False)
        with self._lock:
            self.misses += len(missing)
            self.hits += len(keys) - len(missing)
        return [_copy(found[key]) for key in keys]

    def __len__(self) -> int:
        """Results remembered now (at most ``limit``)."""
        with self._lock:
            return len(self._results)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._tokens.clear()
            self.hits = self.misses = 0


def _copy(result: TriageResult) -> TriageResult:
    """The result with lists and dicts of its own, so no caller changes another's."""
    return replace(
        result,
        signals={name: list(cues) for name, cues in result.signals.items()},
        explanation=list(result.explanation),
        model_versions=dict(result.model_versions),
    )


MEMO = ResultMemo()
