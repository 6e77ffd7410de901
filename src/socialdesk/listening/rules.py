"""Listening rules as pure data: validating them, compiling them, matching a message.

A rule lists brand and product names or phrases (``terms``), ``handles`` and ``hashtags``;
a message matches when it contains any of them and none of the ``exclusions``, in one of
the rule's ``languages`` (all when empty). A term is a phrase matched on word boundaries,
case-insensitively; ``acme*`` matches words starting with ``acme``; ``/.../`` is a regular
expression. A rule that could match every message (no term at all, ``*``, a regular
expression matching the empty text) is refused, as is a pattern that does not compile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from socialdesk.core.errors import InvalidInput
from socialdesk.listening.counting import hashtags

MAX_PATTERN = 200
MAX_PATTERNS = 100
_HASHTAG = re.compile(r"^#?[^\W_][\w]*$", re.UNICODE)
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.]{1,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# A probe of texts no real rule should match all of: if a pattern matches every one, it would
# match (nearly) everything.
_PROBES = ("", " ", "a", "hello world", "zzz 123", "#", "@")


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as the user wrote it (before validation)."""

    name: str
    terms: Sequence[str] = ()
    handles: Sequence[str] = ()
    hashtags: Sequence[str] = ()
    exclusions: Sequence[str] = ()
    languages: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class CleanRule:
    name: str
    terms: list[str]
    handles: list[str]
    hashtags: list[str]
    exclusions: list[str]
    languages: list[str]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule_id: int
    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    hashtags: frozenset[str]
    handles: frozenset[str]
    languages: frozenset[str] = field(default_factory=frozenset)

    def matches(self, text: str, language: str | None = None) -> bool:
        if self.languages and (language or "") not in self.languages:
            return False
        lowered = text.lower()
        hit = bool(self.include is not None and self.include.search(text))
        if not hit and self.hashtags:
            hit = not self.hashtags.isdisjoint(hashtags_of(lowered))
        if not hit and self.handles:
            hit = not self.handles.isdisjoint(handles_of(lowered))
        if not hit:
            return False
        return not (self.exclude is not None and self.exclude.search(text))


_AT_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]*[A-Za-z0-9_])")


def hashtags_of(text: str) -> set[str]:
    """Hashtags in a text, lower-cased with their ``#`` (as the detector counts them)."""
    return set(hashtags(text))


def handles_of(text: str) -> set[str]:
    return {f"@{handle.lower()}" for handle in _AT_RE.findall(text)}


def _pattern_regex(pattern: str) -> str:
    """The regular expression of one term (already validated)."""
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        return pattern[1:-1]
    words = pattern.split()
    parts = []
    for word in words:
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word))
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"


def _check_term(pattern: str, what: str) -> str:
    term = " ".join(pattern.split())
    if not term:
        raise InvalidInput(f"{what}: an empty pattern would match everything")
    if len(term) > MAX_PATTERN:
        raise InvalidInput(f"{what} {term[:40]!r}...: longer than {MAX_PATTERN} characters")
    is_regex = len(term) > 2 and term.startswith("/") and term.endswith("/")
    if not is_regex and not re.sub(r"[*\s]", "", term):
        raise InvalidInput(f"{what} {term!r} would match everything")
    if not is_regex and any("*" in w[:-1] for w in term.split()):
        raise InvalidInput(f"{what} {term!r}: '*' is allowed only at the end of a word")
    try:
        compiled = re.compile(_pattern_regex(term), re.IGNORECASE)
    except re.error as exc:
        raise InvalidInput(f"{what} {term!r} is not a valid pattern: {exc}") from exc
    if all(compiled.search(probe) for probe in _PROBES):
        raise InvalidInput(f"{what} {term!r} would match everything")
    return term


