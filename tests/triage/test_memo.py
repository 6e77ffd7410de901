"""Results answered from the triage memory are those the classifier gives for the same text,
context and models, whichever batch and whichever context a text first came in."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.triage import service
from socialdesk.triage.classifier import ModelSet, read_texts, triage_batch
from socialdesk.triage.memo import MEMO, ReadingMemo
from socialdesk.triage.reading import TextReading
from socialdesk.triage.result import MessageContext, TriageResult
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES
from socialdesk.triage.training import Example, train_linear

TEXTS = [
    "@acme my internet has been down since Monday, fix it or I'm leaving",
    "thanks @acme, all sorted now!",
    "is there an outage in Cardiff? 📱",
    "my flight was delayed 3 hours and my bag is lost",
    "",
    None,
    "who else is stuck in traffic in York",
    "RT @news: acme shares up 4% after earnings",
    "mi factura está mal, me cobraron dos veces",
    "📱📱📱",
]
CONTEXTS = [
    MessageContext(),
    MessageContext(earlier_contacts=2),
    MessageContext(private=True),
    MessageContext(answered_before=True),
]


def _traffic() -> tuple[list[str | None], list[MessageContext]]:
    """Every text in every context, some twice in one batch, in an order that mixes them."""
    pairs = [(t, c) for c in CONTEXTS for t in TEXTS]
    pairs += pairs[::3]
    pairs = pairs[1::2] + pairs[::2]
    return [t for t, _ in pairs], [c for _, c in pairs]


def test_remembered_results_equal_the_classifiers_in_any_batching() -> None:
    texts, contexts = _traffic()
    models = ModelSet(taxonomy=DEFAULT_TAXONOMIES["telecom"])
    direct = [r.to_dict() for r in triage_batch(texts, models, contexts)]
    memo = ReadingMemo()
    calls: list[int] = []

    def read(t: list[str | None], m: ModelSet) -> list[TextReading]:
        calls.append(len(t))
        return read_texts(t, m)

    remembered = []
    for start in range(0, len(texts), 7):  # the same traffic in small batches, twice
        remembered += memo.triage(
            texts[start : start + 7], models, contexts[start : start + 7], read
        )
    assert [r.to_dict() for r in remembered] == direct
    again = memo.triage(texts, models, contexts, read)
    assert [r.to_dict() for r in again] == direct
    # Each distinct text read once, whatever the contexts it came in.
    assert sum(calls) == len(TEXTS)
    assert memo.misses == len(TEXTS) and memo.hits == 2 * len(texts) - len(TEXTS)


def test_trained_models_answer_the_same_from_memory() -> None:
    """Every task trained, so every trained branch of the reading meets every context."""
    texts, contexts = _traffic()
    base = triage_batch(texts, ModelSet())
    labels: dict[str, Callable[[TriageResult], str]] = {
        "kind": lambda r: r.kind,
        "sentiment": lambda r: r.sentiment,
        "severity": lambda r: str(r.severity),
        "needs_response": lambda r: "yes" if r.responds else "no",
    }
    models = ModelSet()
    for task, label in labels.items():
        examples = [Example(t, label(r)) for t, r in zip(texts, base, strict=True) if t]
        models.trained[task] = train_linear(task, examples)
        models.versions[task] = f"{task}-v1"
    direct = [r.to_dict() for r in triage_batch(texts, models, contexts)]
    memo = ReadingMemo()
    remembered = memo.triage(texts[:9], models, contexts[:9], read_texts)
    remembered += memo.triage(texts[9:], models, contexts[9:], read_texts)
    assert [r.to_dict() for r in remembered] == direct
    assert {r["model_versions"]["severity"] for r in direct} == {"severity-v1"}


def test_context_changes_the_answer_but_the_text_is_read_once() -> None:
    memo = ReadingMemo()
    models = ModelSet()
    text = "my order never arrived"
    public, private, repeat = memo.triage(
        [text, text, text],
        models,
        [MessageContext(), MessageContext(private=True), MessageContext(earlier_contacts=3)],
        read_texts,
    )
    assert memo.misses == 1 and memo.hits == 2
    assert public.to_dict() == triage_batch([text], models, [MessageContext()])[0].to_dict()
    assert (
        private.to_dict()
        == triage_batch([text], models, [MessageContext(private=True)])[0].to_dict()
    )
    assert public.needs_response != private.needs_response
    assert repeat.signals["repeat_contact"] == ["3 earlier contacts"]
    assert "repeat_contact" not in public.signals and repeat.severity > public.severity


def test_each_model_set_has_its_own_answers() -> None:
    memo = ReadingMemo()
    text = ["my router keeps dropping wifi"]
    general, telecom = ModelSet(), ModelSet(taxonomy=DEFAULT_TAXONOMIES["telecom"])
    first = memo.triage(text, general, None, read_texts)[0]
    second = memo.triage(text, telecom, None, read_texts)[0]
    assert first.to_dict() == triage_batch(text, general)[0].to_dict()
    assert second.to_dict() == triage_batch(text, telecom)[0].to_dict()
    assert first.topic != second.topic


def test_a_replaced_model_set_never_answers_for_a_new_one() -> None:
    """Model sets are told apart by a token, not by id(), which Python reuses."""
    memo = ReadingMemo(model_sets=1)
    text = ["my router keeps dropping wifi"]
    for name in ("general", "telecom", "airline", "general", "telecom"):
        models = ModelSet(taxonomy=DEFAULT_TAXONOMIES[name])
        got = memo.triage(text, models, None, read_texts)[0]
        assert got.to_dict() == triage_batch(text, models)[0].to_dict()
        del models
    assert memo.hits == 0


def test_a_newly_trained_model_is_read_afresh_not_from_memory(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """The workspace's memory of a text ends where its trained models change."""
    text = "thanks, the new router works"
    with unit_of_work(session_factory) as s:
        before = service.triage_texts(s, workspace.id, [text])[0]
        assert service.triage_texts(s, workspace.id, [text])[0].to_dict() == before.to_dict()
        hits = MEMO.hits
        labels = [("love it", "negative"), ("works great", "negative")]
        labels += [("awful service", "positive"), ("it is broken", "positive")]
        service.import_labels(s, workspace.id, "sentiment", labels)
        service.train(s, workspace.id, "sentiment")
        after = service.triage_texts(s, workspace.id, [text])[0]
    assert MEMO.hits == hits  # read again under the new model set
    assert before.model_versions["sentiment"] != after.model_versions["sentiment"]
    assert after.model_versions["sentiment"] == "sentiment-v1"
    assert "by the trained model" in after.explanation[0]


