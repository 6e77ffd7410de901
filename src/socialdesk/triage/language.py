"""Language identification: the script decides where it can, py3langid where it cannot.

Most posts a brand receives are in the brand's main language, so a cheap function-word test
answers English without running the n-gram model; other Latin-script text goes to py3langid
(a maintained fork of langid.py that ships its model). Text too short or too uncertain to
tell is ``und``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

UNDETERMINED = "und"

# Common function words: two of them in a short post are enough to call it English.
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "my",
        "me",
        "i",
        "you",
        "your",
        "we",
        "our",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "not",
        "no",
        "it",
        "this",
        "that",
        "there",
        "they",
        "them",
        "their",
        "from",
        "by",
        "as",
        "so",
        "if",
        "just",
        "can",
        "can't",
        "cannot",
        "don't",
        "didn't",
        "won't",
        "what",
        "why",
        "how",
        "when",
        "where",
        "who",
        "please",
        "still",
        "get",
        "got",
        "any",
        "yet",
        "again",
        "all",
        "will",
        "would",
        "could",
        "should",
        "am",
        "i'm",
        "it's",
        "thanks",
        "thank",
    ]
)

# Words hardly any other Latin-script language writes.
_STRONG_ENGLISH = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "with",
        "this",
        "that",
        "have",
        "has",
        "was",
        "were",
        "what",
        "why",
        "how",
        "when",
        "where",
        "who",
        "they",
        "them",
        "their",
        "from",
        "just",
        "please",
        "still",
        "thanks",
        "thank",
        "my",
        "of",
        "to",
        "for",
        "not",
        "but",
        "will",
        "would",
        "could",
        "should",
        "can't",
        "don't",
        "didn't",
        "won't",
        "i'm",
        "it's",
        "any",
        "been",
        "get",
        "got",
    ]
)

# Languages py3langid may choose from: restricting it to languages brands really receive makes
# short posts far less likely to be taken for a rare language.
_CANDIDATES = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "sv",
    "da",
    "no",
    "fi",
    "pl",
    "cs",
    "sk",
    "hu",
    "ro",
    "hr",
    "sl",
    "et",
    "lv",
    "lt",
    "tr",
    "id",
    "ms",
    "tl",
    "vi",
    "ca",
    "eu",
    "gl",
    "ga",
    "cy",
    "is",
    "sq",
    "af",
    "sw",
    "ru",
    "uk",
    "bg",
    "sr",
    "el",
    "ar",
    "fa",
    "ur",
    "he",
    "hi",
    "bn",
    "ta",
    "th",
    "ja",
    "ko",
    "zh",
]

_SCRIPT_LANGUAGE = {
    "hangul": "ko",
    "kana": "ja",
    "han": "zh",
    "greek": "el",
    "hebrew": "he",
    "thai": "th",
    "devanagari": "hi",
    "bengali": "bn",
    "tamil": "ta",
}


def _script(ch: str) -> str | None:
    code = ord(ch)
    if code < 0x250:
        return "latin" if ch.isalpha() else None
    if 0x370 <= code <= 0x3FF:
        return "greek"
    if 0x400 <= code <= 0x52F:
        return "cyrillic"
    if 0x590 <= code <= 0x5FF:
        return "hebrew"
    if 0x600 <= code <= 0x6FF or 0x750 <= code <= 0x77F:
        return "arabic"
    if 0x900 <= code <= 0x97F:
        return "devanagari"
    if 0x980 <= code <= 0x9FF:
        return "bengali"
    if 0xB80 <= code <= 0xBFF:
        return "tamil"
    if 0xE00 <= code <= 0xE7F:
        return "thai"
    if 0x3040 <= code <= 0x30FF:
        return "kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return "han"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
        return "hangul"
    if 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return None


def dominant_script(text: str) -> tuple[str | None, int]:
    """The script most letters are written in, and how many scripts the text mixes."""
    if text.isascii():
        return ("latin", 1) if any(c.isalpha() for c in text) else (None, 0)
    # Most characters of a non-ASCII post are still ASCII: count those letters in one go and
    # look up the script of the rest. A tie between scripts is settled as the full count
    # settles it (by first appearance), so that case takes the long way.
    others = Counter(s for s in map(_script, _NON_ASCII.findall(text)) if s is not None)
    ascii_letters = len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_ASCII_LETTER))
    if ascii_letters:
        others["latin"] += ascii_letters
    if len(others) > 1 and len(set(others.values())) < len(others):
        others = Counter(s for s in map(_script, text) if s is not None)
    counts = others
    if not counts:
        return None, 0
    # Japanese mixes kana with Han characters; any kana means Japanese.
    if counts.get("kana"):
        return "kana", len(counts)
    return counts.most_common(1)[0][0], len(counts)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NOT_ASCII_LETTER = bytes(b for b in range(256) if not (b < 128 and chr(b).isalpha()))


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(_CANDIDATES)
    return identifier


def detect_language(body: str, words: tuple[str, ...]) -> tuple[str, float]:
    """ISO 639-1 code and confidence in [0, 1]; ``("und", 0.0)`` when it cannot be told."""
    script, _ = dominant_script(body)
    if script is None:
        return UNDETERMINED, 0.0
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script], 0.9
    if script == "latin":
        english = sum(1 for w in words if w in _ENGLISH)
        if english >= 2 and english * 4 >= len(words):
            return "en", 0.95
        strong = sum(1 for w in words if w in _STRONG_ENGLISH)
        if strong >= 2 and strong * 6 >= len(words):
            return "en", 0.9
        if english and len(words) <= 3 and english * 2 >= len(words):
            return "en", 0.7
        if len(words) < 2 and sum(len(w) for w in words) < 8:
            return UNDETERMINED, 0.0
    code, probability = _identifier().classify(body)
    if probability < 0.5:
        return UNDETERMINED, float(probability)
    return str(code), float(probability)
