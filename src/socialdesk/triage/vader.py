"""VADER's ``polarity_scores``, step for step, without its repeated per-word Python.

vaderSentiment (3.3) walks a text's characters one by one in Python to replace emoji, and
for every lexicon word lower-cases the whole text's word list three to five times over
(negation, idiom and "least" checks). Triage reads every post with VADER, so that was most
of its sentiment time. Here the emoji found by one set
lookup are replaced, each word is
lower-cased once, and a word outside the lexicon scores 0 at once; every rule, its order
and its arithmetic are VADER's own (tests hold the scores to ``polarity_scores``).
"""

from __future__ import annotations

from typing import Any

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentiText,
    scalar_inc_dec,
)

_NEGATE = frozenset(NEGATE)


def emoji_of(analyzer: Any) -> frozenset[str]:
    """The characters VADER's emoji step replaces: the single-character keys of its emoji
    lexicon (it compares the text character by character)."""
    return frozenset(k for k in analyzer.emojis if len(k) == 1)


def _described(text: str, present: frozenset[str], descriptions: dict[str, str]) -> str:
    """VADER's emoji step: each emoji becomes its description, after a space unless it
    opens the text or follows a space (another emoji's description counts as no space)."""
    places: list[tuple[int, str]] = []
    for character in present:
        at = text.find(character)
        while at >= 0:
            places.append((at, character))
            at = text.find(character, at + 1)
    places.sort()
    pieces: list[str] = []
    done = 0
    for at, character in places:
        pieces.append(text[done:at])
        if at > 0 and text[at - 1] != " ":
            pieces.append(" ")
        pieces.append(descriptions[character])
        done = at + 1
    pieces.append(text[done:])
    return "".join(pieces)


def polarity_scores(analyzer: Any, emoji: frozenset[str], text: str) -> dict[str, float]:
    """What ``analyzer.polarity_scores(text)`` gives; ``emoji`` is ``emoji_of(analyzer)``."""
    present = emoji.intersection(text)
    if present:
        text = _described(text, present, analyzer.emojis)
    text = text.strip()
    sentitext = SentiText(text)
    words = sentitext.words_and_emoticons
    lowered = [w.lower() for w in words]
    lexicon = analyzer.lexicon
    is_cap_diff = sentitext.is_cap_diff
    sentiments: list[float] = []
    last = len(words) - 1
    for i, lower in enumerate(lowered):
        kind_of = i < last and lower == "kind" and lowered[i + 1] == "of"
        if lower in BOOSTER_DICT or lower not in lexicon or kind_of:
            sentiments.append(0)
        else:
            sentiments.append(_valence(lexicon, words, lowered, i, is_cap_diff))
    sentiments = analyzer._but_check(words, sentiments)
    result: dict[str, float] = analyzer.score_valence(sentiments, text)
    return result


def _valence(
    lexicon: dict[str, float], words: list[str], lowered: list[str], i: int, is_cap_diff: bool
) -> float:
    """SentimentIntensityAnalyzer.sentiment_valence for a lexicon word."""
    item, lower = words[i], lowered[i]
    valence = lexicon[lower]
    if lower == "no" and i != len(words) - 1 and lowered[i + 1] in lexicon:
        valence = 0.0
    if (
        (i > 0 and lowered[i - 1] == "no")
        or (i > 1 and lowered[i - 2] == "no")
        or (i > 2 and lowered[i - 3] == "no" and lowered[i - 1] in ("or", "nor"))
    ):
        valence = lexicon[lower] * N_SCALAR
    if item.isupper() and is_cap_diff:
        valence = valence + C_INCR if valence > 0 else valence - C_INCR
    for start_i in range(3):
        before = i - (start_i + 1)
        if i > start_i and lowered[before] not in lexicon:
            s = scalar_inc_dec(words[before], valence, is_cap_diff)
            if start_i == 1 and s != 0:
                s = s * 0.95
            if start_i == 2 and s != 0:
                s = s * 0.9
            valence = valence + s
            valence = _negation_check(valence, lowered, start_i, i)
            if start_i == 2:
                valence = _special_idioms_check(valence, lowered, i)
    return _least_check(lexicon, valence, lowered, i)


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


def _negation_check(valence: float, lowered: list[str], start_i: int, i: int) -> float:
    if start_i == 0 and _negated(lowered[i - 1]):
        valence = valence * N_SCALAR
    if start_i == 1:
        if lowered[i - 2] == "never" and lowered[i - 1] in ("so", "this"):
            valence = valence * 1.25
        elif lowered[i - 2] == "without" and lowered[i - 1] == "doubt":
            pass
        elif _negated(lowered[i - 2]):
            valence = valence * N_SCALAR
    if start_i == 2:
        if (lowered[i - 3] == "never" and lowered[i - 2] in ("so", "this")) or lowered[i - 1] in (
            "so",
            "this",
        ):
            valence = valence * 1.25
        elif lowered[i - 3] == "without" and (
            lowered[i - 2] == "doubt" or lowered[i - 1] == "doubt"
        ):
            pass
        elif _negated(lowered[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lowered: list[str], i: int) -> float:
    onezero = f"{lowered[i - 1]} {lowered[i]}"
    twoonezero = f"{lowered[i - 2]} {lowered[i - 1]} {lowered[i]}"
    twoone = f"{lowered[i - 2]} {lowered[i - 1]}"
    threetwoone = f"{lowered[i - 3]} {lowered[i - 2]} {lowered[i - 1]}"
    threetwo = f"{lowered[i - 3]} {lowered[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lowered) - 1 > i:
        zeroone = f"{lowered[i]} {lowered[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lowered) - 1 > i + 1:
        zeroonetwo = f"{lowered[i]} {lowered[i + 1]} {lowered[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _least_check(lexicon: dict[str, float], valence: float, lowered: list[str], i: int) -> float:
    if i > 1 and lowered[i - 1] not in lexicon and lowered[i - 1] == "least":
        if lowered[i - 2] != "at" and lowered[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and lowered[i - 1] not in lexicon and lowered[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence
