"""Every table of the product, imported in one place so the metadata is complete."""

from socialdesk.channels.models import (
    CallbackRequest,
    ChannelAccount,
    ChannelShift,
    DeadLetter,
    KbLink,
    OutboxItem,
)
from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.core.db import Base
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer, Identity
from socialdesk.ingest.models import RawEvent
from socialdesk.priority.models import WorkspacePolicy
from socialdesk.routing.models import (
    RoutingNotification,
    Task,
    TaskAssignment,
    Team,
    TeamMember,
    User,
)
from socialdesk.triage.models import TriageLabelRow, TriageModelRow, TriageResultRow

__all__ = [
    "Base",
    "CallbackRequest",
    "ChannelAccount",
    "ChannelShift",
    "Conversation",
    "Customer",
    "DeadLetter",
    "Identity",
    "KbLink",
    "Message",
    "OutboxItem",
    "RawEvent",
    "RoutingNotification",
    "Task",
    "TaskAssignment",
    "Team",
    "TeamMember",
    "Thread",
    "TriageLabelRow",
    "TriageModelRow",
    "TriageResultRow",
    "User",
    "Workspace",
    "WorkspacePolicy",
]
