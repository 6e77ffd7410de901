import platform
from pathlib import Path

import pytest

from socialdesk.core import heap


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_trimming_hands_the_freed_middle_of_the_heap_back() -> None:
    # 120 MB in 2 KB blocks (each its own malloc), every 64th kept: the freed memory lies
    # between live blocks, where glibc keeps it (nothing free at the top to cut off).
    blocks = [bytearray(2048) for _ in range(60_000)]
    for block in blocks:
        block[::512] = b"\x01\x01\x01\x01"  # touched, so resident
    kept = blocks[::64]
    del blocks
    before = _rss_mb()
    assert heap.trim_heap() is True
    after = _rss_mb()
    assert before - after > 50, (before, after)
    assert len(kept) == 938


def test_trimming_now_and_then_waits_its_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def trim() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(heap, "trim_heap", trim)
    monkeypatch.setattr(heap, "_last", [float("-inf")])
    assert heap.trim_heap_now_and_then(every=3600) is True
    assert heap.trim_heap_now_and_then(every=3600) is False
    assert heap.trim_heap_now_and_then(every=0) is True
    assert len(calls) == 2
