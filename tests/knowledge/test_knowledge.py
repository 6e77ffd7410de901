"""Canned replies with placeholders, knowledge base articles and their suggestions."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from socialdesk.core.errors import Conflict, InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.knowledge import placeholders
from socialdesk.knowledge.service import (
    render_canned_reply,
    save_article,
    save_canned_reply,
    suggestions_for,
)
from socialdesk.knowledge.suggest import ArticleText, suggest, words


def test_known_placeholders_are_filled_and_unknown_ones_stay_for_the_agent() -> None:
    text = placeholders.fill(
        "Hi {customer_name}, it's {agent_name}. Your order {order_id}?",
        {"customer_name": "Dana", "agent_name": "Ana"},
    )
    assert text == "Hi Dana, it's Ana. Your order {order_id}?"


def test_a_value_that_looks_like_a_placeholder_is_not_expanded_again() -> None:
    assert (
        placeholders.fill("{customer_name}", {"customer_name": "{agent_name}", "agent_name": "x"})
        == "{agent_name}"
    )


def test_empty_values_leave_the_placeholder_visible() -> None:
    assert placeholders.fill("Hi {customer_name}", {"customer_name": ""}) == "Hi {customer_name}"
    assert placeholders.placeholders_in("{a} {b} {a}") == ["a", "b"]


ARTICLES = [
    ArticleText(1, "Reset your router", "Unplug the router for thirty seconds.", ("outage",)),
    ArticleText(2, "How refunds work", "Refunds reach your card within five days.", ("billing",)),
    ArticleText(3, "Delivery times", "Parcels arrive in two to four days.", ("delivery",)),
]


def test_suggestions_rank_the_article_about_the_customers_problem_first() -> None:
    ranked = suggest("still waiting for my refund, where are my refunds??", ARTICLES)
    assert [s.article_id for s in ranked] == [2]
    assert ranked[0].matched == ("refund",)
    assert suggest("my router keeps dropping", ARTICLES)[0].article_id == 1


def test_no_shared_words_means_no_suggestion() -> None:
    assert suggest("🙂🙂🙂", ARTICLES) == []
    assert suggest("", ARTICLES) == []
    assert "the" not in words("the the the router")


def test_canned_replies_are_validated_and_unique_per_shortcut(
    session: Session, workspace: Workspace
) -> None:
    reply = save_canned_reply(
        session,
        workspace_id=workspace.id,
        shortcut="Hello",
        title="Greeting",
        body="Hi {customer_name}",
    )
    assert reply.shortcut == "hello"
    with pytest.raises(Conflict):
        save_canned_reply(session, workspace_id=workspace.id, shortcut="hello", title="x", body="y")
    with pytest.raises(InvalidInput):
        save_canned_reply(
            session, workspace_id=workspace.id, shortcut="no spaces", title="x", body="y"
        )
    text = render_canned_reply(
        session, workspace_id=workspace.id, reply_id=reply.id, values={"customer_name": "Lin"}
    )
    assert text == "Hi Lin"


def test_articles_only_link_to_web_pages(session: Session, workspace: Workspace) -> None:
    for bad in ("javascript:alert(1)", "data:text/html,<b>x</b>", "//evil.test/x", "ftp://x.test/"):
        with pytest.raises(InvalidInput):
            save_article(session, workspace_id=workspace.id, title="x", url=bad)
    article = save_article(
        session,
        workspace_id=workspace.id,
        title="Outage map",
        url="https://status.acme.test/",
        tags=["Outage", " outage ", ""],
    )
    assert article.tags == ["outage"]
    found = suggestions_for(session, workspace_id=workspace.id, message="is there an outage?")
    assert [a.id for a, _ in found] == [article.id]
