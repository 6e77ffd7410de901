"""Fake SMTP and IMAP servers on loopback speaking the protocol lines of RFC 5321 / 3501."""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SmtpMessage:
    mail_from: str
    rcpt_to: list[str]
    data: bytes


@dataclass
class FakeSmtp:
    username: str = "care@acme.test"
    password: str = "mail-password"
    refused: set[str] = field(default_factory=set)
    temporary_failures: int = 0  # answer DATA with 451 this many times
    # Accept the message, then drop the connection before the 250 reply this many times
    # (RFC 5321 section 4.1.1.4: the reply to the end of data is what confirms delivery).
    lost_replies: int = 0
    messages: list[SmtpMessage] = field(default_factory=list)
    # Where an accepted message is also filed, as providers do with a Sent folder.
    sent_folder: dict[int, bytes] | None = None
    port: int = 0

    @contextmanager
    def serve(self) -> Iterator[FakeSmtp]:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def say(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.say("220 fake.smtp.test ESMTP ready")
                mail_from, authed = "", False
                rcpt: list[str] = []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode().rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(
                            b"250-fake.smtp.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
                        )
                    elif verb == "AUTH":
                        parts = line.split(" ")
                        decoded = base64.b64decode(parts[2]).split(b"\0") if len(parts) > 2 else []
                        ok = decoded[1:] == [fake.username.encode(), fake.password.encode()]
                        authed = ok
                        self.say(
                            "235 2.7.0 Authentication successful"
                            if ok
                            else "535 5.7.8 Authentication credentials invalid"
                        )
                    elif verb == "MAIL":
                        if not authed:
                            self.say("530 5.7.0 Authentication required")
                            continue
                        mail_from, rcpt = line.split(":", 1)[1].strip(" <>"), []
                        self.say("250 2.1.0 Ok")
                    elif verb == "RCPT":
                        address = line.split(":", 1)[1].strip(" <>")
                        if address in fake.refused:
                            self.say(f"550 5.1.1 <{address}>: Recipient address rejected")
                        else:
                            rcpt.append(address)
                            self.say("250 2.1.5 Ok")
                    elif verb == "DATA":
                        self.say("354 End data with <CR><LF>.<CR><LF>")
                        data = b""
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b""):
                                break
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        if fake.temporary_failures > 0:
                            fake.temporary_failures -= 1
                            self.say("451 4.3.0 Try again later")
                            continue
                        fake.messages.append(SmtpMessage(mail_from, rcpt, data))
                        if fake.sent_folder is not None:
                            fake.sent_folder[len(fake.sent_folder) + 1] = data
                        if fake.lost_replies > 0:
                            fake.lost_replies -= 1
                            return  # queued, but the client never hears so
                        self.say("250 2.0.0 Ok: queued")
                    elif verb == "RSET":
                        self.say("250 Ok")
                    elif verb == "QUIT":
                        self.say("221 2.0.0 Bye")
                        return
                    else:
                        self.say("502 5.5.2 Command not recognized")

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.port = server.server_address[1]
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


