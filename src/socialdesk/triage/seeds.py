"""Seed examples written for socialdesk, so a fresh install triages sensibly on day one.

Every line was written for this project (none comes from a public data set). They live in
``seed_data/``, one file per language (English split by kind), each line
``kind|sentiment|text``; ``#`` starts a comment. needs_response follows from the kind. The
files cover complaints in many sectors (some phrased as questions or in sarcasm), questions,
requests, praise and thanks, suggestions, sales leads, marketing, spam and everyday chatter,
with hard negatives: chatter about traffic or the weather is not a complaint to the brand,
thanks with a typo is still praise, a business moving its lines over is a sales lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from socialdesk.triage.labels import KIND_RESPONSE_PRIOR, KINDS, SENTIMENTS

SEED_PACKAGE = "socialdesk.triage.seed_data"


@dataclass(frozen=True, slots=True)
class Seed:
    text: str
    kind: str
    sentiment: str
    language: str = "en"

    @property
    def needs_response(self) -> str:
        return "yes" if KIND_RESPONSE_PRIOR[self.kind] >= 0.5 else "no"


def parse_seeds(source: str, language: str, name: str = "seeds") -> list[Seed]:
    """The seeds of one file; a malformed line is an error naming the file and line."""
    seeds = []
    for number, line in enumerate(source.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("|", 2)
        if len(parts) != 3 or parts[0] not in KINDS or parts[1] not in SENTIMENTS:
            raise ValueError(f"{name}:{number}: expected kind|sentiment|text, got {line!r}")
        seeds.append(
            Seed(text=parts[2].strip(), kind=parts[0], sentiment=parts[1], language=language)
        )
    return seeds


@lru_cache(maxsize=1)
def _all_seeds() -> tuple[Seed, ...]:
    seeds: list[Seed] = []
    files = sorted(
        (f for f in resources.files(SEED_PACKAGE).iterdir() if f.name.endswith(".txt")),
        key=lambda f: f.name,
    )
    for file in files:
        language = file.name.removesuffix(".txt").split("_", 1)[0]
        seeds.extend(parse_seeds(file.read_text(encoding="utf-8"), language, file.name))
    return tuple(seeds)


def seed_examples() -> list[Seed]:
    """Every seed, in a fixed order (file name, then line)."""
    return list(_all_seeds())


@lru_cache(maxsize=1)
def seed_languages() -> frozenset[str]:
    """The languages the day-one models have seeds in, so can read."""
    return frozenset(s.language for s in _all_seeds())
