"""Grouping by meaning: where the embedding tier is installed, a message that shares no
hashtag, topic or terms with an incident still joins it when its sentence embedding lies
close to the centroid of the incident's messages ("the whole network is dead" beside "no
signal since 8am").

With all-MiniLM-L6-v2, posts about the same failure lie at a cosine of about 0.6-0.7 from
such a centroid, and a brand's unrelated posts (a shop's hours, a bill) at about 0.2.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

SIMILARITY = 0.55
MIN_MEMBERS = 3
"""An incident of fewer messages has no centroid worth comparing with."""
MAX_MEMBERS = 50
MAX_CANDIDATES = 200

Encode = Callable[[list[str]], np.ndarray]


def close_in_meaning(
    members: Sequence[str],
    candidates: Sequence[str],
    encode: Encode,
    threshold: float = SIMILARITY,
) -> list[int]:
    """Indexes of the candidates whose embedding's cosine to the centroid of the members'
    embeddings is at least ``threshold`` (the latest ``MAX_MEMBERS`` members and the first
    ``MAX_CANDIDATES`` candidates are compared)."""
    if len(members) < MIN_MEMBERS or not candidates:
        return []
    kept_members = list(members[-MAX_MEMBERS:])
    kept_candidates = list(candidates[:MAX_CANDIDATES])
    vectors = np.asarray(encode(kept_members + kept_candidates), dtype=np.float64)
    centroid = vectors[: len(kept_members)].mean(axis=0)
    others = vectors[len(kept_members) :]
    norms = np.linalg.norm(others, axis=1) * np.linalg.norm(centroid)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.where(norms > 0, others @ centroid / norms, 0.0)
    return [i for i, cosine in enumerate(cosines) if cosine >= threshold]


class RememberingEncoder:
    """An encoder that keeps the vectors of the texts it saw last: each watch round compares
    an incident's same latest members again, and only its new texts need the model.

    Bounded (least recently used out), and safe to share between threads."""

    def __init__(self, encode: Encode, capacity: int = 4 * (MAX_MEMBERS + MAX_CANDIDATES)) -> None:
        self._encode = encode
        self._capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = np.asarray(self._encode(missing)) if missing else None
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            if fresh is not None:
                known.update(zip(missing, fresh, strict=True))
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
            for text in texts:
                if text in self._vectors:
                    self._vectors.move_to_end(text)
            while len(self._vectors) > self._capacity:
                self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 0))

    def __len__(self) -> int:
        return len(self._vectors)


_remembering: RememberingEncoder | None = None


def installed_encoder() -> Encode | None:
    """The embedding tier's encoder (remembering recent texts), or None where it is not
    installed."""
    global _remembering
    from socialdesk.triage import embedding

    if not embedding.available():
        return None
    if _remembering is None:
        _remembering = RememberingEncoder(embedding.encode)
    return _remembering
