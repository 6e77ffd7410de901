"""The fast tier: rules, lexicons, VADER and linear models over n-grams, for a batch at a time.

Pure: a ``ModelSet`` (the workspace's taxonomy and trained models) and texts in, results out.
Where a workspace has not trained a task yet, seed models and rules answer.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from socialdesk.core.pools import ProcessLocalPool
from socialdesk.triage import cascade, rules
from socialdesk.triage.address import Address, read_address
from socialdesk.triage.features import FeatureBatch, featurize
from socialdesk.triage.labels import KIND_RESPONSE_PRIOR, KIND_ROUTES, KINDS
from socialdesk.triage.language import UNDETERMINED, detect_language
from socialdesk.triage.linear import LinearModel
from socialdesk.triage.reading import TextReading, in_context
from socialdesk.triage.result import MessageContext, TriageResult
from socialdesk.triage.seed_models import SEED_VERSION, seed_kind_model, seed_sentiment_model
from socialdesk.triage.seeds import seed_languages
from socialdesk.triage.sentiment import (
    care_compound,
    failure_cues,
    label_for,
    vader_scores,
)
from socialdesk.triage.signals import detect_signals
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, Taxonomy
from socialdesk.triage.text import Prepared, emoji_of, prepare
from socialdesk.triage.valence import reads, valence_scores

URGENT_SIGNALS = ("churn_threat", "legal_threat", "safety", "outage", "vulnerable_customer")
# Cosine similarity from which a text is taken to be about a topic's description.
TOPIC_SIMILARITY = 0.35
# Below this, the seed model and rules have found nothing that sets one kind apart.
UNSURE = 0.3
# The weights of the negative, neutral and positive labels where the seed model and VADER are
# averaged, by the post's form (address.py). Both readers lean neutral on a feeling said in
# few words, and praise words come easily in a post written to someone ("thanks, please fix
# it"); a broadcast (news, a retweet, a ticker, nobody addressed) is mostly reported, not
# felt, whatever its words ("Justice Department cites ...", "#FREE nightly updates").
# Chosen on the dev half of the public sets (see the README's Day one).
TONE_WEIGHTS = {"broadcast": (1.0, 1.2, 1.0), "spoken": (1.2, 0.8, 1.0)}
# The weight of VADER beside the seed sentiment model where VADER can read the text.
VADER_SHARE = 0.5
# How much the cue rules add to the seed kind model's log-odds (1 = each rule's own bonus).
RULE_WEIGHT = 1.0
# From this chance of a negative tone a question, request or suggestion is a complaint.
NEGATIVE_TURNS_COMPLAINT = 0.45
# Praise words around this many service failures are sarcasm ("love how you lost my bag").
SARCASM_FAILURES = 2
# Below this chance of a negative tone, a complaint that states no failure is doubtful.
COMPLAINT_NEEDS_NEGATIVE = 0.35
# The confidence given to a kind that the day-one rules decided (not a model's probability).
RULED_CONFIDENCE = 0.6
# The kinds that ask the care team for something.
CARE_KINDS = ("complaint", "question", "request", "suggestion")
_NO_SIGNALS: Mapping[str, tuple[str, ...]] = MappingProxyType({})
# The seed sentiment model's rows where a trained model stands in for it.
_NO_ROWS: tuple[np.ndarray, tuple[str, ...]] = (
    np.zeros((0, 3)),
    ("negative", "neutral", "positive"),
)
# Encodes a batch on the embedding tier while the caller's thread runs the fast tier.
_BACKGROUND = ProcessLocalPool(1, "triage-embeddings")


@dataclass
class ModelSet:
    """A workspace's taxonomy and its active trained models, by task."""

    taxonomy: Taxonomy = field(default_factory=lambda: DEFAULT_TAXONOMIES["general"])
    trained: dict[str, LinearModel] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    tier: str = "fast"  # "embedding" adds MiniLM sentence embeddings (socialdesk[ml])
    # Embedding tier: a text is encoded only where a fast-tier margin is under this band
    # (cascade.py); None encodes every text, 0 lets the fast tier answer alone.
    cascade_band: float | None = cascade.DEFAULT_BAND
    _fast: ModelSet | None = field(default=None, init=False, repr=False, compare=False)

    def version_of(self, task: str) -> str:
        return self.versions.get(task, SEED_VERSION if task in self.trained else "rules")


