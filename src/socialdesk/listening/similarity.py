"""Grouping by meaning: where the embedding tier is installed, a message that shares no
hashtag, topic or terms with an incident still joins it when its sentence embedding lies
close to the centroid of the incident's messages ("the whole network is dead" beside "no
signal since 8am").

With all-MiniLM-L6-v2, posts about the same failure lie at a cosine of about 0.6-0.7 from
such a centroid, and a brand's unrelated posts (a shop's hours, a bill) at about 0.2.
"""

from __future__ import annotations

import logging
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


def installed_encoder() -> Encode | None:
    """The embedding tier's encoder, or None where it is not installed."""
    from socialdesk.triage import embedding

    return embedding.encode if embedding.available() else None
