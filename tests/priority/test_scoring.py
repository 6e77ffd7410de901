"""Business value: what makes an item come first, and the breakdown that explains it."""

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.priority.scoring import (
    FACTORS,
    ScoringInput,
    ValuePolicy,
    ValueWeights,
    score_value,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def item(**overrides: object) -> ScoringInput:
    base: dict[str, object] = {
        "channel": "x",
        "visibility": "public",
        "created_at": NOW - timedelta(minutes=10),
    }
    base.update(overrides)
    return ScoringInput(**base)  # type: ignore[arg-type]


def score(policy: ValuePolicy = ValuePolicy(), **overrides: object) -> float:
    return score_value(item(**overrides), policy, NOW).total


def test_the_breakdown_names_every_factor_and_adds_up_to_the_total() -> None:
    result = score_value(
        item(kind="complaint", sentiment=-0.8, followers=20_000, customer_tier="gold"),
        ValuePolicy(),
        NOW,
    )
    assert set(result.breakdown) == set(FACTORS)
    assert result.total == pytest.approx(sum(result.breakdown.values()))
    assert result.breakdown["kind"] == pytest.approx(15.0)
    assert result.breakdown["customer_value"] == pytest.approx(20.0 * 0.75)


def test_a_score_stays_between_zero_and_the_sum_of_the_weights() -> None:
    everything = score(
        kind="complaint",
        sentiment=-1.0,
        severity=1.0,
        urgency=1.0,
        sales_opportunity=1.0,
        customer_tier="platinum",
        followers=10_000_000,
        verified=True,
        engagement=1.0,
        likes=100_000,
        reposts=100_000,
        repeat_contacts=10,
    )
    nothing = score(kind="spam", visibility="private", sentiment=1.0)
    assert everything == pytest.approx(ValuePolicy().max_score, rel=0.01)
    assert nothing == 0.0


def test_complaints_and_sales_leads_outrank_praise() -> None:
    assert score(kind="complaint") > score(kind="praise")
    assert score(kind="sales_lead") > score(kind="praise")
    assert score(kind="complaint") > score(kind="sales_lead")


def test_valuable_customers_come_before_unknown_ones() -> None:
    assert score(customer_tier="platinum") > score(customer_tier="silver") > score()
    assert score(lifetime_value=50_000.0) > score(lifetime_value=500.0) > score()
    # Tier names from a CRM are matched without regard to case or spaces.
    assert score(customer_tier=" Gold ") == score(customer_tier="gold")


def test_influence_grows_with_followers_and_verification() -> None:
    assert score(followers=1_000_000) > score(followers=10_000) > score(followers=10)
    assert score(followers=10_000, verified=True) > score(followers=10_000)


def test_anger_and_severity_raise_the_score() -> None:
    assert score(sentiment=-0.9) > score(sentiment=-0.2) > score(sentiment=0.5)
    assert score(sentiment=0.0, severity=0.8) > score(sentiment=0.0)
    assert score(sentiment=-0.5, severity=0.5) > score(sentiment=-0.5)


def test_public_posts_weigh_more_than_private_messages() -> None:
    assert score(visibility="public") > score(visibility="private")


def test_a_post_that_gathers_reactions_fast_is_more_viral_than_a_slow_one() -> None:
    fast = score(likes=200, reposts=50, created_at=NOW - timedelta(minutes=30))
    slow = score(likes=200, reposts=50, created_at=NOW - timedelta(days=3))
    assert fast > slow > score()


def test_repeat_contacts_and_sales_opportunities_count() -> None:
    assert score(repeat_contacts=3) > score(repeat_contacts=1) > score()
    assert score(sales_opportunity=0.9) > score()


def test_weights_are_the_admins_to_set() -> None:
    only_influence = ValuePolicy(
        weights=ValueWeights(**{name: 0.0 for name in FACTORS} | {"influence": 1.0})
    )
    assert score(only_influence, kind="complaint", customer_tier="vip") == 0.0
    assert score(only_influence, followers=100_000) == pytest.approx(1.0)
    louder = ValuePolicy().with_weights(customer_value=80.0)
    assert score(louder, customer_tier="vip") - score(customer_tier="vip") == pytest.approx(60.0)


def test_policies_round_trip_through_their_stored_form() -> None:
    policy = ValuePolicy(
        weights=ValueWeights(influence=30.0), tier_values={"gold": 0.9}, followers_full=5_000
    )
    assert ValuePolicy.from_dict(policy.to_dict()) == policy
    assert ValuePolicy.from_dict({}) == ValuePolicy()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weights": {"influence": -1}}, "influence"),
        ({"weights": {"reach": 3}}, "unknown weights: reach"),
        ({"colour": "red"}, "unknown value policy settings: colour"),
        ({"tier_values": {"gold": 2.0}}, "tier_values"),
        ({"followers_full": 0}, "followers_full"),
    ],
)
def test_bad_policies_are_refused_with_the_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ValuePolicy.from_dict(data)


def test_top_reasons_say_why_an_item_is_first() -> None:
    result = score_value(
        item(customer_tier="vip", sentiment=-1.0, kind="praise", visibility="private"),
        ValuePolicy(),
        NOW,
    )
    assert result.top_reasons(2) == ["customer_value", "sentiment"]
