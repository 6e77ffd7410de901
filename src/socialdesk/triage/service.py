"""Triage for a workspace: classify and store, learn from labels, manage model versions.

Services flush; whoever owns the unit of work commits.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.core import audit
from socialdesk.core.bulk import JsonText
from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.triage import repository as repo
from socialdesk.triage.cascade import parse_band
from socialdesk.triage.classifier import ModelSet, read_texts
from socialdesk.triage.embedding import EMBEDDING
from socialdesk.triage.embedding import available as embedding_available
from socialdesk.triage.embedding import missing_reason as embedding_missing_reason
from socialdesk.triage.fine_tuning import ProgressCallback
from socialdesk.triage.labels import KIND_ROUTES, TASKS, normalize_label
from socialdesk.triage.linear import LinearModel
from socialdesk.triage.memo import MEMO
from socialdesk.triage.models import TriageModelRow
from socialdesk.triage.result import MessageContext, TriageResult
from socialdesk.triage.taxonomies import taxonomy_for_sector, taxonomy_from_settings
from socialdesk.triage.training import Example, train_linear

FAST = "fast"
# An agent's correction outweighs an imported row: it is this brand, judged by its own people.
AGENT_LABEL_WEIGHT = 3.0
REPEAT_WINDOW = timedelta(days=7)

_cache_lock = Lock()
_model_cache: dict[tuple[int, str], tuple[tuple[Any, ...], ModelSet]] = {}


def triage_settings(session: Session, workspace_id: int) -> dict[str, Any]:
    return dict(repo.workspace_settings(session, workspace_id).get("triage") or {})


def configure(session: Session, workspace_id: int, **values: Any) -> dict[str, Any]:
    """Set triage settings of a workspace (taxonomy, retrain_every_hours, tier, cascade)."""
    if values.get("tier") not in (None, FAST, EMBEDDING):
        raise InvalidInput(f"unknown tier {values['tier']!r}: use fast or embedding")
    if values.get("cascade") is not None:
        try:
            band = parse_band(values["cascade"])
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        values["cascade"] = "always" if band is None else band
    settings = repo.workspace_settings(session, workspace_id)
    before = dict(settings.get("triage") or {})
    triage = before | {k: v for k, v in values.items() if v is not None}
    settings["triage"] = triage
    taxonomy_from_settings(settings)  # rejects an unknown taxonomy before it is stored
    repo.set_workspace_settings(session, workspace_id, settings)
    old, new = audit.changed(before, triage)
    if new:
        action = "taxonomy.updated" if "taxonomy" in new else "triage.configured"
        audit.record(
            session, workspace_id, None, action, "workspace", workspace_id, before=old, after=new
        )
    session.flush()
    return triage


def configure_sector(session: Session, workspace_id: int, sector: str) -> str:
    """Give a workspace its sector's topic taxonomy unless it has chosen one; returns the
    taxonomy in force."""
    triage = triage_settings(session, workspace_id)
    if "taxonomy" in triage:
        current = triage["taxonomy"]
        return current if isinstance(current, str) else str(current.get("name", "custom"))
    name = taxonomy_for_sector(sector)
    configure(session, workspace_id, taxonomy=name)
    return name


def model_set(session: Session, workspace_id: int, tier: str | None = None) -> ModelSet:
    """The workspace's taxonomy and active models; weights are loaded once per version.

    The tier is the workspace's ``triage.tier`` setting unless given; the embedding tier
    falls back to the fast one where socialdesk[ml] is not installed.
    """
    settings = repo.workspace_settings(session, workspace_id)
    wanted = tier or str((settings.get("triage") or {}).get("tier") or FAST)
    if wanted == EMBEDDING and not embedding_available():
        if tier == EMBEDDING:
            raise InvalidInput(embedding_missing_reason() or "embedding tier unavailable")
        wanted = FAST
    tiers = (FAST,) if wanted == FAST else (FAST, EMBEDDING)
    active = [sorted(repo.active_models(session, workspace_id, t)) for t in tiers]
    triage = settings.get("triage") or {}
    key = (
        tuple(tuple(a) for a in active),
        repr(triage.get("taxonomy")),
        repr(triage.get("cascade")),
    )
    with _cache_lock:
        cached = _model_cache.get((workspace_id, wanted))
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        band = parse_band(triage.get("cascade"))
    except ValueError:
        band = None  # a band stored by hand that cannot be read: encode every text, as before
    models = ModelSet(taxonomy=taxonomy_from_settings(settings), tier=wanted, cascade_band=band)
    for tier_active in active:  # embedding-tier versions override fast ones of the same task
        for model_id, task, _, _ in tier_active:
            row = repo.model_by_id(session, workspace_id, model_id)
            if row is None:
                continue
            models.trained[task] = LinearModel.from_bytes(row.blob)
            models.versions[task] = row.label
    with _cache_lock:
        _model_cache[(workspace_id, wanted)] = (key, models)
    return models


def training_tier(
    session: Session, workspace_id: int, tier: str | None, fine_tune: bool = False
) -> str:
    """The tier a new model is trained for: the one asked for, the embedding tier when the
    encoder is to be fine-tuned, else the workspace's (fast where socialdesk[ml] is missing)."""
    if fine_tune:
        if tier not in (None, EMBEDDING):
            raise InvalidInput("fine-tuning is for the embedding tier, not the fast one")
        return EMBEDDING
    if tier is not None:
        return tier
    settings = repo.workspace_settings(session, workspace_id)
    wanted = str((settings.get("triage") or {}).get("tier") or FAST)
    return wanted if wanted == FAST or embedding_available() else FAST


def triage_texts(
    session: Session,
    workspace_id: int,
    texts: Sequence[str | None],
    contexts: Sequence[MessageContext] | None = None,
    tier: str | None = None,
) -> list[TriageResult]:
    return MEMO.triage(texts, model_set(session, workspace_id, tier), contexts, read_texts)


def read_ahead(
    session: Session, workspace_id: int, texts: Sequence[str | None], tier: str | None = None
) -> None:
    """Read texts into the reading memory (``MEMO``), so that ``triage_texts`` answers them
    from there: a caller can do the reading before it takes any lock."""
    MEMO.read(texts, model_set(session, workspace_id, tier), read_texts)


def store_results(
    session: Session,
    workspace_id: int,
    results: Iterable[tuple[int, TriageResult]],
    now: datetime,
) -> None:
    # A batch's results share their model versions: each distinct set is encoded once.
    encoded: dict[tuple[tuple[str, str], ...], JsonText] = {}

    def versions(r: TriageResult) -> JsonText:
        key = tuple(r.model_versions.items())
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = JsonText(
                json.dumps(r.model_versions, ensure_ascii=False, separators=(",", ":"))
            )
        return text

    rows = [
        {
            "workspace_id": workspace_id,
            "message_id": message_id,
            "kind": r.kind,
            "kind_confidence": r.kind_confidence,
            "needs_response": r.needs_response,
            "route_to": r.route_to,
            "sentiment_label": r.sentiment,
            "sentiment_score": r.sentiment_score,
            "sentiment_confidence": r.sentiment_confidence,
            "topic": r.topic,
            "topic_confidence": r.topic_confidence,
            "language": r.language,
            "language_confidence": r.language_confidence,
            "severity": r.severity,
            "signals": r.signals,
            "explanation": r.explanation,
            "model_versions": versions(r),
            "tier": r.tier,
            "corrected": False,
            "created_at": now,
            "updated_at": now,
        }
        for message_id, r in results
    ]
    repo.replace_results(session, workspace_id, rows)
    session.flush()


def answered_conversations(
    session: Session, workspace_id: int, conversation_ids: set[int]
) -> set[int]:
    """The conversations in which the brand has already written."""
    return repo.answered_conversations(session, workspace_id, conversation_ids)


def earlier_contacts(
    session: Session,
    workspace_id: int,
    messages: Sequence[tuple[int, int | None, datetime]],
    window: timedelta = REPEAT_WINDOW,
) -> dict[int, int]:
    """Per message id: the customer's inbound messages in the window before it."""
    dated = [(mid, cid, as_utc(at)) for mid, cid, at in messages if cid is not None]
    if not dated:
        return {}
    earliest = min(at for _, _, at in dated) - window
    latest = max(at for _, _, at in dated)
    history = repo.earlier_inbound_times(
        session,
        workspace_id,
        {cid for _, cid, _ in dated if cid is not None},
        earliest,
        latest,
        {mid for mid, _, _ in dated},
    )
    history.extend((cid, at) for _, cid, at in dated if cid is not None)
    times: dict[int, list[datetime]] = {}
    for cid, at in history:
        times.setdefault(cid, []).append(as_utc(at))
    for series in times.values():
        series.sort()
    counts: dict[int, int] = {}
    for mid, cid, at in dated:
        series = times.get(cid, []) if cid is not None else []
        counts[mid] = bisect_left(series, at) - bisect_left(series, at - window)
    return counts