@dataclass(frozen=True)
class Analysed:
    """Everything the fast tier reads from a batch before any model runs."""

    prepared: list[Prepared]
    vader: list[dict[str, float]]
    failures: list[list[str]]
    signals: list[dict[str, list[str]]]
    features: FeatureBatch
    addresses: list[Address] = field(default_factory=list)
    languages: list[tuple[str, float]] = field(default_factory=list)
    evidence: list[dict[str, list[str]]] = field(default_factory=list)


def analyse(texts: Sequence[str | None]) -> Analysed:
    return analyse_prepared([prepare(t) for t in texts])


def analyse_prepared(prepared: list[Prepared]) -> Analysed:
    languages = [detect_language(p.body, p.words) for p in prepared]
    vader = [_vader_of(p, language) for p, (language, _) in zip(prepared, languages, strict=True)]
    addresses = [read_address(p) for p in prepared]
    failures = [
        failure_cues(p.body, p.prefixes, a.to_someone)
        for p, a in zip(prepared, addresses, strict=True)
    ]
    signals = [detect_signals(p) for p in prepared]
    dense = [
        _dense_row(p, v, f, s)
        for p, v, f, s in zip(prepared, vader, failures, signals, strict=True)
    ]
    return Analysed(
        prepared, vader, failures, signals, featurize(prepared, dense), addresses, languages
    )


def _vader_of(p: Prepared, language: str) -> dict[str, float]:
    """VADER's scores, or in Spanish, French, German, Portuguese and Arabic those of their
    own valence lexicons (valence.py) plus VADER's reading of the emoji: VADER would read
    their words as English ones ("Die neue App ist klasse" has VADER's "die")."""
    if not p.body:
        return vader_scores("")
    if not reads(language):
        return vader_scores(p.body)
    scores = valence_scores(p.words, language)
    if p.emoji:
        emoji = vader_scores(emoji_of(p.body))["compound"]
        scores["compound"] = max(-1.0, min(1.0, scores["compound"] + emoji))
    return scores


def _dense_row(
    p: Prepared, v: Mapping[str, float], failures: list[str], signals: Mapping[str, list[str]]
) -> list[float]:
    return [
        v["compound"],
        v["pos"],
        v["neg"],
        care_compound(v["compound"], len(failures)),
        1.0 if rules.asks(p.body) else 0.0,
        min(p.exclamations, 3) / 3,
        min(p.urls, 2) / 2,
        min(p.mentions, 3) / 3,
        min(p.emoji, 3) / 3,
        0.0 if p.has_words else 1.0,
        *(1.0 if name in signals else 0.0 for name in _SIGNAL_ORDER),
    ]


_SIGNAL_ORDER = (
    "churn_threat",
    "legal_threat",
    "safety",
    "outage",
    "repeat_contact",
    "abuse",
    "shouting",
    "vulnerable_customer",
)


@lru_cache(maxsize=16)
def _topic_vectors(topics: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], np.ndarray]:
    return tuple(t for t, _ in topics), _embed([d for _, d in topics])


def _embed(texts: Sequence[str]) -> np.ndarray:
    from socialdesk.triage.embedding import encode

    return encode(list(texts))


def triage_batch(
    texts: Sequence[str | None],
    models: ModelSet | None = None,
    contexts: Sequence[MessageContext] | None = None,
) -> list[TriageResult]:
    """Triage a batch of texts; never raises on odd text (empty, emoji, 10,000 characters)."""
    readings = read_texts(texts, models or ModelSet())
    contexts = contexts or [MessageContext()] * len(texts)
    return [in_context(r, c) for r, c in zip(readings, contexts, strict=True)]


