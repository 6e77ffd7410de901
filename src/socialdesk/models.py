"""Every table of the product, imported in one place so the metadata is complete."""

from socialdesk.channels.inbox import RawEvent
from socialdesk.channels.models import (
    CallbackRequest,
    ChannelAccount,
    ChannelShift,
    DeadLetter,
    KbLink,
    OutboxItem,
)
from socialdesk.conversations.action_models import CaseEvent, Note, Notification, Snooze
from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.core.audit import AuditEvent
from socialdesk.core.db import Base
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskAssignment
from socialdesk.customers.models import Customer, Identity
from socialdesk.eventhooks.models import RelayCursor, WebhookDelivery, WebhookSubscription
from socialdesk.knowledge.models import CannedReply, KbArticle
from socialdesk.listening.models import (
    Alert,
    AlertDelivery,
    Incident,
    IncidentEvent,
    IncidentMessage,
    IncidentReply,
    ListeningMatch,
    ListeningRule,
)
from socialdesk.people.models import Team, TeamMember, User
from socialdesk.priority.models import WorkspacePolicy
from socialdesk.routing.models import RoutingNotification
from socialdesk.triage.models import TriageLabelRow, TriageModelRow, TriageResultRow
from socialdesk.web.api_tokens import ApiToken
from socialdesk.web.models import LoginAttempt, WebSession

__all__ = [
    "Alert",
    "AlertDelivery",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CallbackRequest",
    "CannedReply",
    "CaseEvent",
    "ChannelAccount",
    "ChannelShift",
    "Conversation",
    "Customer",
    "DeadLetter",
    "Identity",
    "Incident",
    "IncidentEvent",
    "IncidentMessage",
    "IncidentReply",
    "KbArticle",
    "KbLink",
    "ListeningMatch",
    "ListeningRule",
    "LoginAttempt",
    "Message",
    "Note",
    "Notification",
    "OutboxItem",
    "RawEvent",
    "RelayCursor",
    "RoutingNotification",
    "Snooze",
    "Task",
    "TaskAssignment",
    "Team",
    "TeamMember",
    "Thread",
    "TriageLabelRow",
    "TriageModelRow",
    "TriageResultRow",
    "User",
    "WebSession",
    "WebhookDelivery",
    "WebhookSubscription",
    "Workspace",
    "WorkspacePolicy",
]
