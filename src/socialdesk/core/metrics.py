"""Prometheus metrics that every process counts (prometheus-client, the official client).

Counters and histograms live in the process that does the work: the web process serves them
on ``/metrics``, a worker on its own port (``socialdesk worker --metrics-port``). Gauges about
shared state (stream lag, pending ages, the outbox) are read from Redis and the database when
``/metrics`` is scraped (``socialdesk.web.metrics``).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_ACCEPTED = Counter(
    "socialdesk_events_accepted", "Inbound events stored (duplicates excluded)", ["source"]
)
EVENTS_PROCESSED = Counter("socialdesk_events_processed", "Stored events turned into messages")
EVENTS_FAILED = Counter("socialdesk_events_failed", "Stored events whose processing failed")
DISTRIBUTION_SECONDS = Histogram(
    "socialdesk_distribution_latency_seconds",
    "From a task entering a routing engine's view (opened, freed, announced) to its assignment",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
SLA_WARNINGS = Counter("socialdesk_sla_warnings", "Tasks that reached an SLA warning moment")
SLA_BREACHES = Counter("socialdesk_sla_breaches", "Tasks that breached their SLA")
REQUEST_SECONDS = Histogram(
    "socialdesk_http_request_duration_seconds",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