def read_texts(texts: Sequence[str | None], models: ModelSet) -> list[TextReading]:
    """What each text says under these models, before its context (reading.py)."""
    if not texts:
        return []
    prepared = [prepare(t) for t in texts]
    if models.tier == "fast":
        return _read_all(analyse_prepared(prepared), models, None, {})
    fast = fast_tier_of(models)
    if models.cascade_band is None or fast is None:
        # The encoder's workers start on the texts while this thread reads the fast tier's
        # features, so no core waits for the other.
        pending = _BACKGROUND.get().submit(_embeddings, [p.body for p in prepared], models)
        analysed = analyse_prepared(prepared)
        embeddings, tuned = pending.result()
        return _read_all(analysed, models, embeddings, tuned)
    # A confidence cascade (cascade.py): the fast tier reads every text, and only those it
    # is doubtful of are encoded and read again by the embedding tier's models.
    analysed = analyse_prepared(prepared)
    readings, least = _fast_readings(analysed, models, fast)
    rows = cascade.doubtful(least, models.cascade_band)
    if len(rows):
        part = _rows_of(analysed, rows.tolist())
        embeddings, tuned = _embeddings([p.body for p in part.prepared], models)
        again = _read_all(part, models, embeddings, tuned)
        for i, reading in zip(rows.tolist(), again, strict=True):
            readings[i] = reading
    return readings


def fast_margins(
    texts: Sequence[str | None], models: ModelSet
) -> tuple[list[TextReading], np.ndarray] | None:
    """The fast tier's readings of the texts and each one's smallest margin over the tasks
    the encoder would change (what the cascade decides on); None where the model set has no
    fast tier to ask (a trained model without its companion)."""
    fast = fast_tier_of(models)
    if fast is None:
        return None
    return _fast_readings(analyse_prepared([prepare(t) for t in texts]), models, fast)


def _fast_readings(
    analysed: Analysed, models: ModelSet, fast: ModelSet
) -> tuple[list[TextReading], np.ndarray]:
    least: list[float] = []
    readings = _read_all(analysed, fast, None, {}, encoder_tasks(models), least)
    return readings, np.asarray(least)


def encoder_tasks(models: ModelSet) -> frozenset[str]:
    """The tasks whose answer the encoder changes: the day-one models' (kind, sentiment)
    where none is trained, and those of the trained models that read embeddings."""
    tasks = {task for task, model in models.trained.items() if model.uses_embeddings}
    tasks.update(task for task in ("kind", "sentiment") if task not in models.trained)
    return frozenset(tasks)


def fast_tier_of(models: ModelSet) -> ModelSet | None:
    """The fast tier's models for the same tasks (made once per model set): the seed models
    without embeddings, and each trained embedding model's fast companion (trained with it,
    ``LinearModel.fast``); None where a trained model has no companion (one trained before
    the cascade), so every text is encoded."""
    if models._fast is not None:
        return models._fast
    trained: dict[str, LinearModel] = {}
    versions = dict(models.versions)
    for task, model in models.trained.items():
        if not model.uses_embeddings:
            trained[task] = model
        elif model.fast is not None:
            trained[task] = model.fast
            versions[task] = f"{models.version_of(task)}/fast"
        else:
            return None
    models._fast = ModelSet(models.taxonomy, trained, versions, tier="fast")
    return models._fast


def _rows_of(analysed: Analysed, rows: list[int]) -> Analysed:
    """The part of a batch's analysis for some of its texts (the kind rules' evidence is
    gathered again by whichever model set reads them)."""
    features = analysed.features
    return Analysed(
        [analysed.prepared[i] for i in rows],
        [analysed.vader[i] for i in rows],
        [analysed.failures[i] for i in rows],
        [analysed.signals[i] for i in rows],
        FeatureBatch(features.hashed[rows], features.dense[rows]),
        [analysed.addresses[i] for i in rows],
        [analysed.languages[i] for i in rows],
    )


