"""`socialdesk ingest`: replay files in, conversations that follow the reply chains out."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.channels.inbox import RawEvent
from socialdesk.cli import app
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.work import Task

HEADER = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]
BRANDS = ["AcmeCare", "ShopHelp", "FlyDesk"]


def write_twcs_file(path: Path, rows_wanted: int, seed: int = 3) -> dict[str, int]:
    """Write a twcs-layout file of reply chains; return tweet id -> chain number."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    chain_of: dict[str, int] = {}
    next_id = 100_000
    start = datetime(2017, 10, 1, tzinfo=UTC)
    chain = 0
    while len(rows) < rows_wanted:
        length = min(rng.randint(1, 8), rows_wanted - len(rows))
        customer = str(rng.randint(1, 400))  # customers write several chains
        brand = rng.choice(BRANDS)
        at = start + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
        ids = [str(next_id + i) for i in range(length)]
        next_id += length
        for position, tweet_id in enumerate(ids):
            inbound = position % 2 == 0
            at += timedelta(minutes=rng.randint(1, 90))
            rows.append(
                [
                    tweet_id,
                    customer if inbound else brand,
                    "True" if inbound else "False",
                    at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                    f"@{brand} help with order {tweet_id} 📦" if inbound else f"@{customer} on it!",
                    ids[position + 1] if position + 1 < length else "",
                    ids[position - 1] if position else "",
                ]
            )
            chain_of[tweet_id] = chain
        chain += 1
    rng.shuffle(rows)  # the public dataset is not in time order either
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return chain_of


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_5000_row_twcs_file_builds_one_conversation_per_reply_chain(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    source = cli_env / "twcs.csv"
    chain_of = write_twcs_file(source, 5000)
    runner = CliRunner()

    first = runner.invoke(app, ["ingest", str(source), "--workspace", "acme"])
    assert first.exit_code == 0, first.output
    assert "read 5000, accepted 5000, duplicates 0, rejected 0" in first.output

    with session_factory() as s:
        conversation_of = dict(
            s.execute(select(Message.external_id, Message.conversation_id)).all()
        )
        live_cases = s.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.merged_into_id.is_(None))
        )
        brand_replies = s.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "outbound")
        )
    chains: dict[int, set[int]] = defaultdict(set)
    for tweet_id, chain in chain_of.items():
        chains[chain].add(conversation_of[tweet_id])
    assert all(len(cases) == 1 for cases in chains.values())  # a chain is never split
    assert len({next(iter(c)) for c in chains.values()}) == len(chains)  # nor joined to another
    assert live_cases == len(chains)
    assert brand_replies == sum(1 for row in rows_of(source) if row["inbound"] == "False")

    second = runner.invoke(app, ["ingest", str(source), "--workspace", "acme"])
    assert second.exit_code == 0, second.output
    assert "accepted 0, duplicates 5000" in second.output
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 5000
        assert s.scalar(select(func.count()).select_from(RawEvent)) == 5000


