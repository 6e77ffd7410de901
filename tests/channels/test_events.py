"""The normalized inbound event's engagement counts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from socialdesk.channels.events import Metrics
from tests.ingest.factories import event


def test_metrics_compare_and_hash_by_their_counts() -> None:
    assert Metrics(likes=2) == Metrics(likes=2)
    assert Metrics(likes=2) != Metrics(likes=2, reposts=1)
    assert Metrics() != {"likes": 0}
    assert len({Metrics(likes=2), Metrics(likes=2), Metrics()}) == 2


def test_events_without_counts_share_empty_counts_that_cannot_be_changed() -> None:
    quiet, other = event("1"), event("2")
    assert quiet.metrics == Metrics() and quiet.metrics is other.metrics
    with pytest.raises(ValidationError, match="frozen"):
        quiet.metrics.likes = 3  # type: ignore[misc]
    assert other.metrics.likes == 0
