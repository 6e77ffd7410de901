"""The mark of tests that need the embedding tier (the optional `socialdesk[ml]` extra)."""

from __future__ import annotations

import pytest

from socialdesk.triage import embedding

needs_embedding = pytest.mark.skipif(
    not embedding.available(), reason=embedding.missing_reason() or "embedding tier missing"
)