def _read_all(
    analysed: Analysed,
    models: ModelSet,
    embeddings: np.ndarray | None,
    tuned: Mapping[str, np.ndarray],
    doubt_tasks: frozenset[str] = frozenset(),
    least: list[float] | None = None,
) -> list[TextReading]:
    """Every text's reading under these models; with ``least``, it also gets each text's
    smallest margin over ``doubt_tasks`` (infinite for a text without words, whose answer
    no model decides)."""
    kind_probs, kind_classes = _kind_probabilities(analysed, models, tuned.get("kind", embeddings))
    predictions = {
        task: (model.scores(analysed.features, tuned.get(task, embeddings)), model.classes)
        for task, model in models.trained.items()
        if task != "kind"
    }
    if "sentiment" not in models.trained:
        seed_sentiment = seed_sentiment_model(embeddings is not None)
        predictions["seed_sentiment"] = (
            seed_sentiment.scores(analysed.features, embeddings),
            seed_sentiment.classes,
        )
    if embeddings is not None and "topic" not in models.trained:
        ids, vectors = _topic_vectors(
            tuple(
                (t.id, f"{t.id.replace('_', ' ')}: {t.description}") for t in models.taxonomy.topics
            )
        )
        predictions["topic_similarity"] = (embeddings @ vectors.T, ids)
    versions = _versions(models)
    # Without a needs_response model: the chance an agent should answer, from the kind.
    priors = np.array([KIND_RESPONSE_PRIOR.get(k, 0.1) for k in kind_classes])
    needs_by_kind = (kind_probs @ priors).tolist()
    if least is not None:
        least.extend(_least_margins(analysed, kind_probs, predictions, doubt_tasks).tolist())
    return [
        _read(
            i,
            analysed,
            kind_probs[i],
            kind_classes,
            needs_by_kind[i],
            predictions,
            models,
            versions,
        )
        for i in range(len(analysed.prepared))
    ]


def _least_margins(
    analysed: Analysed,
    kind_probs: np.ndarray,
    predictions: Mapping[str, tuple[np.ndarray, tuple[str, ...]]],
    tasks: frozenset[str],
) -> np.ndarray:
    """Each text's smallest fast-tier margin over the tasks, read from the rows its answer
    is taken from (the day-one kind after the rules' evidence, the day-one sentiment after
    VADER and the post's form are weighed in)."""
    count = len(analysed.prepared)
    rows: dict[str, np.ndarray] = {}
    if "kind" in tasks:
        rows["kind"] = kind_probs
    for task in tasks - {"kind"}:
        if task in predictions:
            rows[task] = predictions[task][0]
    if "sentiment" in tasks and "sentiment" not in predictions and count:
        rows["sentiment"] = np.array(
            [_seed_sentiment_row(i, analysed, predictions)[0] for i in range(count)]
        )
    least = cascade.least_margins(rows, count)
    least[[not p.has_words for p in analysed.prepared]] = np.inf
    return least