def test_brand_answers_keep_the_real_response_time(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    source = cli_env / "pair.csv"
    source.write_text(
        ",".join(HEADER)
        + "\n1,555,True,Tue Oct 31 22:10:47 +0000 2017,@AcmeCare my router is dead,2,\n"
        + '2,AcmeCare,False,Tue Oct 31 22:41:47 +0000 2017,"@555 sorry, DM us",,1\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["ingest", str(source)])
    assert result.exit_code == 0, result.output
    with session_factory() as s:
        task = s.scalars(select(Task)).one()
        assert task.status == "pending"
        assert task.first_response_at is not None
        assert task.first_response_at - task.waiting_since == timedelta(minutes=31)


def test_bad_rows_are_reported_kept_and_skipped(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    source = cli_env / "mixed.csv"
    good = "1,555,True,Tue Oct 31 22:10:47 +0000 2017,fine,,\n"
    source.write_bytes(
        (",".join(HEADER) + "\n" + good).encode()
        + b"2,556,True,Tue Oct 31 22:11:47 +0000 2017,broken \xff\xfe bytes,,\n"
        + b"3,557,maybe,Tue Oct 31 22:12:47 +0000 2017,what,,\n"
        + b"4,558,True,yesterday,when,,\n"
        + b"5,559,True,Tue Oct 31 22:13:47 +0000 2017,too,many,fields,here\n"
        + "6,560,True,Tue Oct 31 22:14:47 +0000 2017,שלום 👋🏽 e\u0301,,\n".encode()
    )
    result = CliRunner().invoke(app, ["ingest", str(source)])
    assert result.exit_code == 0, result.output
    assert "read 2, accepted 2, duplicates 0, rejected 4" in result.output
    assert f"{source}:3: invalid UTF-8" in result.output
    assert f"{source}:4: inbound must be True or False" in result.output
    rejects = [
        json.loads(line)
        for line in (cli_env / "mixed.csv.rejects.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["line"] for r in rejects] == [3, 4, 5, 6]
    assert "created_at 'yesterday'" in rejects[2]["reason"]
    assert "expected 7 fields, found 8" in rejects[3]["reason"]
    with session_factory() as s:
        texts = set(s.scalars(select(Message.text)))
    assert texts == {"fine", "שלום 👋🏽 e\u0301"}


def test_jsonl_lines_are_validated_one_by_one(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    source = cli_env / "events.jsonl"
    ok = {
        "channel": "facebook",
        "external_id": "fb-1",
        "author": {"id": "u1", "name": "Dana"},
        "text": "x" * 10_000,
        "created_at": "2026-11-02T09:00:00Z",
    }
    lines = [
        json.dumps(ok),
        "{not json",
        json.dumps({**ok, "external_id": "fb-2", "channel": "myspace"}),
        json.dumps({**ok, "external_id": "fb-3", "created_at": "2026-11-02T09:00:00"}),
        "[1, 2]",
        "",
        json.dumps({**ok, "external_id": "fb-4"}),
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(source), "--rejects", str(cli_env / "r.jsonl")])
    assert result.exit_code == 0, result.output
    assert "read 2, accepted 2, duplicates 0, rejected 4" in result.output
    reasons = [json.loads(x)["reason"] for x in (cli_env / "r.jsonl").read_text().splitlines()]
    assert reasons[0].startswith("not JSON")
    assert reasons[1].startswith("channel: Input should be")
    assert "timezone" in reasons[2]
    assert reasons[3] == "a line must hold one JSON object"
    with session_factory() as s:
        assert {len(t) for t in s.scalars(select(Message.text))} == {10_000}


def test_nothing_readable_is_a_failure(cli_env: Path) -> None:
    empty = cli_env / "empty.jsonl"
    empty.write_text("{broken\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(empty), str(cli_env / "missing.csv")])
    assert result.exit_code == 1
    assert "missing.csv: no such file" in result.output
    assert "read 0, accepted 0, duplicates 0, rejected 1" in result.output


def test_failed_events_are_listed_and_can_be_retried(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    from socialdesk.core.workspaces import ensure_workspace
    from tests.ingest.factories import event, store_failed

    with session_factory() as s:
        workspace_id = ensure_workspace(s, "acme").id
        s.commit()
    fix = store_failed(session_factory, workspace_id, event("e1", "u1", text="router down"))

    runner = CliRunner()
    listed = runner.invoke(app, ["events", "failed", "-w", "acme"])
    assert listed.exit_code == 0
    assert "e1" in listed.stdout and "invalid stored event" in listed.stdout

    fix()
    retried = runner.invoke(app, ["events", "retry", "-w", "acme"])
    assert "retried 1: processed 1, failed 0" in retried.output
    with session_factory() as s:
        assert s.scalars(select(Message.text)).one() == "router down"
    assert "0 failed event(s)" in runner.invoke(app, ["events", "failed", "-w", "acme"]).output
