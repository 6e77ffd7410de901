"""Cleaning a social post into what the classifiers read. Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialdesk.triage.lexicon import word_prefixes

# Texts longer than this are read from their beginning only: the point of a post is up front,
# and it keeps a 100,000-character email from stalling a batch.
MAX_CHARS = 2_000

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.I)
MENTION_RE = re.compile(r"(?<!\w)@\w+")
HASHTAG_RE = re.compile(r"(?<!\w)#(\w+)")
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# A hashtag's sign, dropped so that its word is read (the same as HASHTAG_RE.sub(r"\1", ...)).
_HASHTAG_SIGN = re.compile(r"(?<!\w)#(?=\w)")
# WORD_RE for lower-cased ASCII text, where the only letters are a-z.
_ASCII_WORD_RE = re.compile(r"[a-z]+(?:['’][a-z]+)*")
# For ASCII text: the bytes that are not letters, and those that are not capitals.
_NOT_LETTER = bytes(b for b in range(256) if not chr(b).isalpha() or b > 127)
_NOT_UPPER = bytes(b for b in range(256) if not chr(b).isupper() or b > 127)


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0x200D, 0xFE0F, 0x20E3)
    )


def emoji_of(text: str) -> str:
    """The emoji of a text, in order, each followed by a space."""
    return "".join(ch + " " for ch in text if _is_emoji(ch))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A post as the classifiers see it."""

    raw: str  # the text, cut to MAX_CHARS
    body: str  # without URLs and mentions: what the author wrote themselves
    words: tuple[str, ...]  # lower-cased words of the body
    prefixes: frozenset[str]  # gate keys for lexicons (see lexicon.py)
    letters: int
    upper_letters: int
    exclamations: int
    emoji: int
    urls: int
    mentions: int
    truncated: bool

    @property
    def has_words(self) -> bool:
        return bool(self.words)


# An email's closing ("Thanks,\nDana", "Kind regards") says nothing about the message.
_SIGN_OFF = re.compile(
    r"\n\s*(?:many thanks|thanks|thank you|kind regards|best regards|regards|best|cheers|"
    r"sincerely|yours sincerely)[ \t]*[,.!]?[ \t]*(?:\n[^\n]{0,60})?\s*$",
    re.I,
)
_SALUTATION = re.compile(r"^\s*(?:dear|hi|hello|hey)\b[^\n]{0,60},?[ \t]*\n", re.I)


def prepare(text: str | None) -> Prepared:
    raw = text or ""
    if "\n" in raw:
        raw = _SALUTATION.sub("", _SIGN_OFF.sub("", raw)) or raw
    truncated = len(raw) > MAX_CHARS
    if truncated:
        raw = raw[:MAX_CHARS]
    # Each pattern runs only where it could match ("://" or "www." for a link, "@", "#").
    if "://" in raw or "www." in raw.lower():
        without_urls, urls = URL_RE.subn(" ", raw)
    else:
        without_urls, urls = raw, 0
    if "@" in without_urls:
        body, mentions = MENTION_RE.subn(" ", without_urls)
        body = body.strip()
    else:
        body, mentions = without_urls.strip(), 0
    readable = _HASHTAG_SIGN.sub("", body) if "#" in body else body
    if body.isascii():
        words = tuple(_ASCII_WORD_RE.findall(readable.lower()))
        ascii_body = body.encode("ascii")
        letters = len(ascii_body.translate(None, _NOT_LETTER))
        upper = len(ascii_body.translate(None, _NOT_UPPER))
        emoji = 0
    else:
        words = tuple(w.lower() for w in WORD_RE.findall(readable))
        letters = sum(map(str.isalpha, body))
        upper = sum(map(str.isupper, body))
        emoji = sum(map(_is_emoji, body))
    return Prepared(
        raw=raw,
        body=body,
        words=words,
        prefixes=word_prefixes(words),
        letters=letters,
        upper_letters=upper,
        exclamations=body.count("!"),
        emoji=emoji,
        urls=urls,
        mentions=mentions,
        truncated=truncated,
    )