def test_callers_get_their_own_copies_and_the_memory_stays_bounded() -> None:
    memo = ReadingMemo(limit=3)
    models = ModelSet()
    text = ["@acme my internet has been down since Monday, fix it or I'm leaving"]
    first = memo.triage(text, models, None, read_texts)[0]
    first.explanation.append("changed by a caller")
    first.signals.setdefault("outage", []).append("changed")
    second = memo.triage(text, models, None, read_texts)[0]
    assert second.to_dict() == triage_batch(text, models)[0].to_dict()
    memo.triage([f"message number {n}" for n in range(10)], models, None, read_texts)
    assert len(memo) == 3
    # The least recently used go first: the three last texts are answered from memory.
    hits = memo.hits
    memo.triage([f"message number {n}" for n in (7, 8, 9)], models, None, read_texts)
    assert memo.hits == hits + 3
    memo.triage(text, models, None, read_texts)
    assert memo.hits == hits + 3 and len(memo) == 3


def test_a_trained_sentiment_model_leaves_wordless_texts_to_vader() -> None:
    """Emoji alone, an empty post: no words for the trained model, and no seed model's row to
    fall back on (this raised a KeyError before)."""
    texts = ["thanks, all sorted", "love it", "this is broken", "awful service"]
    labels = ["positive", "positive", "negative", "negative"]
    models = ModelSet()
    models.trained["sentiment"] = train_linear(
        "sentiment", [Example(t, lab) for t, lab in zip(texts, labels, strict=True)]
    )
    sad, empty, worded = triage_batch(["😢😢", "", "awful service"], models)
    assert (sad.sentiment, empty.sentiment) == ("negative", "neutral")
    day_one = triage_batch(["😢😢"])[0]
    assert (sad.sentiment_score, sad.explanation) == (day_one.sentiment_score, day_one.explanation)
    assert sad.kind == empty.kind == "other" and not sad.responds
    assert "by the trained model" in worded.explanation[0]
