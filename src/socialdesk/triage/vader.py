"""VADER's polarity scores, computed exactly as vaderSentiment 3.3 computes them, but faster.

vaderSentiment (Hutto & Gilbert, ICWSM 2014; MIT licence) is the reference: its lexicon, its
constants and its rules are used as they are, and a test holds this module to its scores.
What differs is only the work per text: the reference lower-cases the whole sentence again
for every sentiment word it looks at and walks every character to replace emoji; here each
word is lower-cased once, negation is a set lookup, and text without emoji is left alone.
That takes VADER from the largest cost of the fast tier to a small one.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from functools import lru_cache

_NO_SCORES = {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
_PUNCTUATION = string.punctuation


class Vader:
    """The reference analyzer's tables, read once, and its rules over one text at a time."""

    def __init__(self) -> None:
        from vaderSentiment import vaderSentiment as reference

        analyzer = reference.SentimentIntensityAnalyzer()
        self.lexicon: Mapping[str, float] = analyzer.lexicon
        self.emojis: Mapping[str, str] = analyzer.emojis
        self.boosters: Mapping[str, float] = reference.BOOSTER_DICT
        self.special: Mapping[str, float] = reference.SPECIAL_CASES
        self.negations = frozenset(reference.NEGATE)
        self.c_incr: float = reference.C_INCR
        self.n_scalar: float = reference.N_SCALAR

    def _negated(self, word: str) -> bool:
        return word in self.negations or "n't" in word

    def _replace_emoji(self, text: str) -> str:
        emojis = self.emojis
        if text.isascii() or not any(map(emojis.__contains__, text)):
            return text
        out = ""
        prev_space = True
        for ch in text:
            if ch in emojis:
                if not prev_space:
                    out += " "
                out += emojis[ch]
                prev_space = False
            else:
                out += ch
                prev_space = ch == " "
        return out

    def polarity_scores(self, text: str) -> dict[str, float]:
        text = self._replace_emoji(text).strip()
        words = [
            token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
            for token in text.split()
        ]
        lower = [w.lower() for w in words]
        capitals = sum(map(str.isupper, words))
        cap_diff = 0 < len(words) - capitals < len(words)
        lexicon = self.lexicon
        boosters = self.boosters
        last = len(words) - 1
        # One score a word; only words of the lexicon (that are not boosters) score non-zero.
        sentiments: list[float] = [0] * len(words)
        for i, item in enumerate(lower):
            if item not in lexicon or item in boosters:
                continue
            if i < last and item == "kind" and lower[i + 1] == "of":
                continue
            sentiments[i] = self._valence(words, lower, i, cap_diff)
        if "but" in lower:
            sentiments = _but_check(lower.index("but"), sentiments)
        return _score(sentiments, text)

    def _valence(self, words: list[str], lower: list[str], i: int, cap_diff: bool) -> float:
        lexicon = self.lexicon
        item = lower[i]
        valence = lexicon[item]
        if item == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lower[i - 1] == "no")
            or (i > 1 and lower[i - 2] == "no")
            or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ["or", "nor"])
        ):
            valence = lexicon[item] * self.n_scalar
        if words[i].isupper() and cap_diff:
            if valence > 0:
                valence += self.c_incr
            else:
                valence -= self.c_incr
        for start_i in range(0, 3):
            if i > start_i and lower[i - (start_i + 1)] not in lexicon:
                s = self._scalar(words[i - (start_i + 1)], valence, cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = self._negation(valence, lower, start_i, i)
                if start_i == 2:
                    valence = self._idioms(valence, lower, i)
        return self._least(valence, lower, i)

    def _scalar(self, word: str, valence: float, cap_diff: bool) -> float:
        scalar = 0.0
        word_lower = word.lower()
        if word_lower in self.boosters:
            scalar = self.boosters[word_lower]
            if valence < 0:
                scalar *= -1
            if word.isupper() and cap_diff:
                if valence > 0:
                    scalar += self.c_incr
                else:
                    scalar -= self.c_incr
        return scalar

    def _negation(self, valence: float, lower: list[str], start_i: int, i: int) -> float:
        if start_i == 0:
            if self._negated(lower[i - 1]):
                valence = valence * self.n_scalar
        elif start_i == 1:
            if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
                valence = valence * 1.25
            elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
                pass
            elif self._negated(lower[i - 2]):
                valence = valence * self.n_scalar
        else:
            if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
                lower[i - 1] == "so" or lower[i - 1] == "this"
            ):
                valence = valence * 1.25
            elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
                pass
            elif self._negated(lower[i - 3]):
                valence = valence * self.n_scalar
        return valence

    def _idioms(self, valence: float, lower: list[str], i: int) -> float:
        special = self.special
        onezero = f"{lower[i - 1]} {lower[i]}"
        twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
        twoone = f"{lower[i - 2]} {lower[i - 1]}"
        threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
        threetwo = f"{lower[i - 3]} {lower[i - 2]}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in special:
                valence = special[seq]
                break
        if len(lower) - 1 > i:
            zeroone = f"{lower[i]} {lower[i + 1]}"
            if zeroone in special:
                valence = special[zeroone]
        if len(lower) - 1 > i + 1:
            zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
            if zeroonetwo in special:
                valence = special[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in self.boosters:
                valence = valence + self.boosters[n_gram]
        return valence

    def _least(self, valence: float, lower: list[str], i: int) -> float:
        lexicon = self.lexicon
        if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * self.n_scalar
        elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            valence = valence * self.n_scalar
        return valence


def _but_check(but_index: int, sentiments: list[float]) -> list[float]:
    # As the reference does it, including its lookup of each score by value.
    for sentiment in sentiments:
        si = sentiments.index(sentiment)
        if si < but_index:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 0.5)
        elif si > but_index:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 1.5)
    return sentiments


def _score(sentiments: list[float], text: str) -> dict[str, float]:
    if not sentiments:
        return dict(_NO_SCORES)
    sum_s = float(sum(sentiments))
    ep_count = min(text.count("!"), 4)
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    amplifier = ep_count * 0.292 + qm_amplifier
    if sum_s > 0:
        sum_s += amplifier
    elif sum_s < 0:
        sum_s -= amplifier
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    compound = max(-1.0, min(1.0, compound))
    pos_sum = 0.0 + sum(float(score) + 1 for score in sentiments if score > 0)
    neg_sum = 0.0 + sum(float(score) - 1 for score in sentiments if score < 0)
    neu_count = sentiments.count(0)
    if pos_sum > math.fabs(neg_sum):
        pos_sum += amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {
        "neg": round(math.fabs(neg_sum / total), 3),
        "neu": round(math.fabs(neu_count / total), 3),
        "pos": round(math.fabs(pos_sum / total), 3),
        "compound": round(compound, 4),
    }


@lru_cache(maxsize=1)
def vader() -> Vader:
    return Vader()
