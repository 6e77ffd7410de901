"""Import replay files into a workspace, reporting and keeping every record it cannot read."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rich.progress import Progress

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.replay import Read, Rejected, read_file
from socialdesk.core.clock import as_utc
from socialdesk.ingest.pipeline import BULK_BATCH_SIZE, Pipeline

# Records are sorted by time within windows of this size, so that replies mostly meet
# their posts already stored, without holding a whole multi-million-row file in memory.
SORT_WINDOW = 50_000


@dataclass
class ImportSummary:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    rejects_path: Path | None = None
    unreadable: list[str] = field(default_factory=list)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def import_files(
    pipeline: Pipeline,
    workspace_id: int,
    files: Sequence[Path],
    *,
    fmt: str | None = None,
    rejects_path: Path | None = None,
    batch_size: int = BULK_BATCH_SIZE,
    progress: Progress | None = None,
    on_reject: Callable[[Rejected], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    rejects: IO[str] | None = None
    try:
        for path in files:
            if not path.is_file():
                summary.unreadable.append(f"{path}: no such file")
                continue
            try:
                outcomes = read_file(path, fmt)
            except ValueError as exc:
                summary.unreadable.append(str(exc))
                continue
            task = (
                progress.add_task(f"ingest {path.name}", total=_count_lines(path))
                if progress
                else None
            )
            window: list[InboundEvent] = []
            for outcome in outcomes:
                if isinstance(outcome, Read):
                    summary.read += 1
                    window.append(outcome.event)
                    if len(window) >= SORT_WINDOW:
                        _ingest_window(pipeline, workspace_id, window, batch_size, summary)
                        window = []
                else:
                    summary.rejected += 1
                    if rejects is None:
                        summary.rejects_path = rejects_path or path.with_name(
                            path.name + ".rejects.jsonl"
                        )
                        rejects = summary.rejects_path.open("w", encoding="utf-8")
                    rejects.write(json.dumps(outcome.as_record(), ensure_ascii=False) + "\n")
                    if on_reject:
                        on_reject(outcome)
                if progress is not None and task is not None:
                    progress.update(task, completed=getattr(outcome, "line", 0))
            _ingest_window(pipeline, workspace_id, window, batch_size, summary)
            if progress is not None and task is not None:
                progress.update(task, completed=progress.tasks[task].total)
    finally:
        if rejects is not None:
            rejects.close()
    return summary


def _ingest_window(
    pipeline: Pipeline,
    workspace_id: int,
    events: list[InboundEvent],
    batch_size: int,
    summary: ImportSummary,
) -> None:
    events.sort(key=lambda e: as_utc(e.created_at))
    for start in range(0, len(events), batch_size):
        accepted, processed = pipeline.ingest(
            workspace_id, events[start : start + batch_size], source="replay", batch_size=batch_size
        )
        summary.accepted += len(accepted.accepted)
        summary.duplicates += accepted.duplicates
        summary.failed += processed.failed
