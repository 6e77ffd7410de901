"""What the demo telecom brand's team has prepared: canned replies and help articles.

Seeded once, so that the composer's canned replies and knowledge suggestions show something
on the first sign-in. The help centre's links point at a reserved example domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from socialdesk.knowledge import repository as knowledge_repo
from socialdesk.knowledge.service import save_article, save_canned_reply

DEMO_TAXONOMY = "telecom"
HELP_CENTRE = "https://help.acme-telecom.example"


@dataclass(frozen=True)
class Canned:
    shortcut: str
    title: str
    body: str
    channel: str | None = None


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    body: str
    tags: tuple[str, ...]


DEMO_CANNED = (
    Canned(
        "sorry",
        "Apology and DM",
        "Hi {customer_name}, sorry for the trouble. Could you send us a DM with your account "
        "number so we can look into it? {agent_name}",
    ),
    Canned(
        "outage",
        "Known outage in the area",
        "Hi {customer_name}, there is a known network outage in some areas and our engineers "
        "are on it. We expect service back within a few hours; we will update you here. "
        "{agent_name}",
    ),
    Canned(
        "bill",
        "Billing check",
        "Hi {customer_name}, we are sorry your bill looks wrong. Please DM us the bill date and "
        "the amount you expected, and we will check it line by line. {agent_name}",
    ),
    Canned(
        "router",
        "Router restart steps",
        "Hi {customer_name}, please unplug the router for 30 seconds, plug it back in and wait "
        "for the lights to turn steady. If it still fails, tell us which light blinks. "
        "{agent_name}",
    ),
    Canned(
        "thanks",
        "Thanks for the kind words",
        "Thank you {customer_name}, we will pass this on to the team! {agent_name}",
    ),
    Canned(
        "email-followup",
        "E-mail follow-up",
        "Hello {customer_name},\n\nThank you for writing to us about case {case_id}. We have "
        "checked your account and will follow up by e-mail within one working day.\n\n"
        "Kind regards,\n{agent_name}\nAcme Telecom Care",
        channel="email",
    ),
)

DEMO_ARTICLES = (
    Article(
        "outage-status",
        "Check for outages in your area",
        "See whether a network outage, no signal or internet down affects your postcode, "
        "and when service is expected back.",
        ("outage", "no signal", "internet", "network"),
    ),
    Article(
        "restart-router",
        "Restart and reset your router",
        "Steps to restart a router or modem whose wifi is slow, keeps dropping or is not "
        "working, and when to do a factory reset.",
        ("router", "wifi", "slow", "modem"),
    ),
    Article(
        "understand-bill",
        "Understand your bill",
        "What each line of a bill means, why a bill can be higher than expected, overcharge "
        "and refund requests, and how to dispute a charge.",
        ("billing", "bill", "refund", "charge"),
    ),
    Article(
        "roaming",
        "Roaming abroad",
        "Roaming charges, data abroad and how to turn roaming on or off before travel.",
        ("roaming", "abroad", "data"),
    ),
    Article(
        "switch-plan",
        "Change or cancel your plan",
        "Upgrade, downgrade or cancel a contract or plan, early termination fees and porting "
        "a number to another provider.",
        ("plan", "contract", "cancel", "upgrade"),
    ),
    Article(
        "sim-activation",
        "Activate a new SIM or eSIM",
        "Activate a SIM card or eSIM, move a number to a new phone, and what to do when a SIM "
        "is not recognised.",
        ("sim", "esim", "activation", "phone"),
    ),
)


def seed_knowledge(session: Session, workspace_id: int) -> None:
    """The demo brand's canned replies and help articles, added where missing."""
    existing = {c.shortcut for c in knowledge_repo.canned_replies(session, workspace_id)}
    for canned in DEMO_CANNED:
        if canned.shortcut not in existing:
            save_canned_reply(
                session,
                workspace_id=workspace_id,
                shortcut=canned.shortcut,
                title=canned.title,
                body=canned.body,
                channel=canned.channel,
            )
    links = {a.url for a in knowledge_repo.articles(session, workspace_id)}
    for article in DEMO_ARTICLES:
        url = f"{HELP_CENTRE}/{article.slug}"
        if url not in links:
            save_article(
                session,
                workspace_id=workspace_id,
                title=article.title,
                url=url,
                body=article.body,
                tags=list(article.tags),
            )
    session.flush()
