"""The seed models are trained once per machine and kept on disk, under a key that covers
everything they are trained from."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from socialdesk.core.cache_dirs import mark_used
from socialdesk.triage.classifier import analyse
from socialdesk.triage.linear import LinearModel, fit_linear
from socialdesk.triage.model_cache import cached_model, training_key

TEXTS = [
    "my internet has been down since this morning",
    "the router keeps dropping the connection",
    "love the new plan, thanks so much",
    "great service at the store today",
    "win a free phone, click this link",
    "cheap followers, dm me now",
]
LABELS = ["complaint", "complaint", "praise", "praise", "spam", "spam"]


class Trainer:
    """Trains the small model above and counts how often it had to."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> LinearModel:
        self.calls += 1
        return fit_linear("kind", analyse(TEXTS).features, LABELS, c=0.5, balanced=True)


def _key(labels: list[str] = LABELS, **settings: object) -> str:
    return training_key(analyse(TEXTS).features, labels, {"c": 0.5, **settings}, None)


def test_a_model_is_trained_once_and_then_read_from_the_cache(tmp_path: Path) -> None:
    trainer = Trainer()

    first = cached_model("seed-kind", _key(), trainer, tmp_path)
    second = cached_model("seed-kind", _key(), trainer, tmp_path)

    assert trainer.calls == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"seed-kind-{_key()}.npz"]
    assert first.classes == second.classes == ("complaint", "praise", "spam")
    assert np.array_equal(first.coef, second.coef)
    assert np.array_equal(first.intercept, second.intercept)
    batch = analyse(["no signal at home again"]).features
    assert np.array_equal(first.scores(batch), second.scores(batch))


def test_anything_the_model_is_trained_from_changes_its_key() -> None:
    assert _key() == _key()
    assert _key(labels=["complaint", "complaint", "praise", "praise", "spam", "praise"]) != _key()
    assert _key(balanced=True) != _key()
    embeddings = np.ones((len(TEXTS), 4), dtype=np.float32)
    with_embeddings = training_key(analyse(TEXTS).features, LABELS, {"c": 0.5}, embeddings)
    assert with_embeddings != _key()
    other_texts = training_key(analyse(TEXTS[::-1]).features, LABELS, {"c": 0.5}, None)
    assert other_texts != _key()


def test_a_new_model_removes_those_of_its_name_unused_for_a_month(tmp_path: Path) -> None:
    month_ago = time.time() - 31 * 24 * 3600
    stale = tmp_path / f"seed-kind-{'0' * 24}.npz"
    in_use = tmp_path / f"seed-kind-{'1' * 24}.npz"
    other_name = tmp_path / f"seed-kind-embedding-{'0' * 24}.npz"
    unrelated = tmp_path / "notes.txt"
    for path in (stale, in_use, other_name, unrelated):
        path.write_bytes(b"kept by someone")
        os.utime(path, (month_ago, month_ago))
    mark_used(in_use)

    cached_model("seed-kind", _key(), Trainer(), tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"seed-kind-{_key()}.npz", in_use.name, other_name.name, unrelated.name]
    )


def test_reading_a_model_marks_it_as_used(tmp_path: Path) -> None:
    cached_model("seed-kind", _key(), Trainer(), tmp_path)
    entry = tmp_path / f"seed-kind-{_key()}.npz"
    month_ago = time.time() - 31 * 24 * 3600
    os.utime(entry, (month_ago, month_ago))

    cached_model("seed-kind", _key(), Trainer(), tmp_path)

    assert entry.stat().st_mtime > month_ago + 24 * 3600


def test_an_unreadable_entry_is_trained_again_and_replaced(tmp_path: Path) -> None:
    entry = tmp_path / f"seed-kind-{_key()}.npz"
    entry.write_bytes(b"half a file")
    trainer = Trainer()

    model = cached_model("seed-kind", _key(), trainer, tmp_path)

    assert trainer.calls == 1
    assert model.classes == ("complaint", "praise", "spam")
    assert LinearModel.from_bytes(entry.read_bytes()).classes == model.classes


def test_a_cache_that_cannot_be_written_still_gives_the_model(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be", encoding="utf-8")
    trainer = Trainer()

    model = cached_model("seed-kind", _key(), trainer, blocked)

    assert trainer.calls == 1
    assert model.classes == ("complaint", "praise", "spam")


def test_a_process_whose_seed_model_is_cached_never_loads_scikit_learn(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from socialdesk.triage.classifier import triage_batch\n"
        "result = triage_batch(['my bill is wrong again', 'thanks, all sorted!'])\n"
        "print(len(result), 'sklearn' in sys.modules)\n"
    )
    env = {**os.environ, "SOCIALDESK_TRIAGE_CACHE": str(tmp_path)}

    def run() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    assert run() == "2 True"  # the first process on a machine trains the seed model
    assert run() == "2 False"
    assert len(list(tmp_path.glob("seed-kind-*.npz"))) == 1