# Corrections -------------------------------------------------------------------------------


def relabel(
    session: Session,
    workspace_id: int,
    message_id: int,
    task: str,
    label: str,
    *,
    user_id: int | None = None,
    clock: Clock = utcnow,
) -> str:
    """An agent's correction: stored as a label for the next training and shown at once."""
    value = normalize_label(task, label)
    text = repo.message_text(session, workspace_id, message_id)
    if text is None:
        raise NotFound(f"no message {message_id} in this workspace")
    now = clock()
    repo.upsert_labels(
        session,
        workspace_id,
        [
            {
                "task": task,
                "key": f"msg:{message_id}",
                "label": value,
                "text": text,
                "source": "agent",
                "message_id": message_id,
                "created_by": user_id,
                "created_at": now,
            }
        ],
    )
    result = repo.result_of_message(session, workspace_id, message_id)
    if result is not None:
        _apply_correction(result, task, value)
        result.corrected = True
        result.updated_at = now
        result.explanation = [*result.explanation, f"{task} set to {value} by an agent"]
    session.flush()
    return value


def _apply_correction(result: Any, task: str, value: str) -> None:
    if task == "kind":
        result.kind = value
        result.kind_confidence = 1.0
        result.route_to = KIND_ROUTES.get(value, "none")
    elif task == "sentiment":
        result.sentiment_label = value
        result.sentiment_confidence = 1.0
    elif task == "topic":
        result.topic = value
        result.topic_confidence = 1.0
    elif task == "severity":
        result.severity = int(value)
    elif task == "needs_response":
        result.needs_response = 1.0 if value == "yes" else 0.0


def dismiss_as_noise(
    session: Session,
    workspace_id: int,
    message_id: int,
    *,
    user_id: int | None = None,
    clock: Clock = utcnow,
) -> None:
    """Not for care: chatter or spam that should not have opened a task."""
    relabel(session, workspace_id, message_id, "kind", "other", user_id=user_id, clock=clock)
    relabel(session, workspace_id, message_id, "needs_response", "no", user_id=user_id, clock=clock)


def mark_as_marketing(
    session: Session,
    workspace_id: int,
    message_id: int,
    *,
    user_id: int | None = None,
    clock: Clock = utcnow,
) -> None:
    """Meant for marketing: routed there, and learnt as such."""
    relabel(session, workspace_id, message_id, "kind", "marketing", user_id=user_id, clock=clock)
    relabel(session, workspace_id, message_id, "needs_response", "no", user_id=user_id, clock=clock)


# Training and versions ---------------------------------------------------------------------


def import_labels(
    session: Session,
    workspace_id: int,
    task: str,
    examples: Iterable[tuple[str, str]],
    *,
    clock: Clock = utcnow,
) -> int:
    """Store labeled rows of a file as training labels; returns how many were new."""
    now = clock()
    rows = []
    for text, label in examples:
        value = normalize_label(task, label)
        digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()
        rows.append(
            {
                "task": task,
                "key": f"txt:{digest}",
                "label": value,
                "text": text,
                "source": "import",
                "message_id": None,
                "created_by": None,
                "created_at": now,
            }
        )
    added = repo.upsert_labels(session, workspace_id, rows)
    session.flush()
    return added


def training_examples(session: Session, workspace_id: int, task: str) -> list[Example]:
    return [
        Example(
            text=row.text,
            label=row.label,
            weight=AGENT_LABEL_WEIGHT if row.source == "agent" else 1.0,
        )
        for row in repo.labels_of(session, workspace_id, task)
    ]


def train(
    session: Session,
    workspace_id: int,
    task: str,
    *,
    activate: bool = True,
    tier: str = FAST,
    fine_tune: bool = False,
    progress: ProgressCallback | None = None,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    clock: Clock = utcnow,
) -> TriageModelRow:
    """Train a new version of a task's model on every label the workspace has for it; with
    ``fine_tune`` (embedding tier) the encoder's top layers learn the task first."""
    if task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if tier not in (FAST, EMBEDDING):
        raise InvalidInput(f"unknown tier {tier!r}: use fast or embedding")
    if tier == EMBEDDING and not embedding_available():
        raise InvalidInput(embedding_missing_reason() or "embedding tier unavailable")
    examples = training_examples(session, workspace_id, task)
    model = train_linear(
        task, examples, embeddings=tier == EMBEDDING, fine_tune=fine_tune, progress=progress
    )
    return save_model(
        session,
        workspace_id,
        model,
        activate=activate,
        tier=tier,
        training={
            "examples": len(examples),
            "agent_labels": sum(1 for e in examples if e.weight > 1.0),
            "fine_tuned": fine_tune,
            **(training or {}),
        },
        metrics=metrics,
        clock=clock,
    )


