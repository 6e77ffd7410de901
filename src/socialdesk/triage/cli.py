"""`socialdesk triage`: train, classify, evaluate, and manage model versions."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import get_settings
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import SocialdeskError
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.triage import io as tio
from socialdesk.triage import service
from socialdesk.triage.evaluation import evaluate, evaluate_folds, evaluate_split
from socialdesk.triage.fine_tuning import ProgressCallback
from socialdesk.triage.labels import TASKS, normalize_label

app = typer.Typer(
    help="Triage: what every message is, how the customer feels, whether it needs us.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
models_app = typer.Typer(help="Model versions per workspace.", no_args_is_help=True)
app.add_typer(models_app, name="models")

console = Console(stderr=True, soft_wrap=True, highlight=False)

WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (brand) slug")
]
TaskOption = Annotated[
    str, typer.Option("--task", "-t", help="kind, needs_response, sentiment, topic or severity")
]
MapOption = Annotated[
    str | None,
    typer.Option("--map", help="FILE_LABEL=LABEL,... onto socialdesk's labels; X= drops X rows"),
]
TierOption = Annotated[
    str | None,
    typer.Option(help="fast, or embedding (needs socialdesk[ml]); default: the workspace's"),
]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="csv or jsonl; by default from the file name")
]
FineTuneOption = Annotated[
    bool,
    typer.Option(
        "--fine-tune",
        help="Embedding tier: first fine-tune the encoder's top layers on the labels "
        "(minutes on a CPU; more accurate)",
    ),
]


@contextmanager
def _fine_tuning_progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress bar over the fine-tuning steps, when there are any."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("fine-tuning the encoder"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task("fine-tuning", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total)

        yield advance


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"error: {message}", markup=False)
    return typer.Exit(code)


@contextmanager
def _workspace(slug: str | None) -> Iterator[tuple[sessionmaker[Session], int]]:
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            workspace_id = ensure_workspace(session, slug or settings.default_workspace).id
        yield factory, workspace_id
    except SocialdeskError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()


# Past this many, skipped rows are counted rather than listed one by one.
MAX_REPORTED_ROWS = 50
_reported = {"rows": 0}


def _report_bad(bad: tio.BadRow) -> None:
    _reported["rows"] += 1
    if _reported["rows"] <= MAX_REPORTED_ROWS:
        console.print(f"skipped line {bad.line}: {bad.reason}", markup=False)


def _report_more() -> None:
    extra = _reported["rows"] - MAX_REPORTED_ROWS
    if extra > 0:
        console.print(f"... and {extra} more rows skipped", markup=False)
    _reported["rows"] = 0


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise _fail(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return task


def _read_labeled(
    path: str,
    fmt: str | None,
    task: str,
    text_column: str,
    label_column: str,
    mapping: str | None,
) -> tuple[list[str], list[str], int]:
    bad = 0

    def on_bad(row: tio.BadRow) -> None:
        nonlocal bad
        bad += 1
        _report_bad(row)

    texts: list[str] = []
    labels: list[str] = []
    _reported["rows"] = 0
    try:
        with tio.open_text(path) as stream:
            rows = tio.read_rows(stream, tio.detect_format(path, fmt))
            for _, text, label in tio.labeled(
                rows,
                text_column,
                label_column,
                tio.parse_map(mapping),
                lambda raw: normalize_label(task, raw),
                on_bad,
            ):
                texts.append(text)
                labels.append(label)
    except SocialdeskError as exc:
        raise _fail(str(exc)) from None
    _report_more()
    return texts, labels, bad


@app.command()
def train(
    file: Annotated[str, typer.Argument(help="CSV or JSONL file; - reads JSONL from stdin")],
    task: TaskOption = "kind",
    text_column: Annotated[str, typer.Option(help="Column holding the text")] = "text",
    label_column: Annotated[str, typer.Option(help="Column holding the label")] = "label",
    mapping: MapOption = None,
    fmt: FormatOption = None,
    from_history: Annotated[
        bool,
        typer.Option(
            "--from-history",
            help="A twcs-layout file: inbound messages the brand answered vs left alone "
            "teach needs_response (no labels needed)",
        ),
    ] = False,
    activate: Annotated[bool, typer.Option(help="Make the new version active")] = True,
    tier: TierOption = None,
    fine_tune: FineTuneOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a new model version from a labeled file plus every agent correction so far."""
    from socialdesk.triage.history import labels_from_history

    if from_history:
        task = "needs_response"
        _reported["rows"] = 0
        try:
            with tio.open_text(file) as stream:
                history = labels_from_history(
                    tio.read_rows(stream, tio.detect_format(file, fmt or "csv")), _report_bad
                )
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
        _report_more()
        examples = history.examples
        console.print(
            f"history: {history.answered} answered, {history.unanswered} left alone, "
            f"{history.unknown} with replies outside the file (left out)",
            markup=False,
        )
        source: dict[str, Any] = {"file": file, "from_history": True}
    else:
        _check_task(task)
        texts, labels, bad = _read_labeled(file, fmt, task, text_column, label_column, mapping)
        examples = list(zip(texts, labels, strict=True))
        source = {"file": file, "text_column": text_column, "label_column": label_column}
        if bad:
            source["skipped_rows"] = bad
    if not examples:
        raise _fail("no usable rows to learn from", 1)
    with _workspace(workspace) as (factory, workspace_id):
        try:
            with unit_of_work(factory) as session:
                added = service.import_labels(session, workspace_id, task, examples)
                with _fine_tuning_progress(fine_tune) as progress:
                    row = service.train(
                        session,
                        workspace_id,
                        task,
                        activate=activate,
                        tier=service.training_tier(session, workspace_id, tier, fine_tune),
                        fine_tune=fine_tune,
                        progress=progress,
                        training=source,
                    )
                label, version_id = row.label, row.id
                total = row.training.get("examples")
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
    typer.echo(
        f"trained {label} (id {version_id}) on {total} examples "
        f"({added} new from this file){' and activated it' if activate else ''}"
    )


