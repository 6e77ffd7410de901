"""Phrase lexicons compiled to one regex each, run only when a text could match.

Running some thirty cue regexes over every post costs more than everything else in the fast
tier; most posts contain none of a lexicon's words. Each lexicon knows the first letters of
its cues' first words, and a post whose words start with none of them is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PREFIX = 3
_LEADING_LETTERS = re.compile(r"[a-z']+")
# A whole word of any script, as text.WORD_RE reads a post's words.
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def word_prefixes(words: Iterable[str]) -> frozenset[str]:
    """The gate keys of a post's (lower-cased) words: each word, and its first letters."""
    keys = set(words)
    keys.update(["<" + w[:PREFIX] for w in keys])
    return frozenset(keys)


class Lexicon:
    """Cues are literal phrases (``cancel*`` matches any ending) or ``re:`` regexes."""

    def __init__(self, cues: Iterable[str]) -> None:
        parts: list[str] = []
        gates: set[str] | None = set()
        for cue in cues:
            if cue.startswith("re:"):
                parts.append(cue[3:])
                gate = _gate(cue[3:].lower(), regex=True)
            elif cue.endswith("*"):
                parts.append(re.escape(cue[:-1].lower()) + r"\w*")
                gate = _literal_gate(cue[:-1].lower(), open_end=True)
            else:
                parts.append(re.escape(cue.lower()) + r"(?!\w)")
                gate = _literal_gate(cue.lower(), open_end=False)
            if gate is None or gates is None:
                gates = None
            else:
                gates.add(gate)
        source = r"(?<!\w)(?:" + "|".join(parts) + ")"
        self.pattern = re.compile(source, re.I)
        # The same cues over lower-cased ASCII text without re.I, which lets the regex engine
        # scan for the cues' first letters: several times faster. A lexicon with a capital
        # anywhere in its regex (\W, [A-Z] ...) stays case-blind.
        self._lower_pattern = None if _has_capital(source) else re.compile(source)
        self.gates = frozenset(gates) if gates is not None else None

    def findall(self, text: str, prefixes: frozenset[str] | None = None) -> list[str]:
        """Distinct cues found (lower-cased, in order), skipping texts that cannot match."""
        if prefixes is not None and self.gates is not None and self.gates.isdisjoint(prefixes):
            return []
        if self._lower_pattern is not None and text.isascii():
            return list(dict.fromkeys(self._lower_pattern.findall(text.lower())))
        return list(dict.fromkeys(h.lower() for h in self.pattern.findall(text)))


def _has_capital(source: str) -> bool:
    return any(ch.isupper() for ch in source)


def _literal_gate(phrase: str, *, open_end: bool) -> str | None:
    """Gate a phrase on its rarest-looking (longest) whole word: every match contains it."""
    words = [w for w in re.split(r"[\s-]+", phrase) if w]
    if not words:
        return None
    candidates = []
    for n, word in enumerate(words):
        if not _WORD.fullmatch(word):
            continue
        last = n == len(words) - 1
        if last and open_end and len(word) < PREFIX:
            continue  # "re*" may continue into any word
        candidates.append(word)
    if not candidates:
        return None
    best = max(candidates, key=len)
    if open_end and best == words[-1]:
        return "<" + best[:PREFIX]
    return best


def _gate(source: str, *, regex: bool = False) -> str | None:
    """The key every match's first word has, or None where that cannot be told cheaply."""
    match = _LEADING_LETTERS.match(source)
    if match is None:
        return None
    letters = match.group(0)
    following = source[len(letters) : len(letters) + 1]
    if regex and following and following in "?*{+[(|.":
        if following in "?*{":
            letters = letters[:-1]  # the last letter is optional
        return "<" + letters[:PREFIX] if len(letters) >= PREFIX else None
    if following and following not in " -":
        return "<" + letters[:PREFIX] if len(letters) >= PREFIX else None
    # A whole first word (followed by a space, a hyphen or nothing) is a word of the post.
    return letters
