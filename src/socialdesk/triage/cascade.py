"""The embedding tier as a confidence cascade: the fast tier answers what it is sure of.

A classifier cascade (Viola and Jones, 2001), or confidence-based early exit: every text is
read by the fast tier anyway, and only the texts on which one of the fast tier's models is
doubtful go on to the MiniLM encoder and the embedding tier's models. Doubt is the margin
between the two most probable labels of the fast tier's answer, for each task whose answer
the encoder would change; a text is encoded when any of them falls under the band. The
fast tier's answer and the margin depend on the text alone, so a text gets the same answer
whatever batch it is in. Pure: probability rows in, margins and row numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# A text is encoded when a fast-tier margin (top probability minus the next) is under this.
# Chosen on the dev half of the public sets (benchmarks/calibrate_cascade.py): the smallest
# band whose day-one figures stay within 0.005 of the embedding tier's on every set.
DEFAULT_BAND = 0.3
# The setting's word for encoding every text (the embedding tier before the cascade).
ALWAYS = "always"


def margins(rows: np.ndarray) -> np.ndarray:
    """The top probability minus the next, per row (1 where a row has one column)."""
    if rows.shape[1] < 2:
        return np.ones(rows.shape[0])
    top_two = np.partition(rows, -2, axis=1)[:, -2:]
    out: np.ndarray = top_two[:, 1] - top_two[:, 0]
    return out


def least_margins(rows_by_task: Mapping[str, np.ndarray], count: int) -> np.ndarray:
    """Each text's smallest margin over the tasks (infinite where no task is given)."""
    out = np.full(count, np.inf)
    for rows in rows_by_task.values():
        out = np.minimum(out, margins(rows))
    return out


def doubtful(least: np.ndarray, band: float | None) -> np.ndarray:
    """The row numbers to encode: those whose smallest margin is under the band; every row
    where the band is None (always encode)."""
    if band is None:
        return np.arange(len(least))
    return np.flatnonzero(least < band)


def parse_band(value: object) -> float | None:
    """A band setting as stored: "always" (None: encode every text) or a margin in [0, 1]
    (0: the fast tier answers alone)."""
    if value == ALWAYS:
        return None
    if value is None:
        return DEFAULT_BAND
    if isinstance(value, bool):
        raise ValueError(f"cascade band must be {ALWAYS!r} or a number in [0, 1], not {value!r}")
    try:
        band = float(str(value))
    except ValueError:
        raise ValueError(
            f"cascade band must be {ALWAYS!r} or a number in [0, 1], not {value!r}"
        ) from None
    if not 0.0 <= band <= 1.0:
        raise ValueError(f"cascade band must be {ALWAYS!r} or a number in [0, 1], not {value!r}")
    return band
