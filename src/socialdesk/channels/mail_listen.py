"""Listening in a mailbox folder: the mail that names the brand, found by IMAP SEARCH.

A mailbox may have a listening folder (the account setting ``listen_folder``: a folder
receiving news or alert digests, a shared inbox). Its search terms (``listen_terms``) are
the listening rules' terms, hashtags and handles, kept up to date by the rules. Each poll
asks the server (RFC 3501 section 6.4.4) first for the highest UID above the last one seen,
then for the messages up to it whose TEXT (headers or body) contains any term::

    UID SEARCH UID 41:57 OR TEXT "acme" OR TEXT "#acmedown" TEXT "@acmecare"

Only those are fetched and accepted, automatic mail included (news and alert digests carry
``Precedence: bulk`` or ``Auto-Submitted``; such mail is marked ``extra["automatic"]``). The
cursor moves past everything looked at, matching or not, so no message is searched twice.
UIDs count only within the folder's UIDVALIDITY (section 2.3.1.1): another value voids the
cursor and the folder is searched again, and the mail already stored is recognised by its
Message-ID.

Terms and the folder name travel as quoted strings (section 4.3: ``\\`` and ``"`` escaped),
which carry 7-bit text without CR or LF; anything else (a line break, a NUL, a non-ASCII
character that would need a literal) is refused rather than sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from socialdesk.channels.base import AccountRef, DeliveryError, PollResult
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.mail import (
    EmailConnector,
    _imap,
    _quoted,
    _uidvalidity,
    fetch_events,
    renumbered,
)

TERMS_PER_SEARCH = 20
"""Terms ORed in one SEARCH command, so that no command line grows past what servers take
(RFC 7162 section 4 recommends clients keep lines under 8192 octets)."""
MAX_TERM = 200


def quotable(text: str) -> bool:
    """Whether ``text`` can be sent as an IMAP quoted string: printable 7-bit characters
    only (no CR, LF or NUL, nothing that would need a literal)."""
    return bool(text) and len(text) <= MAX_TERM and all(" " <= c <= "~" for c in text)


def _checked(text: str, what: str) -> str:
    if not quotable(text):
        raise DeliveryError(
            f"{what} {text[:40]!r} cannot be sent to the mail server safely: IMAP quoted "
            "strings carry printable 7-bit characters only, without line breaks",
            permanent=True,
            code="config",
        )
    return _quoted(text)


def search_criteria(terms: Sequence[str]) -> str:
    """The SEARCH keys matching a message whose TEXT contains any of ``terms``: ``OR`` takes
    two keys (RFC 3501 section 6.4.4), so n terms nest n - 1 of them."""
    if not terms:
        raise ValueError("no terms to search for")
    keys = [f"TEXT {_checked(t, 'search term')}" for t in terms]
    criteria = keys[-1]
    for key in reversed(keys[:-1]):
        criteria = f"OR {key} {criteria}"
    return criteria


def _uids(data: list[bytes | None]) -> list[int]:
    return [int(u) for u in (data[0] or b"").split()] if data else []


def poll_listen_folder(
    connector: EmailConnector,
    account: AccountRef,
    credentials: Credentials,
    folder: str,
    terms: Sequence[str],
    last_uid: int,
    uidvalidity: str | None = None,
) -> PollResult:
    """The messages of ``folder`` above ``last_uid`` that contain any of ``terms``; the cursor
    is the highest UID looked at."""
    mailbox = _checked(folder, "listening folder")
    batches = [
        search_criteria(terms[i : i + TERMS_PER_SEARCH])
        for i in range(0, len(terms), TERMS_PER_SEARCH)
    ]
    with _imap(account, credentials) as client:
        status, _ = client.select(mailbox, readonly=True)
        if status != "OK":
            raise DeliveryError(
                f"the listening folder {folder!r} cannot be opened", permanent=True, code="config"
            )
        epoch = _uidvalidity(client)
        if renumbered(account, folder, uidvalidity, epoch):
            last_uid = 0
        # "n:*" always includes the highest UID, even one below n (section 6.4.8).
        status, data = client.uid("SEARCH", "UID", f"{last_uid + 1}:*")
        if status != "OK":
            raise DeliveryError(f"IMAP search failed: {status}", permanent=False)
        newest = max((u for u in _uids(data) if u > last_uid), default=None)
        if newest is None or not batches:
            return PollResult(events=[], cursor=str(newest or last_uid), epoch=epoch)
        matched: set[int] = set()
        for criteria in batches:
            status, data = client.uid("SEARCH", f"UID {last_uid + 1}:{newest} {criteria}")
            if status != "OK":
                raise DeliveryError(f"IMAP search failed: {status}", permanent=False)
            matched.update(u for u in _uids(data) if last_uid < u <= newest)
        # Digests and alerts are automatic mail: heard here, where they are the point.
        events, _ = fetch_events(
            client, sorted(matched), account, connector.clock, keep_automatic=True
        )
    return PollResult(events=events, cursor=str(newest), epoch=epoch)
