"""Grouping related messages into incidents by hashtag, topic, terms and embeddings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialdesk.listening.grouping import (
    GroupingPolicy,
    GroupItem,
    Incident,
    content_terms,
    group_messages,
    match,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def item(
    n: int, text: str, topic: str | None = None, vector: tuple[float, ...] | None = None
) -> GroupItem:
    return GroupItem(
        id=f"m{n}", at=T0 + timedelta(minutes=n), text=text, topic=topic, vector=vector
    )


def test_an_alarm_on_a_hashtag_collects_the_messages_carrying_it_and_their_kin() -> None:
    incident = Incident.from_seed("hashtag:#acmefail", T0)
    messages = [
        item(1, "@Acme your new fees are a scam #AcmeFail"),
        item(2, "cancelling my contract over the new fees #acmefail"),
        item(3, "new fees again?? #AcmeFail cancelling"),
        item(4, "these new fees are a scam, cancelling my contract"),  # no hashtag: by terms
        item(5, "thanks for fixing my router so quickly!"),
    ]
    [grouped] = group_messages(messages, seeds=[incident], open_new=False)
    assert grouped.ids == ["m1", "m2", "m3", "m4"]


def test_topic_alarm_groups_by_topic() -> None:
    incident = Incident.from_seed("topic:outage", T0)
    assert match(item(1, "no signal", topic="outage"), incident) is not None
    assert match(item(2, "bill too high", topic="billing"), incident) is None


def test_embedding_similarity_groups_when_vectors_are_given() -> None:
    incident = Incident(key="manual")
    incident.add(item(1, "phone dead", vector=(1.0, 0.0, 0.1)))
    near = match(item(2, "mobile not working", vector=(0.9, 0.05, 0.1)), incident)
    far = match(item(3, "great shop", vector=(0.0, 1.0, 0.0)), incident)
    assert near is not None and near.reason.startswith("embedding")
    assert far is None


def test_messages_long_after_an_incident_go_quiet_do_not_join_it() -> None:
    incident = Incident.from_seed("hashtag:#acmedown", T0)
    policy = GroupingPolicy(window=timedelta(hours=2))
    late = GroupItem(id="late", at=T0 + timedelta(hours=3), text="#AcmeDown")
    assert match(late, incident, policy) is None


def test_unseeded_grouping_opens_one_incident_per_story() -> None:
    messages = [
        item(1, "down again #AcmeDown"),
        item(2, "my bill doubled", topic="billing"),
        item(3, "still down #acmedown"),
        item(4, "billing error on my account", topic="billing"),
    ]
    groups = group_messages(messages)
    assert sorted(sorted(g.ids) for g in groups) == [["m1", "m3"], ["m2", "m4"]]


def test_content_terms_drop_stop_words_handles_and_links() -> None:
    assert content_terms("@Acme the network is DOWN https://x.co/a #fail") == {"network", "down"}
