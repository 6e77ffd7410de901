"""Running window sums equal the sums recomputed from scratch, through gaps and rescaling."""

from __future__ import annotations

import random

import pytest

from socialdesk.listening.windows import ScanWindows


def test_running_sums_match_brute_force_sums() -> None:
    rng = random.Random(1)
    windows = ScanWindows([1, 3, 8, 20])
    xs: list[float] = []
    ms: list[float] = []
    for step in range(3_000):
        if step == 1_000:
            windows.clear()
            xs, ms = [], []
        if step == 2_000:
            windows.scale_m(1.5)
            ms = [m * 1.5 for m in ms]
        x, m = float(rng.randrange(20)), rng.uniform(0, 10)
        windows.push(x, m)
        xs.append(x)
        ms.append(m)
        for span, sx, sm, sm2 in windows.windows():
            assert sx == pytest.approx(sum(xs[-span:]), abs=1e-6)
            assert sm == pytest.approx(sum(ms[-span:]), rel=1e-9, abs=1e-6)
            assert sm2 == pytest.approx(sum(v * v for v in ms[-span:]), rel=1e-9, abs=1e-6)
        assert [s for s, *_ in windows.windows()] == [s for s in (1, 3, 8, 20) if s <= len(xs)]
