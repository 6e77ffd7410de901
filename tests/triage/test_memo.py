"""Results answered from the triage memory are those the classifier gives for the same text,
context and models, whichever batch a text first came in."""

from __future__ import annotations

from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.memo import ResultMemo
from socialdesk.triage.result import MessageContext, TriageResult
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES

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
    memo = ResultMemo()
    calls: list[int] = []

    def classify(t: list[str | None], m: ModelSet, c: list[MessageContext]) -> list[TriageResult]:
        calls.append(len(t))
        return triage_batch(t, m, c)

    remembered = []
    for start in range(0, len(texts), 7):  # the same traffic in small batches, twice
        remembered += memo.triage(
            texts[start : start + 7], models, contexts[start : start + 7], classify
        )
    assert [r.to_dict() for r in remembered] == direct
    again = memo.triage(texts, models, contexts, classify)
    assert [r.to_dict() for r in again] == direct
    distinct = len(set(zip(texts, contexts, strict=True)))
    assert sum(calls) == distinct  # each distinct (text, context) read once
    assert memo.misses == distinct and memo.hits == 2 * len(texts) - distinct


def test_context_changes_the_answer_and_is_part_of_the_key() -> None:
    memo = ResultMemo()
    models = ModelSet()
    text = "my order never arrived"
    public, private = memo.triage(
        [text, text], models, [MessageContext(), MessageContext(private=True)], triage_batch
    )
    assert public.to_dict() == triage_batch([text], models, [MessageContext()])[0].to_dict()
    assert (
        private.to_dict()
        == triage_batch([text], models, [MessageContext(private=True)])[0].to_dict()
    )
    assert public.needs_response != private.needs_response


def test_each_model_set_has_its_own_answers() -> None:
    memo = ResultMemo()
    text = ["my router keeps dropping wifi"]
    general, telecom = ModelSet(), ModelSet(taxonomy=DEFAULT_TAXONOMIES["telecom"])
    first = memo.triage(text, general, None, triage_batch)[0]
    second = memo.triage(text, telecom, None, triage_batch)[0]
    assert first.to_dict() == triage_batch(text, general)[0].to_dict()
    assert second.to_dict() == triage_batch(text, telecom)[0].to_dict()
    assert first.topic != second.topic


def test_a_replaced_model_set_never_answers_for_a_new_one() -> None:
    """Model sets are told apart by a token, not by id(), which Python reuses."""
    memo = ResultMemo(model_sets=1)
    text = ["my router keeps dropping wifi"]
    for name in ("general", "telecom", "airline", "general", "telecom"):
        models = ModelSet(taxonomy=DEFAULT_TAXONOMIES[name])
        got = memo.triage(text, models, None, triage_batch)[0]
        assert got.to_dict() == triage_batch(text, models)[0].to_dict()
        del models
    assert memo.hits == 0


def test_callers_get_their_own_copies_and_the_memory_stays_bounded() -> None:
    memo = ResultMemo(limit=3)
    models = ModelSet()
    text = ["@acme my internet has been down since Monday, fix it or I'm leaving"]
    first = memo.triage(text, models, None, triage_batch)[0]
    first.explanation.append("changed by a caller")
    first.signals.setdefault("outage", []).append("changed")
    second = memo.triage(text, models, None, triage_batch)[0]
    assert second.to_dict() == triage_batch(text, models)[0].to_dict()
    memo.triage([f"message number {n}" for n in range(10)], models, None, triage_batch)
    assert len(memo._results) == 3
