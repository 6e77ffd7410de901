"""The rules reach e-mail: a mailbox's listening folder is searched over IMAP for the rules'
terms (against the fake IMAP server, which evaluates RFC 3501 SEARCH keys), and only the
mail that contains one comes in, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.channels.accounts import create_account
from socialdesk.channels.base import DeliveryError
from socialdesk.channels.mail_listen import search_criteria
from socialdesk.channels.models import ChannelAccount
from socialdesk.channels.polling import poll_email_listening
from socialdesk.cli import app
from socialdesk.conversations.models import Message
from socialdesk.core.models import Workspace
from socialdesk.listening import rule_service
from socialdesk.listening.models import ListeningMatch
from socialdesk.listening.rules import RuleSpec
from tests.channels.fake_mail import FakeImap
from tests.channels.helpers import SECRET
from tests.channels.mail_helpers import mail
from tests.listening.conftest import NOW, listening_pipeline

FOLDER = "News/Alerts"


@pytest.fixture
def imap() -> Iterator[FakeImap]:
    fake = FakeImap(username="alerts@acme.test", folders={FOLDER: {}})
    with fake.serve() as server:
        yield server


def mailbox(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    imap: FakeImap,
    address: str = "alerts@acme.test",
    **settings: str,
) -> int:
    with session_factory() as s:
        account = create_account(
            s,
            workspace_id=workspace.id,
            channel="email",
            external_id=address,
            secret_key=SECRET,
            handle=address,
            credentials={"username": "alerts@acme.test", "password": "mail-password"},
            settings={
                "imap_host": "127.0.0.1",
                "imap_port": str(imap.port),
                "imap_ssl": "false",
                **settings,
            },
        )
        s.commit()
        return account.id


@pytest.fixture
def listening(session_factory: sessionmaker[Session], workspace: Workspace, imap: FakeImap) -> int:
    return mailbox(session_factory, workspace, imap, listen_folder=FOLDER)


def add_rule(factory: sessionmaker[Session], workspace: Workspace, spec: RuleSpec) -> int:
    with factory() as s:
        rule = rule_service.create_rule(s, workspace.id, spec, user_id=None, now=NOW)
        s.commit()
        return rule.id


def settings_of(factory: sessionmaker[Session], account_id: int) -> dict[str, object]:
    with factory() as s:
        account = s.get(ChannelAccount, account_id)
        assert account is not None
        return dict(account.settings)


def alert(n: int, body: str, subject: str = "Daily news digest") -> bytes:
    return mail(
        f"<alert-{n}@news.test>", sender="News <news@digest.test>", subject=subject, body=body
    )


def test_rule_changes_give_each_listening_mailbox_the_terms(
    session_factory: sessionmaker[Session], workspace: Workspace, imap: FakeImap, listening: int
) -> None:
    care = mailbox(
        session_factory, workspace, imap, "care@acme.test"
    )  # no listening folder: left alone
    rule_id = add_rule(
        session_factory,
        workspace,
        RuleSpec(
            name="Brand",
            terms=["Acme Fiber", "acmenet*", "/acme\\s?tv/", "Café Acme"],
            hashtags=["AcmeDown"],
            handles=["AcmeCare"],
            exclusions=["careers"],
        ),
    )
    # Wildcards by their stem; the regular expression and the exclusion are left to rule
    # matching; a non-ASCII term cannot be an IMAP quoted string.
    assert settings_of(session_factory, listening)["listen_terms"] == [
        "Acme Fiber",
        "acmenet",
        "#acmedown",
        "@acmecare",
    ]
    assert "listen_terms" not in settings_of(session_factory, care)
    with session_factory() as s:
        rule_service.update_rule(
            s,
            workspace.id,
            rule_id,
            RuleSpec(name="Brand", terms=["acme fiber"]),
            active=None,
            now=NOW,
        )
        s.commit()
    assert settings_of(session_factory, listening)["listen_terms"] == ["acme fiber"]
    with session_factory() as s:
        rule_service.set_active(s, workspace.id, rule_id, False, NOW)
        s.commit()
    assert settings_of(session_factory, listening)["listen_terms"] == []


def test_only_matching_mail_comes_in_once_and_the_rule_match_is_recorded(
    session_factory: sessionmaker[Session], workspace: Workspace, imap: FakeImap, listening: int
) -> None:
    rule_id = add_rule(
        session_factory,
        workspace,
        RuleSpec(
            name="Brand",
            terms=["acme fiber", 'the "acme" promise'],
            hashtags=["acmedown"],
            exclusions=["careers"],
        ),
    )
    box = imap.folders[FOLDER]
    box.update(
        {
            3: alert(3, "Outage: Acme Fiber customers report no signal since noon."),
            5: alert(5, "Weather: sunny spells, light wind."),
            8: alert(8, "Trending tonight: #AcmeDown with thousands of posts."),
            9: alert(9, "Acme Fiber careers: 40 new openings."),  # excluded by the rule
            10: alert(10, 'Ad watchdog questions the "acme" promise of free installs.'),
        }
    )
    # Digests are automatic mail: heard here, though the inbox leaves such mail out.
    box[10] = mail(
        "<alert-10@news.test>",
        sender="Alerts <noreply@alerts.test>",
        subject="Alert: acme",
        body='Ad watchdog questions the "acme" promise of free installs.',
        extra="Precedence: bulk",
    )
    pipeline = listening_pipeline(session_factory)
    report = poll_email_listening(
        session_factory, pipeline, account_id=listening, secret_key=SECRET
    )
    # The server did the searching: the weather mail was never fetched.
    assert (report.fetched, report.accepted) == (4, 4)
    assert imap.searches[0] == "UID 1:*"
    assert imap.searches[1] == (
        'UID 1:10 OR TEXT "acme fiber" OR TEXT "the \\"acme\\" promise" TEXT "#acmedown"'
    )
    with session_factory() as s:
        stored = set(s.scalars(select(Message.external_id).where(Message.channel == "email")))
        assert stored == {f"<alert-{n}@news.test>" for n in (3, 8, 9, 10)}
        digest = s.scalar(select(Message).where(Message.external_id == "<alert-10@news.test>"))
        assert digest is not None and "free installs" in digest.text
        matches = {
            s.get(Message, m.message_id).external_id: m.rule_ids  # type: ignore[union-attr]
            for m in s.scalars(select(ListeningMatch))
        }
        # The exclusion is applied by rule matching once the mail is in.
        assert matches == {f"<alert-{n}@news.test>": [rule_id] for n in (3, 8, 10)}
    settings = settings_of(session_factory, listening)
    assert (settings["listen_last_uid"], settings["listen_uidvalidity"]) == (10, "1")

    # The next round searches only above the last UID looked at, matching or not.
    box[11] = alert(11, "Sports results.")
    box[12] = alert(12, "Acme Fiber raises prices again.")
    imap.searches.clear()
    report = poll_email_listening(
        session_factory, pipeline, account_id=listening, secret_key=SECRET
    )
    assert (report.fetched, report.accepted) == (1, 1)
    assert imap.searches[1].startswith("UID 11:12 ")
    # Nothing new: "11:*" would name UID 12 again (RFC 3501), which is not searched twice.
    imap.searches.clear()
    report = poll_email_listening(
        session_factory, pipeline, account_id=listening, secret_key=SECRET
    )
    assert (report.fetched, report.accepted) == (0, 0)
    assert imap.searches == ["UID 13:*"]
    assert settings_of(session_factory, listening)["listen_last_uid"] == 12

    # The mailbox is rebuilt: new UIDVALIDITY, new numbers. Everything is searched again, and
    # the mail already stored is recognised by its Message-ID.
    imap.uidvalidity = 2
    imap.folders[FOLDER] = {1: box[3], 2: box[12], 3: alert(13, "#acmedown is back")}
    report = poll_email_listening(
        session_factory, pipeline, account_id=listening, secret_key=SECRET
    )
    assert (report.fetched, report.accepted) == (3, 1)
    with session_factory() as s:
        assert len(s.scalars(select(ListeningMatch)).all()) == 5
        assert s.scalar(select(Message).where(Message.external_id == "<alert-13@news.test>"))
    settings = settings_of(session_factory, listening)
    assert (settings["listen_last_uid"], settings["listen_uidvalidity"]) == (3, "2")


def test_many_terms_are_searched_in_batches(
    session_factory: sessionmaker[Session], workspace: Workspace, imap: FakeImap, listening: int
) -> None:
    add_rule(
        session_factory,
        workspace,
        RuleSpec(name="Products", terms=[f"acme model {n}" for n in range(45)]),
    )
    imap.folders[FOLDER][1] = alert(1, "Review: the acme model 44 router")
    imap.folders[FOLDER][2] = alert(2, "Review: the acme model 3 phone")
    report = poll_email_listening(
        session_factory,
        listening_pipeline(session_factory),
        account_id=listening,
        secret_key=SECRET,
    )
    assert (report.fetched, report.accepted) == (2, 2)
    assert len(imap.searches) == 1 + 3  # the highest UID, then 20 + 20 + 5 terms


def test_what_cannot_be_sent_safely_is_refused() -> None:
    assert search_criteria(["a\\b"]) == 'TEXT "a\\\\b"'
    for term in ("acme\r\nA1 DELETE INBOX", "acme\nx", "café", "nul\x00"):
        with pytest.raises(DeliveryError) as refused:
            search_criteria(["acme", term])
        assert refused.value.permanent and "cannot be sent to the mail server" in str(refused.value)


def test_a_folder_name_with_a_line_break_is_refused_before_anything_is_sent(
    session_factory: sessionmaker[Session], workspace: Workspace, imap: FakeImap
) -> None:
    account = mailbox(session_factory, workspace, imap, listen_folder='News"\r\nA1 DELETE "INBOX')
    add_rule(session_factory, workspace, RuleSpec(name="Brand", terms=["acme"]))
    with pytest.raises(DeliveryError, match="listening folder"):
        poll_email_listening(
            session_factory,
            listening_pipeline(session_factory),
            account_id=account,
            secret_key=SECRET,
        )
    assert imap.searches == []


def test_socialdesk_channels_poll_searches_the_listening_folder(
    cli_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    imap: FakeImap,
    listening: int,
) -> None:
    from socialdesk.config import get_settings

    monkeypatch.setenv("SOCIALDESK_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    add_rule(session_factory, workspace, RuleSpec(name="Outage", hashtags=["acmedown"]))
    imap.folders[FOLDER].update({1: alert(1, "#AcmeDown trends"), 2: alert(2, "Nothing here")})
    result = CliRunner().invoke(app, ["channels", "poll"])
    assert result.exit_code == 0, result.output
    # The mailbox did not opt in to inbox polling (poll=true): only its listening folder.
    assert f"account {listening} listening folder: fetched 1, new 1" in result.output
    assert f"account {listening}: " not in result.output
    with session_factory() as s:
        assert len(s.scalars(select(ListeningMatch)).all()) == 1
    result = CliRunner().invoke(app, ["channels", "poll"])
    assert f"account {listening} listening folder: fetched 0, new 0" in result.output