def validate(spec: RuleSpec) -> CleanRule:
    """The rule, cleaned, or ``InvalidInput`` saying what is wrong with it."""
    name = " ".join(spec.name.split())
    if not name:
        raise InvalidInput("a rule needs a name")
    if len(name) > 120:
        raise InvalidInput("a rule's name has at most 120 characters")
    for label, items in (
        ("terms", spec.terms),
        ("handles", spec.handles),
        ("hashtags", spec.hashtags),
        ("exclusions", spec.exclusions),
    ):
        if len(items) > MAX_PATTERNS:
            raise InvalidInput(f"a rule has at most {MAX_PATTERNS} {label}")
    terms = _unique(_check_term(t, "term") for t in spec.terms)
    exclusions = _unique(_check_term(t, "exclusion") for t in spec.exclusions)
    hashtags = []
    for tag in spec.hashtags:
        clean = tag.strip()
        if not _HASHTAG.match(clean):
            raise InvalidInput(f"hashtag {clean!r} is not a hashtag (letters, digits, _)")
        hashtags.append("#" + clean.lstrip("#").lower())
    handles = []
    for handle in spec.handles:
        clean = handle.strip()
        if not _HANDLE.match(clean):
            raise InvalidInput(f"handle {clean!r} is not a handle (letters, digits, _ and .)")
        handles.append("@" + clean.lstrip("@").lower())
    languages = []
    for language in spec.languages:
        clean = language.strip().lower()
        if not _LANGUAGE.match(clean):
            raise InvalidInput(f"language {clean!r} is not a two- or three-letter code")
        languages.append(clean)
    if not (terms or hashtags or handles):
        raise InvalidInput(
            "a rule without terms, handles or hashtags would match everything; give at least one"
        )
    return CleanRule(
        name=name,
        terms=terms,
        handles=_unique(handles),
        hashtags=_unique(hashtags),
        exclusions=exclusions,
        languages=_unique(languages),
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _alternation(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_pattern_regex(p)})" for p in patterns), re.IGNORECASE)


def compile_rule(rule_id: int, rule: CleanRule) -> CompiledRule:
    return CompiledRule(
        rule_id=rule_id,
        include=_alternation(rule.terms),
        exclude=_alternation(rule.exclusions),
        hashtags=frozenset(rule.hashtags),
        handles=frozenset(rule.handles),
        languages=frozenset(rule.languages),
    )


def matching_rules(
    rules: Sequence[CompiledRule], text: str, language: str | None = None
) -> list[int]:
    return [rule.rule_id for rule in rules if rule.matches(text, language)]


def addressed_to_us(text: str, visibility: str, our_handles: Iterable[str]) -> bool:
    """A private message, or a public one naming one of our accounts, is written to us;
    anything else a rule catches is a mention *of* us."""
    if visibility == "private":
        return True
    ours = {"@" + h.strip().lstrip("@").lower() for h in our_handles if h.strip()}
    return bool(ours) and not ours.isdisjoint(handles_of(text.lower()))


def x_search_query(rules: Sequence[CleanRule], max_length: int = 512) -> str:
    """One X recent-search query covering the rules (OR of their terms, handles and
    hashtags, minus exclusions), within the endpoint's query length.

    Regular expressions and wildcards have no search operator on X: a wildcard term is
    searched by its stem, a regular expression is left to matching after the search.
    https://docs.x.com/x-api/posts/search/integrate/build-a-query
    """
    ors: list[str] = []
    nots: list[str] = []
    for rule in rules:
        for term in rule.terms:
            if term.startswith("/"):
                continue
            stem = " ".join(w.rstrip("*") for w in term.split())
            ors.append(f'"{stem}"' if " " in stem else stem)
        ors.extend(rule.hashtags)
        ors.extend(rule.handles)
        for term in rule.exclusions:
            if not term.startswith("/"):
                stem = " ".join(w.rstrip("*") for w in term.split())
                nots.append(f'-"{stem}"' if " " in stem else f"-{stem}")
    ors = _unique(ors)
    query = ""
    for n in range(len(ors), 0, -1):
        head = "(" + " OR ".join(ors[:n]) + ")" if n > 1 else ors[0]
        query = " ".join([head, *_unique(nots), "-is:retweet"])
        if len(query) <= max_length:
            return query
    return query[:max_length]


def mail_search_terms(rules: Sequence[CleanRule]) -> list[str]:
    """The rules' terms, hashtags and handles as plain strings to look for in mail (IMAP
    SEARCH TEXT, a case-insensitive substring match), each once whatever its case.

    A wildcard term is searched by its stem; regular expressions have no IMAP form and,
    like the exclusions, are applied by rule matching once the mail is in.
    """
    found: dict[str, str] = {}
    for rule in rules:
        for term in rule.terms:
            if term.startswith("/"):
                continue
            stem = " ".join(w.rstrip("*") for w in term.split())
            if stem:
                found.setdefault(stem.lower(), stem)
        for item in (*rule.hashtags, *rule.handles):
            found.setdefault(item.lower(), item)
    return list(found.values())
