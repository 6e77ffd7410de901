"""Texts' triage readings remembered by model set and text.

What triage reads from a text depends on the text and the models in force alone (see
reading.py); the message's context is added after. So a text seen again, in any context,
under the same models (a retweet, a spam wave, the same "DM sent" to a dozen brands, the
traffic generator's phrasings) is answered from memory instead of being read again, and a
text repeated within a batch is read once. Readings are never changed, so callers share
them; each result is built afresh from one. A model set is told apart from another by a
token given when it is first seen, never by its ``id()``, which Python reuses for a new
object once the old one is gone; a model set that is replaced (a new model version or
taxonomy: ``service.model_set`` then builds a new one) is never looked up again, and its
entries age out of the memory like any other.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from threading import Lock
from typing import TypeVar

from socialdesk.triage.reading import TextReading, in_context
from socialdesk.triage.result import MessageContext, TriageResult

# Readings remembered in all (some 0.6 KB each with their text, so about 10 MB at the most:
# the full ingest benchmark stays under its 500 MB peak).
MEMO_LIMIT = 16_384
# Model sets remembered (one per workspace and tier in use, in the same process).
MODEL_SETS = 8

M = TypeVar("M")
_Key = tuple[int, str | None]


class ReadingMemo:
    """A bounded, least-recently-used memory of texts' readings; safe across threads."""

    def __init__(self, limit: int = MEMO_LIMIT, model_sets: int = MODEL_SETS) -> None:
        self.limit = limit
        self.model_sets = model_sets
        # Texts looked up and texts read (a read ahead of the batch's locks counts here too),
        # and texts triaged: of those, the ones not read were answered from memory.
        self.hits = 0
        self.misses = 0
        self.triaged = 0
        self._lock = Lock()
        self._readings: OrderedDict[_Key, TextReading] = OrderedDict()
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

    def read(
        self,
        texts: Sequence[str | None],
        models: M,
        read: Callable[[list[str | None], M], list[TextReading]],
    ) -> list[TextReading]:
        """``read(texts, models)``'s answer, reading only the texts not already remembered,
        each distinct one once."""
        with self._lock:
            token = self._token(models)
            keys = [(token, t) for t in texts]
            found: dict[_Key, TextReading] = {}
            for key in keys:
                reading = self._readings.get(key)
                if reading is not None:
                    self._readings.move_to_end(key)
                    found[key] = reading
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            fresh = read([k[1] for k in missing], models)
            with self._lock:
                for key, reading in zip(missing, fresh, strict=True):
                    found[key] = reading
                    self._readings[key] = reading
                while len(self._readings) > self.limit:
                    self._readings.popitem(last=False)
        with self._lock:
            self.misses += len(missing)
            self.hits += len(keys) - len(missing)
        return [found[key] for key in keys]

    def triage(
        self,
        texts: Sequence[str | None],
        models: M,
        contexts: Sequence[MessageContext] | None,
        read: Callable[[list[str | None], M], list[TextReading]],
    ) -> list[TriageResult]:
        """Each text's result in its context (``MessageContext()`` where none is given)."""
        readings = self.read(texts, models, read)
        with self._lock:
            self.triaged += len(texts)
        if not contexts:
            return [in_context(r, MessageContext()) for r in readings]
        return [in_context(r, c) for r, c in zip(readings, contexts, strict=True)]

    def __len__(self) -> int:
        """Readings remembered now (at most ``limit``)."""
        with self._lock:
            return len(self._readings)

    def clear(self) -> None:
        with self._lock:
            self._readings.clear()
            self._tokens.clear()
            self.hits = self.misses = self.triaged = 0


MEMO = ReadingMemo()
