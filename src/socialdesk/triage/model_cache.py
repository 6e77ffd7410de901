"""Models socialdesk trains from its own data (the seed models), kept on disk per machine.

Every process that triages for a workspace without a trained kind model needs the seed kind
model. Training it takes half a second, and it imports scikit-learn, which costs the process
60 MB for as long as it lives. So it is trained once per machine. The trained model is kept
under a key that covers everything it is trained from: the features and labels of the seed
examples, the settings, the training code and the scikit-learn release. A change to any of
them trains a new model; building one removes the models beside it that no process has
used for 30 days, and an unreadable file is trained again and replaced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from socialdesk.core.cache_dirs import mark_used, remove_unused, user_cache_dir
from socialdesk.triage import features, linear
from socialdesk.triage.features import FeatureBatch
from socialdesk.triage.linear import LinearModel

KEY_LENGTH = 24


def default_cache_dir() -> Path:
    """SOCIALDESK_TRIAGE_CACHE, else the user's cache directory."""
    return user_cache_dir("SOCIALDESK_TRIAGE_CACHE", "triage")


def training_key(
    batch: FeatureBatch,
    labels: list[str],
    settings: dict[str, object],
    embeddings: np.ndarray | None,
) -> str:
    """A digest of everything a linear model is trained from, the code included."""
    digest = hashlib.sha256()
    for module in (linear, features):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(metadata.version("scikit-learn").encode())
    hashed = batch.hashed
    for part in (hashed.data, hashed.indices, hashed.indptr, batch.dense):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(repr((hashed.shape, labels, sorted(settings.items()))).encode())
    if embeddings is not None:
        digest.update(np.ascontiguousarray(embeddings).tobytes())
    return digest.hexdigest()[:KEY_LENGTH]


def cached_model(
    name: str, key: str, train: Callable[[], LinearModel], cache_dir: Path | None = None
) -> LinearModel:
    """The model kept as ``name`` under ``key``, or ``train()``'s, kept for the next process.

    Either way the model returned is read back from its stored bytes, so the process that
    trains it scores exactly as the processes that load it."""
    path = (cache_dir or default_cache_dir()) / f"{name}-{key}.npz"
    try:
        model = LinearModel.from_bytes(path.read_bytes())
    except Exception:  # a missing or unreadable entry is trained (again)
        pass
    else:
        mark_used(path)
        return model
    blob = train().to_bytes()
    if _write_atomically(path, blob):
        # Models trained from other inputs (older code or seeds) that no process still uses.
        remove_unused(path.parent, (f"{name}-{'[0-9a-f]' * KEY_LENGTH}.npz",), keep=path)
    return LinearModel.from_bytes(blob)


def _write_atomically(path: Path, blob: bytes) -> bool:
    """Readers see the whole file or none; a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(blob)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True