@app.command()
def classify(
    file: Annotated[str, typer.Argument(help="CSV or JSONL file; - reads JSONL from stdin")],
    text_column: Annotated[str, typer.Option(help="Column holding the text")] = "text",
    fmt: FormatOption = None,
    tier: TierOption = None,
    workspace: WorkspaceOption = None,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000)] = 1000,
) -> None:
    """Triage every row: JSONL out, one line per input row with every field."""
    with _workspace(workspace) as (factory, workspace_id):
        with factory() as session:
            models = service.model_set(session, workspace_id, tier)
        from socialdesk.triage.classifier import triage_batch

        batch: list[tio.Row] = []

        def flush() -> None:
            results = triage_batch([r.fields[text_column] for r in batch], models)
            for row, result in zip(batch, results, strict=True):
                line: dict[str, Any] = {"line": row.line}
                for key in ("id", "tweet_id", "external_id"):
                    if key in row.fields:
                        line[key] = row.fields[key]
                line.update(result.to_dict())
                sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            batch.clear()

        _reported["rows"] = 0
        try:
            with tio.open_text(file) as stream:
                for row in tio.read_rows(stream, tio.detect_format(file, fmt)):
                    if isinstance(row, tio.BadRow):
                        _report_bad(row)
                        continue
                    if not isinstance(row.fields.get(text_column), str):
                        _report_bad(tio.BadRow(row.line, f"no text in column {text_column!r}"))
                        continue
                    batch.append(row)
                    if len(batch) >= batch_size:
                        flush()
                if batch:
                    flush()
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
        _report_more()


