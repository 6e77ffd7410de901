"""What one batch of processing holds: the records it builds and writes back in bulk.

The stages of a batch (identify, thread, open the task, persist) are mixins of
``BatchState``, combined by ``socialdesk.ingest.batch.BatchProcessor``: they share these
records and every lookup is one bulk query per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from socialdesk.channels.events import InboundEvent
from socialdesk.core.bulk import datetime_converter

if TYPE_CHECKING:
    from socialdesk.ingest.pipeline import Pipeline


@dataclass
class ProcessResult:
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    tasks_changed: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class ConvState:
    """A conversation as the batch sees it, new or loaded, written back in bulk."""

    id: int | None
    customer_id: int | None
    channel: str
    status: str
    message_count: int
    first_message_at: datetime
    last_message_at: datetime
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    resolved_at: datetime | None
    subject: str = ""
    dirty: bool = False


@dataclass(slots=True)
class ThreadState:
    id: int | None
    key: str
    channel: str
    visibility: str
    conv: ConvState


@dataclass(slots=True)
class MsgState:
    raw_id: int
    event: InboundEvent
    direction: str
    author_identity_id: int
    customer_id: int | None
    thread: ThreadState
    at: datetime  # event.created_at in UTC
    id: int | None = None


@dataclass(slots=True)
class PartyState:
    identity_id: int
    customer_id: int | None
    is_brand: bool


class BatchState:
    """The state of processing one batch; every lookup is one bulk query per batch."""

    # Set by the stages as the batch goes: thread keys of stored messages by external id
    # (per channel), the threads and open cases the batch knows, and what it creates.
    known: dict[str, dict[str, str]]
    threads: dict[tuple[str, str], ThreadState]
    open_case_of: dict[int, ConvState]
    merges: list[tuple[ConvState, ConvState]]
    new_convs: list[ConvState]
    new_threads: list[ThreadState]

    def __init__(self, pipeline: Pipeline, session: Session, workspace_id: int) -> None:
        self.p = pipeline
        self.session = session
        self.ws = workspace_id
        self.now = pipeline.clock()
        self.to_db = datetime_converter(session)
        self.now_db = self.to_db(self.now)
        self.convs: dict[int, ConvState] = {}
        self.new_customer_ids: set[int] = set()


def written_id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row used before it was written")
    return value
