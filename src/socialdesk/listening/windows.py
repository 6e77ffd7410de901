"""Running totals over the last k steps, for a few k at once, in constant time per step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


class ScanWindows:
    """The sums of ``x``, ``m`` and ``m**2`` over the last ``span`` steps for each span.

    A ring buffer keeps the longest span; each push adds the new step to every window and
    takes out the step that just left it. The sums are recomputed from the buffer now and
    then so rounding errors cannot build up on an endless stream.
    """

    __slots__ = ("_count", "_head", "_m", "_m2", "_pushes", "_sm", "_sm2", "_sx", "_x", "spans")

    def __init__(self, spans: Sequence[int]) -> None:
        self.spans = sorted(set(spans))
        if not self.spans or self.spans[0] < 1:
            raise ValueError("spans must be positive step counts")
        capacity = self.spans[-1]
        self._x = [0.0] * capacity
        self._m = [0.0] * capacity
        self._m2 = [0.0] * capacity
        self._sx = [0.0] * len(self.spans)
        self._sm = [0.0] * len(self.spans)
        self._sm2 = [0.0] * len(self.spans)
        self._head = 0
        self._count = 0
        self._pushes = 0

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        """Forget every step (after a gap in the data)."""
        for i in range(len(self.spans)):
            self._sx[i] = self._sm[i] = self._sm2[i] = 0.0
        self._head = self._count = 0

    def push(self, x: float, m: float) -> None:
        capacity = len(self._x)
        head, count = self._head, self._count
        m2 = m * m
        xs, ms, m2s = self._x, self._m, self._m2
        for i, span in enumerate(self.spans):
            if count >= span:
                leaving = (head - span) % capacity
                self._sx[i] += x - xs[leaving]
                self._sm[i] += m - ms[leaving]
                self._sm2[i] += m2 - m2s[leaving]
            else:
                self._sx[i] += x
                self._sm[i] += m
                self._sm2[i] += m2
        xs[head], ms[head], m2s[head] = x, m, m2
        self._head = (head + 1) % capacity
        self._count = min(count + 1, capacity)
        self._pushes += 1
        if self._pushes % (capacity * 64) == 0:
            self._resum()

    def windows(self) -> Iterator[tuple[int, float, float, float]]:
        """(span, sum of x, sum of m, sum of m squared) for every span already full."""
        for i, span in enumerate(self.spans):
            if self._count < span:
                return
            yield span, self._sx[i], self._sm[i], self._sm2[i]

    def scale_m(self, ratio: float) -> None:
        """Multiply every stored ``m`` by ``ratio`` (a baseline rescaled after the fact)."""
        self._m = [m * ratio for m in self._m]
        self._m2 = [m2 * ratio * ratio for m2 in self._m2]
        self._sm = [s * ratio for s in self._sm]
        self._sm2 = [s * ratio * ratio for s in self._sm2]

    def _resum(self) -> None:
        capacity = len(self._x)
        for i, span in enumerate(self.spans):
            take = min(span, self._count)
            idx = [(self._head - k - 1) % capacity for k in range(take)]
            self._sx[i] = sum(self._x[j] for j in idx)
            self._sm[i] = sum(self._m[j] for j in idx)
            self._sm2[i] = sum(self._m2[j] for j in idx)