@dataclass
class FakeImap:
    username: str = "care@acme.test"
    password: str = "mail-password"
    mailbox: dict[int, bytes] = field(default_factory=dict)  # uid -> raw message (INBOX)
    sent: dict[int, bytes] = field(default_factory=dict)  # the "Sent" folder
    # RFC 3501 section 2.3.1.1: UIDs are valid only with this value; a server that
    # renumbers a mailbox announces a new one in the SELECT response.
    uidvalidity: int = 1
    # Further folders by name (a listening folder such as "News/Alerts").
    folders: dict[str, dict[int, bytes]] = field(default_factory=dict)
    searches: list[str] = field(default_factory=list)  # the arguments of each UID SEARCH
    port: int = 0

    @contextmanager
    def serve(self) -> Iterator[FakeImap]:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def say(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.say("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
                box = fake.mailbox
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
                    command, _, args = rest.partition(" ")
                    command = command.upper()
                    if command == "CAPABILITY":
                        self.say("* CAPABILITY IMAP4rev1")
                        self.say(f"{tag} OK CAPABILITY completed")
                    elif command == "LOGIN":
                        user, password = [a.strip('"') for a in args.split(" ", 1)]
                        if (user, password) == (fake.username, fake.password):
                            self.say(f"{tag} OK LOGIN completed")
                        else:
                            self.say(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                    elif command in ("SELECT", "EXAMINE"):
                        try:
                            (name,) = imap_tokens(args)
                        except ValueError:
                            self.say(f"{tag} BAD invalid mailbox name")
                            continue
                        boxes = {"INBOX": fake.mailbox, "Sent": fake.sent, **fake.folders}
                        if name not in boxes:
                            self.say(f"{tag} NO [NONEXISTENT] Unknown Mailbox: {name}")
                            continue
                        box = boxes[name]
                        self.say(f"* {len(box)} EXISTS")
                        self.say(f"* OK [UIDVALIDITY {fake.uidvalidity}] UIDs valid")
                        self.say(f"{tag} OK [READ-ONLY] {command} completed")
                    elif command == "UID":
                        sub, _, uid_args = args.partition(" ")
                        if sub.upper() == "SEARCH":
                            fake.searches.append(uid_args)
                            try:
                                found = search(box, imap_tokens(uid_args))
                            except ValueError as exc:
                                self.say(f"{tag} BAD {exc}")
                                continue
                            self.say("* SEARCH " + " ".join(str(u) for u in found))
                            self.say(f"{tag} OK SEARCH completed")
                        else:
                            uid = int(uid_args.split(" ")[0])
                            body = box[uid]
                            self.wfile.write(
                                f"* 1 FETCH (UID {uid} RFC822 {{{len(body)}}}\r\n".encode()
                                + body
                                + b")\r\n"
                            )
                            self.say(f"{tag} OK FETCH completed")
                    elif command == "LOGOUT":
                        self.say("* BYE logging out")
                        self.say(f"{tag} OK LOGOUT completed")
                        return
                    else:
                        self.say(f"{tag} BAD unknown command")

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.port = server.server_address[1]
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def imap_tokens(text: str) -> list[str]:
    """Atoms and quoted strings of an IMAP command's arguments (RFC 3501 section 4.3: a
    quoted string escapes only ``\\`` and ``"``; it cannot hold CR, LF or 8-bit octets)."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == " ":
            i += 1
        elif c == '"':
            value, i = "", i + 1
            while True:
                if i >= len(text):
                    raise ValueError("unterminated quoted string")
                c = text[i]
                if c == "\\":
                    if i + 1 >= len(text) or text[i + 1] not in '"\\':
                        raise ValueError("invalid escape in quoted string")
                    value, i = value + text[i + 1], i + 2
                elif c == '"':
                    i += 1
                    break
                elif not " " <= c <= "~":
                    raise ValueError("invalid character in quoted string")
                else:
                    value, i = value + c, i + 1
            tokens.append(value)
        else:
            end = text.find(" ", i)
            end = len(text) if end < 0 else end
            atom = text[i:end]
            if any(ch in atom for ch in '"\\(){') or not all(" " < ch <= "~" for ch in atom):
                raise ValueError(f"invalid atom {atom!r}")
            tokens.append(atom)
            i = end
    return tokens


def _in_uid_set(uid: int, spec: str, highest: int) -> bool:
    """RFC 3501 section 6.4.8 / 9 (sequence-set): "*" is the highest UID in use, and a range
    "n:*" includes it even when n is above it."""
    for part in spec.split(","):
        ends = [highest if e == "*" else int(e) for e in part.split(":")]
        if min(ends) <= uid <= max(ends):
            return True
    return False


def search(box: dict[int, bytes], tokens: list[str]) -> list[int]:
    """The UIDs matching SEARCH keys ANDed together: UID, OR, NOT, TEXT, HEADER and ALL (RFC
    3501 section 6.4.4); TEXT (header or body) and HEADER are case-insensitive substrings."""
    highest = max(box, default=0)

    def key(pos: int) -> tuple[Callable[[int, bytes], bool], int]:
        if pos >= len(tokens):
            raise ValueError("missing search key")
        name = tokens[pos].upper()
        if name == "ALL":
            return (lambda uid, raw: True), pos + 1
        if name == "UID":
            spec = tokens[pos + 1]
            return (lambda uid, raw: _in_uid_set(uid, spec, highest)), pos + 2
        if name == "NOT":
            inner, nxt = key(pos + 1)
            return (lambda uid, raw: not inner(uid, raw)), nxt
        if name == "OR":
            left, mid = key(pos + 1)
            right, nxt = key(mid)
            return (lambda uid, raw: left(uid, raw) or right(uid, raw)), nxt
        if name == "TEXT":
            wanted = tokens[pos + 1].lower()
            return (lambda uid, raw: wanted in raw.decode(errors="replace").lower()), pos + 2
        if name == "HEADER":
            wanted = tokens[pos + 2].lower()
            return (lambda uid, raw: wanted in raw.decode(errors="replace").lower()), pos + 3
        raise ValueError(f"unknown search key {tokens[pos]!r}")

    keys = []
    pos = 0
    while pos < len(tokens):
        k, pos = key(pos)
        keys.append(k)
    return [u for u, raw in sorted(box.items()) if all(k(u, raw) for k in keys)]