def _seed_sentiment_row(
    i: int,
    analysed: Analysed,
    predictions: Mapping[str, tuple[np.ndarray, tuple[str, ...]]],
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The day-one sentiment of a text: the seed model's row, averaged with VADER's reading
    where VADER reads the language, and weighed by the post's form."""
    row, classes = predictions.get("seed_sentiment", _NO_ROWS)
    row = row[i] if len(row) else np.full(len(classes), 1 / len(classes))
    language = analysed.languages[i][0]
    if language not in seed_languages() or language == "en":
        compound = care_compound(analysed.vader[i]["compound"], len(analysed.failures[i]))
        # VADER reads English (and emoji): its compound, spread over the three labels,
        # is averaged with the seed model's probabilities.
        row = (1 - VADER_SHARE) * row + VADER_SHARE * _vader_distribution(compound, classes)
        # Weighed by the form of the post: a broadcast is mostly reported, not felt.
        row = row * _tone_weights(
            classes, "broadcast" if analysed.addresses[i].broadcast else "spoken"
        )
        row = row / row.sum()
    return row, classes


def _embeddings(bodies: list[str], models: ModelSet) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The packaged encoder's embeddings, and by task those of the models that fine-tuned
    the encoder's top layers."""
    fine_tuned = {
        task: model.encoder_top
        for task, model in models.trained.items()
        if model.encoder_top is not None
    }
    if not fine_tuned:
        return _embed(bodies), {}
    from socialdesk.triage.embedding import encode_tuned

    tops = list(fine_tuned.values())
    embeddings, vectors = encode_tuned(bodies, tops)
    return embeddings, dict(zip(fine_tuned, vectors, strict=True))


def _versions(models: ModelSet) -> dict[str, str]:
    """The model version behind each task's answer (the same for the whole batch)."""
    tasks = ("kind", "sentiment", "topic", "needs_response", "severity")
    versions = {task: models.version_of(task) for task in tasks}
    for task in ("kind", "sentiment"):  # the seed models answer until one is trained
        if task not in models.trained:
            versions[task] = SEED_VERSION
    return versions


def _kind_probabilities(
    analysed: Analysed, models: ModelSet, embeddings: np.ndarray | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    trained = models.trained.get("kind")
    if trained is not None:
        return trained.scores(analysed.features, embeddings), trained.classes
    seed = seed_kind_model(embeddings is not None)
    probs = seed.scores(analysed.features, embeddings)
    # Rules add evidence in log-odds to the seed model's guess.
    logits = np.log(np.clip(probs, 1e-6, 1.0))
    for i, p in enumerate(analysed.prepared):
        compound = care_compound(analysed.vader[i]["compound"], len(analysed.failures[i]))
        evidence = rules.kind_evidence(p.body, compound, len(analysed.failures[i]), p.prefixes)
        analysed.evidence.append(evidence)
        for kind, cues in evidence.items():
            logits[i, seed.classes.index(kind)] += RULE_WEIGHT * rules.kind_bonus(kind, cues)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True), seed.classes


def _read(
    i: int,
    analysed: Analysed,
    kind_row: np.ndarray,
    kind_classes: tuple[str, ...],
    needs_by_kind: float,
    predictions: Mapping[str, tuple[np.ndarray, tuple[str, ...]]],
    models: ModelSet,
    versions: Mapping[str, str],
) -> TextReading:
    p = analysed.prepared[i]
    vader = analysed.vader[i]
    failures = analysed.failures[i]
    signals = analysed.signals[i]
    explanation: list[str] = []

    language, language_confidence = analysed.languages[i]

    # Sentiment: trained model if any, else VADER with the care correction.
    compound = care_compound(vader["compound"], len(failures))
    if "sentiment" in predictions and p.has_words:
        row, classes = predictions["sentiment"][0][i], predictions["sentiment"][1]
        best = int(row.argmax())
        sentiment, sentiment_confidence = classes[best], float(row[best])
        score = _prob(row, classes, "positive") - _prob(row, classes, "negative")
        explanation.append(
            f"sentiment {sentiment} by the trained model ({sentiment_confidence:.2f})"
        )
    else:
        # Without words (emoji alone, say) VADER decides below; a workspace's trained
        # sentiment model leaves no seed model's row to read then.
        row, classes = _seed_sentiment_row(i, analysed, predictions)
        best = int(row.argmax())
        sentiment, sentiment_confidence = classes[best], float(row[best])
        score = _prob(row, classes, "positive") - _prob(row, classes, "negative")
        if not p.has_words:
            sentiment, score = label_for(compound), compound
            sentiment_confidence = min(1.0, 0.5 + abs(compound) / 2)
        explanation.append(
            f"sentiment {sentiment} ({sentiment_confidence:.2f}; VADER {vader['compound']:+.2f})"
        )
        if failures:
            explanation.append("service failure stated: " + ", ".join(failures[:4]))

    # Kind.
    unreadable = False
    doubtful = False
    if not p.has_words:
        kind, kind_confidence = "other", 0.9
        explanation.append("no words to read (empty, emoji, links or mentions only)")
    else:
        best = int(kind_row.argmax())
        kind, kind_confidence = kind_classes[best], float(kind_row[best])
        if kind not in KINDS:
            kind = "other"
        readable = seed_languages() | {UNDETERMINED}
        if "kind" not in models.trained and (kind_confidence < UNSURE or language not in readable):
            # The day-one models read the seeds' languages; a guess on any other is no guess.
            foreign = language not in readable
            kind, kind_confidence = "other", 0.5
            explanation.append(
                f"written in {language}: the day-one models have no seeds in it"
                if foreign
                else "no kind stands out"
            )
            unreadable = foreign
        if "kind" not in models.trained and not unreadable:
            decided = _day_one_kind(
                kind,
                analysed.addresses[i],
                _prob(row, classes, "negative"),
                failures,
                language in ("en", UNDETERMINED),
            )
            if decided is not None:
                kind, note, doubtful = decided
                kind_confidence = RULED_CONFIDENCE
                needs_by_kind = KIND_RESPONSE_PRIOR[kind]
                explanation.append(note)
            if kind == "complaint" and sentiment == "neutral" and failures:
                # A complaint that states a service failure is negative, in any words.
                sentiment = "negative"
                score = min(score, -0.1)
        explanation.append(f"kind {kind} ({kind_confidence:.2f})")
        if "kind" not in models.trained:
            evidence = analysed.evidence[i]
            if kind in evidence:
                explanation.append(f"{kind} cues: " + ", ".join(evidence[kind][:4]))

    # Topic.
    topic, topic_confidence = _topic(i, p, predictions, models.taxonomy, explanation)

    # Needs response and route.
    urgent = [s for s in URGENT_SIGNALS if s in signals]
    if urgent and analysed.addresses[i].broadcast:
        # A headline about a court case or an outage is news for listening, not a customer's
        # threat: its signals stay, but it asks no agent for an answer.
        explanation.append("signals in shared news: " + ", ".join(urgent))
        urgent = []
    if not p.has_words:
        needs = 0.02
    elif "needs_response" in predictions:
        row, classes = predictions["needs_response"][0][i], predictions["needs_response"][1]
        needs = _prob(row, classes, "yes")
    else:
        needs = needs_by_kind
        if unreadable or doubtful:
            needs = 0.5
    route = KIND_ROUTES.get(kind, "none")
    if urgent and route != "care" and kind != "spam":
        route = "care"
    if unreadable or doubtful:
        route = "care"

    return TextReading(
        has_words=p.has_words,
        language=language if p.has_words else UNDETERMINED,
        language_confidence=round(language_confidence if p.has_words else 0.0, 4),
        kind=kind,
        kind_confidence=round(kind_confidence, 4),
        sentiment=sentiment,
        sentiment_score=float(score),
        sentiment_confidence=round(sentiment_confidence, 4),
        topic=topic,
        topic_confidence=round(topic_confidence, 4),
        signals={name: tuple(cues) for name, cues in signals.items()} if signals else _NO_SIGNALS,
        # Interned: texts share many of these lines ("kind other (0.60)"), and the memory
        # holds thousands of readings.
        explanation=tuple(map(sys.intern, explanation)),
        urgent=tuple(urgent),
        needs=float(needs),
        private_adds=p.has_words and "needs_response" not in predictions,
        route=route,
        directed_to_care=kind == "other" and p.has_words,
        directed_needs=p.has_words and kind not in ("spam", "praise", "marketing", "sales_lead"),
        model_severity=_model_severity(i, predictions) if p.has_words else None,
        model_versions=versions,
        tier=models.tier,
    )


def _day_one_kind(
    kind: str, address: Address, negative: float, failures: list[str], english: bool
) -> tuple[str, str, bool] | None:
    """The day-one models' kind read again with the post's form and tone, or None to keep it.

    A broadcast (a shared headline, a retweet, market talk; see address.py) asks nothing of
    the care team. A question, request or suggestion that states a service failure, or is
    said in a negative tone, is a complaint: complaints are often phrased as questions ("why
    is my flight delayed again?") or requests ("my bag is lost, please find it"). So is
    chatter with either, where it is written to someone.

    A complaint needs something wrong: one the seed model saw that states no failure and
    has little negative tone ("@brand done", "sign me up!") is no complaint. Written to
    someone, it is doubtful: the third value says so, and a person looks at it (the care
    team, needs_response 0.5) rather than the guess deciding.
    """
    if address.broadcast and kind in CARE_KINDS:
        return "other", "shared news or market talk, not written to the brand", False
    if address.broadcast:
        return None
    if kind in ("question", "request", "suggestion", "other") and (
        address.to_someone or kind != "other"
    ):
        if failures:
            return "complaint", f"{kind} that states a service failure", False
        if negative >= NEGATIVE_TURNS_COMPLAINT:
            return "complaint", f"{kind} in a negative tone ({negative:.2f})", False
    # The failure phrases are English: elsewhere a complaint keeps the seed model's word.
    if kind == "complaint" and english and not failures and negative < COMPLAINT_NEEDS_NEGATIVE:
        if address.to_someone:
            return "other", "doubtful: a complaint with no failure and no negative tone", True
        return "other", "no failure and no negative tone: not a complaint", False
    if kind in ("praise", "marketing") and len(failures) >= SARCASM_FAILURES:
        return (
            "complaint",
            "praise words around service failures: " + ", ".join(failures[:3]),
            False,
        )
    return None


@lru_cache(maxsize=16)
def _tone_weights(classes: tuple[str, ...], form: str) -> np.ndarray:
    """The factors that scale a sentiment row's labels for a post of this form."""
    negative, neutral, positive = TONE_WEIGHTS[form]
    weights = {"negative": negative, "neutral": neutral, "positive": positive}
    return np.array([weights.get(c, 1.0) for c in classes])


def _vader_distribution(compound: float, classes: tuple[str, ...]) -> np.ndarray:
    """A compound in [-1, 1] as probabilities of negative, neutral and positive."""
    share = {
        "negative": max(0.0, -compound),
        "neutral": 1.0 - abs(compound),
        "positive": max(0.0, compound),
    }
    return np.array([share.get(c, 0.0) for c in classes])


def _prob(row: np.ndarray, classes: tuple[str, ...], label: str) -> float:
    return float(row[classes.index(label)]) if label in classes else 0.0


def _topic(
    i: int,
    p: Prepared,
    predictions: Mapping[str, tuple[np.ndarray, tuple[str, ...]]],
    taxonomy: Taxonomy,
    explanation: list[str],
) -> tuple[str | None, float]:
    if "topic" in predictions and p.has_words:
        row, classes = predictions["topic"][0][i], predictions["topic"][1]
        best = int(row.argmax())
        topic = classes[best]
        explanation.append(f"topic {topic} by the trained model ({row[best]:.2f})")
        return (None if topic == "none" else topic), float(row[best])
    matches = taxonomy.match(p.body, p.prefixes) if p.has_words else {}
    if not matches and "topic_similarity" in predictions and p.has_words:
        # The embedding tier reads the topic descriptions when no cue word was used.
        row, ids = predictions["topic_similarity"][0][i], predictions["topic_similarity"][1]
        best = int(row.argmax())
        if row[best] >= TOPIC_SIMILARITY:
            explanation.append(f"topic {ids[best]}: close to its description ({row[best]:.2f})")
            return ids[best], float(row[best])
    if not matches:
        return None, 0.0
    order = {t: n for n, t in enumerate(taxonomy.ids)}
    topic = max(matches, key=lambda t: (len(matches[t]), -order[t]))
    total = sum(len(v) for v in matches.values())
    confidence = 0.4 + 0.5 * len(matches[topic]) / total
    explanation.append(f"topic {topic}: " + ", ".join(matches[topic][:4]))
    return topic, confidence


def _model_severity(
    i: int, predictions: Mapping[str, tuple[np.ndarray, tuple[str, ...]]]
) -> int | None:
    """The trained severity model's answer, or None where the rules decide (reading.py)."""
    if "severity" not in predictions:
        return None
    row, classes = predictions["severity"][0][i], predictions["severity"][1]
    try:
        return int(classes[int(row.argmax())])
    except ValueError:
        return 0