@app.command("evaluate")
def evaluate_command(
    file: Annotated[str, typer.Argument(help="Labeled CSV or JSONL file")],
    task: TaskOption = "sentiment",
    text_column: Annotated[str, typer.Option(help="Column holding the text")] = "text",
    label_column: Annotated[str, typer.Option(help="Column holding the gold label")] = "label",
    mapping: MapOption = None,
    fmt: FormatOption = None,
    model: Annotated[
        str | None,
        typer.Option(help="Model id (see `triage models list`) or zero-shot; default: active"),
    ] = None,
    train_fraction: Annotated[
        float | None,
        typer.Option(help="Train on this stratified part of the file, evaluate on the rest"),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(
            help="k-fold cross-validation: predict each stratified part with a model "
            "trained on the others (nothing is stored)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    tier: TierOption = None,
    fine_tune: FineTuneOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Per-class precision/recall/F1, macro-F1, accuracy, macro-recall and confusion matrix."""
    _check_task(task)
    if fine_tune and train_fraction is None:
        raise _fail("--fine-tune trains a model: give --train-fraction too")
    if folds is not None and (train_fraction is not None or fine_tune):
        raise _fail("--folds trains its own models: leave out --train-fraction and --fine-tune")
    texts, gold, bad = _read_labeled(file, fmt, task, text_column, label_column, mapping)
    if not texts:
        raise _fail("no usable rows to evaluate", 1)
    with _workspace(workspace) as (factory, workspace_id):
        with factory() as session:
            if fine_tune:
                tier = service.training_tier(session, workspace_id, tier, fine_tune)
            models = service.model_set(session, workspace_id, tier)
            models = _choose_model(session, workspace_id, models, task, model)
        try:
            if folds is not None:
                report = evaluate_folds(task, texts, gold, folds, models)
            elif train_fraction is not None:
                with _fine_tuning_progress(fine_tune) as progress:
                    report = evaluate_split(
                        task,
                        texts,
                        gold,
                        train_fraction,
                        models,
                        fine_tune=fine_tune,
                        progress=progress,
                    )
            else:
                report = evaluate(task, texts, gold, models)
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
    report["skipped_rows"] = bad
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_report(report)


def _choose_model(
    session: Session, workspace_id: int, models: Any, task: str, choice: str | None
) -> Any:
    from dataclasses import replace

    from socialdesk.triage import repository as repo
    from socialdesk.triage.linear import LinearModel

    if choice is None:
        return models
    if choice in ("zero-shot", "seed", "rules"):
        return replace(
            models,
            trained={k: v for k, v in models.trained.items() if k != task},
            versions={k: v for k, v in models.versions.items() if k != task},
        )
    try:
        row = repo.model_by_id(session, workspace_id, int(choice))
    except ValueError:
        row = next(
            (m for m in repo.models_of(session, workspace_id, task) if m.label == choice), None
        )
    if row is None or row.task != task:
        raise _fail(f"no {task} model {choice!r} in this workspace (see `triage models list`)")
    return replace(
        models,
        trained={**models.trained, task: LinearModel.from_bytes(row.blob)},
        versions={**models.versions, task: row.label},
    )


def _print_report(report: dict[str, Any]) -> None:
    out = Console(soft_wrap=True, highlight=False)
    out.print(
        f"task {report['task']}, model {report['model']}, {report['examples']} examples"
        + (f" (trained on {report['train_examples']})" if "train_examples" in report else "")
        + (
            f" ({report['folds']}-fold, mean fold macro-F1 {report['mean_fold_macro_f1']:.4f})"
            if "folds" in report
            else ""
        ),
        markup=False,
    )
    out.print(
        f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
        f"macro-recall {report['macro_recall']:.4f}",
        markup=False,
    )
    table = Table("label", "precision", "recall", "F1", "support")
    for label, row in report["per_class"].items():
        table.add_row(
            label,
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            str(row["support"]),
        )
    out.print(table)
    labels = report["labels"]
    matrix = Table("gold \\ predicted", *labels)
    for label, counts in zip(labels, report["confusion_matrix"], strict=True):
        matrix.add_row(label, *(str(c) for c in counts))
    out.print(matrix)


@models_app.command("list")
def models_list(
    task: Annotated[str | None, typer.Option("--task", "-t")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Every model version of the workspace; * marks the active ones."""
    with _workspace(workspace) as (factory, workspace_id), factory() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": m.id,
                "model": m.label,
                "task": m.task,
                "tier": m.tier,
                "version": m.version,
                "active": m.active,
                "classes": m.classes,
                "examples": m.training.get("examples"),
                "fine_tuned": bool(m.training.get("fine_tuned")),
                "created_at": m.created_at.isoformat(),
            }
            for m in service.list_models(session, workspace_id, task)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no trained models: the seed models and rules are in use")
        return
    table = Table("", "id", "model", "examples", "classes", "created")
    for r in rows:
        table.add_row(
            "*" if r["active"] else "",
            str(r["id"]),
            r["model"] + (" (fine-tuned)" if r["fine_tuned"] else ""),
            str(r["examples"]),
            ", ".join(r["classes"])[:60],
            r["created_at"][:19],
        )
    Console(soft_wrap=True, highlight=False).print(table)


@models_app.command("activate")
def models_activate(
    model_id: Annotated[int, typer.Argument(help="Model id (see `triage models list`)")],
    workspace: WorkspaceOption = None,
) -> None:
    """Make a model version the active one of its task."""
    with _workspace(workspace) as (factory, workspace_id):
        try:
            with unit_of_work(factory) as session:
                label = service.activate(session, workspace_id, model_id).label
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"{label} is active")


@models_app.command("rollback")
def models_rollback(
    task: Annotated[str, typer.Argument(help="kind, needs_response, sentiment, topic, severity")],
    workspace: WorkspaceOption = None,
) -> None:
    """Go back to the version before the active one (or to the seed models and rules)."""
    _check_task(task)
    with _workspace(workspace) as (factory, workspace_id):
        try:
            with unit_of_work(factory) as session:
                row = service.rollback(session, workspace_id, task)
                label = row.label if row is not None else None
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"{label} is active" if label else f"{task}: back to the seed models and rules")


@app.command()
def retrain(
    force: Annotated[bool, typer.Option(help="Retrain now, whatever the schedule")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Retrain tasks that have new labels (agent corrections) when the schedule says so."""
    with _workspace(workspace) as (factory, workspace_id), unit_of_work(factory) as session:
        labels = [m.label for m in service.retrain_if_due(session, workspace_id, force=force)]
    typer.echo("retrained " + ", ".join(labels) if labels else "nothing to retrain")


@app.command()
def configure(
    taxonomy: Annotated[
        str | None,
        typer.Option(help="telecom, retail, airline, utilities, insurance, public_sector"),
    ] = None,
    retrain_every_hours: Annotated[
        float | None, typer.Option(min=0.1, help="Scheduled retrain interval")
    ] = None,
    tier: TierOption = None,
    cascade: Annotated[
        str | None,
        typer.Option(
            help="Embedding tier: encode only texts whose fast-tier margin is under this band "
            "(0 to 1; 0 = fast tier answers alone), or 'always' to encode every text"
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Set the workspace's topic taxonomy, retrain schedule, tier and cascade band."""
    with _workspace(workspace) as (factory, workspace_id):
        try:
            with unit_of_work(factory) as session:
                values = service.configure(
                    session,
                    workspace_id,
                    taxonomy=taxonomy,
                    retrain_every_hours=retrain_every_hours,
                    tier=tier,
                    cascade=cascade,
                )
        except SocialdeskError as exc:
            raise _fail(str(exc)) from None
    typer.echo(json.dumps(values))
