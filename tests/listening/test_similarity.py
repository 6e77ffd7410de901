"""Grouping by meaning: a message that shares no hashtag, topic or terms with an incident
joins it when its embedding lies close to the incident's messages."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening import incidents, repository
from socialdesk.listening.similarity import RememberingEncoder, close_in_meaning
from socialdesk.people.models import User
from socialdesk.triage import embedding
from tests.embedding_marks import needs_embedding
from tests.listening.conftest import NOW, post

OUTAGE = [
    "No signal at all since 8am #AcmeDown",
    "my phone has had no service for hours #AcmeDown",
    "network is completely down in Leeds #AcmeDown",
]
SAME_FAILURE = "can't make any calls, the mobile network seems dead"
UNRELATED = ["love the design of the new phone", "what time does the shop on Main St open?"]


def counting_words(texts: list[str]) -> np.ndarray:
    """A plain encoder for the rule's arithmetic: one dimension per word of a vocabulary."""
    vocabulary = ["signal", "network", "down", "shop", "bill"]
    return np.array([[t.lower().count(w) for w in vocabulary] for t in texts], dtype=float)


def test_candidates_near_the_members_centroid_are_chosen_and_others_not() -> None:
    members = ["signal down", "network down", "signal network down"]
    candidates = ["the network is down", "shop bill", "", "signal"]
    assert close_in_meaning(members, candidates, counting_words) == [0]  # cosine 0.86
    assert close_in_meaning(members, candidates, counting_words, threshold=0.4) == [0, 3]


def test_an_incident_of_too_few_messages_compares_nothing() -> None:
    assert close_in_meaning(["signal down", "network down"], ["network down"], counting_words) == []


@needs_embedding
def test_the_embedding_tier_tells_the_same_failure_from_other_posts() -> None:
    chosen = close_in_meaning(OUTAGE, [SAME_FAILURE, *UNRELATED], embedding.encode)
    assert chosen == [0]


@needs_embedding
def test_an_open_incident_takes_in_a_new_post_close_in_meaning(
    pipeline: Pipeline,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
) -> None:
    pipeline.ingest(workspace.id, [post(i, text, minutes=i) for i, text in enumerate(OUTAGE)])
    with session_factory() as s:
        incident = incidents.open_incident(
            s,
            workspace.id,
            title="Network outage",
            criteria={"hashtags": ["#AcmeDown"]},
            now=NOW,
            user_id=supervisor.id,
        )
        s.commit()
        incident_id = incident.id
    later = [post(10, SAME_FAILURE, minutes=5), post(11, UNRELATED[0], minutes=6)]
    pipeline.ingest(workspace.id, later)
    with session_factory() as s:
        found = repository.lock_incident(s, workspace.id, incident_id)
        assert found is not None
        fresh = repository.inbound_between(s, workspace.id, NOW - timedelta(hours=1), NOW)
        assert incidents.absorb(s, found, fresh, NOW) == 1
        s.commit()
        members = incidents.view(s, workspace.id, incident_id).members
        assert sorted(m.text for m in members) == sorted([*OUTAGE, SAME_FAILURE])


def test_the_remembering_encoder_encodes_each_text_once_and_stays_bounded() -> None:
    seen: list[str] = []

    def spy(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return counting_words(texts)

    encode = RememberingEncoder(spy, capacity=3)
    first = encode(["signal down", "network down", "signal down"])
    assert seen == ["signal down", "network down"]
    again = encode(["network down", "shop bill"])
    assert seen == ["signal down", "network down", "shop bill"]  # only the new text
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again, counting_words(["network down", "shop bill"]))
    encode(["bill"])
    assert len(encode) == 3  # the least recently used text made room
    encode(["signal down"])
    assert seen[-1] == "signal down"