def save_model(
    session: Session,
    workspace_id: int,
    model: LinearModel,
    *,
    activate: bool,
    tier: str = FAST,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    clock: Clock = utcnow,
) -> TriageModelRow:
    now = clock()
    version = repo.next_version(session, workspace_id, model.task, tier)
    if activate:
        repo.deactivate(session, workspace_id, model.task, tier)
    row = repo.add_model(
        session,
        TriageModelRow(
            workspace_id=workspace_id,
            task=model.task,
            tier=tier,
            version=version,
            classes=list(model.classes),
            blob=model.to_bytes(),
            metrics=metrics or {},
            training=training or {},
            active=activate,
            created_at=now,
            activated_at=now if activate else None,
        ),
    )
    return row


def list_models(
    session: Session, workspace_id: int, task: str | None = None
) -> list[TriageModelRow]:
    return repo.models_of(session, workspace_id, task)


def activate(
    session: Session, workspace_id: int, model_id: int, *, clock: Clock = utcnow
) -> TriageModelRow:
    row = repo.model_by_id(session, workspace_id, model_id)
    if row is None:
        raise NotFound(f"no triage model {model_id} in this workspace")
    repo.deactivate(session, workspace_id, row.task, row.tier)
    row.active = True
    row.activated_at = clock()
    session.flush()
    return row


def deactivate_task(session: Session, workspace_id: int, task: str, tier: str = FAST) -> None:
    """Back to the seed models and rules for this task."""
    repo.deactivate(session, workspace_id, task, tier)
    session.flush()


def rollback(
    session: Session, workspace_id: int, task: str, tier: str = FAST, *, clock: Clock = utcnow
) -> TriageModelRow | None:
    """Activate the version before the active one; None means back to seed models and rules."""
    versions = [m for m in repo.models_of(session, workspace_id, task) if m.tier == tier]
    current = next((m for m in versions if m.active), None)
    if current is None:
        raise InvalidInput(f"no active {task} model to roll back")
    earlier = [m for m in versions if m.version < current.version]
    if not earlier:
        deactivate_task(session, workspace_id, task, tier)
        return None
    return activate(session, workspace_id, earlier[-1].id, clock=clock)


def retrain_if_due(
    session: Session, workspace_id: int, *, force: bool = False, clock: Clock = utcnow
) -> list[TriageModelRow]:
    """Retrain each task with labels newer than its active model, when the schedule says so.

    ``retrain_every_hours`` in the workspace's triage settings sets the schedule; without
    it only ``force`` retrains. The fast tier is always retrained; an active embedding-tier
    model is retrained too (fine-tuned again if it was), where socialdesk[ml] is installed.
    """
    settings = triage_settings(session, workspace_id)
    every = settings.get("retrain_every_hours")
    if every is None and not force:
        return []
    interval = timedelta(hours=float(every)) if every is not None else timedelta(0)
    now = clock()
    trained: list[TriageModelRow] = []
    for task in TASKS:
        versions = repo.models_of(session, workspace_id, task)
        for tier in (FAST, EMBEDDING):
            current = next((m for m in versions if m.active and m.tier == tier), None)
            if tier == EMBEDDING and (current is None or not embedding_available()):
                continue
            since = as_utc(current.created_at) if current is not None else None
            if not force and since is not None and now - since < interval:
                continue
            new_labels = repo.label_counts_since(session, workspace_id, since).get(task, 0)
            if new_labels == 0:
                continue
            try:
                trained.append(
                    train(
                        session,
                        workspace_id,
                        task,
                        tier=tier,
                        fine_tune=bool(current is not None and current.training.get("fine_tuned")),
                        training={"source": "scheduled retrain", "new_labels": new_labels},
                        clock=clock,
                    )
                )
            except InvalidInput:
                continue  # too few labels, or a single label: wait for more corrections
    return trained
