"""The NAB-style scorer: early detection rewarded, misses and false alarms cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.listening.evaluation import STANDARD, normalised, score_series

T0 = datetime(2026, 3, 2, tzinfo=UTC)
STEP = timedelta(minutes=5)
TIMES = [T0 + STEP * i for i in range(2000)]
LABEL = TIMES[1000]  # its window is 200 steps: 900 to 1100


def test_a_detection_at_the_label_scores_about_0_85_of_a_perfect_one() -> None:
    score = score_series(TIMES, [LABEL], [LABEL], STANDARD)
    assert score.true_positives == 1 and score.false_positives == 0
    assert score.raw == pytest.approx(0.848, abs=0.01)
    assert normalised([score]) == pytest.approx(100 * 1.848 / 1.987, abs=0.5)


def test_later_detections_score_less_and_extra_ones_in_the_window_are_free() -> None:
    early = score_series(TIMES, [LABEL], [LABEL], STANDARD).raw
    late = score_series(TIMES, [LABEL], [TIMES[1080]], STANDARD).raw
    both = score_series(TIMES, [LABEL], [LABEL, TIMES[1050]], STANDARD).raw
    assert late < early == both


def test_misses_cost_one_and_false_alarms_a_ninth_ignoring_the_probation() -> None:
    nothing = score_series(TIMES, [LABEL], [], STANDARD)
    assert nothing.raw == -1 and normalised([nothing]) == 0
    noisy = score_series(TIMES, [LABEL], [TIMES[100], TIMES[500], LABEL], STANDARD)
    assert noisy.false_positives == 1  # TIMES[100] lies in the first 15%
    assert noisy.raw == pytest.approx(0.848 - 0.11, abs=0.01)
