"""Topic taxonomies: each workspace picks a default one for its sector or defines its own.

A topic has an id, a description an agent reads, and cue words that let a fresh install
recognise it before any model has been trained on the brand's own messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from socialdesk.core.errors import InvalidInput
from socialdesk.triage.lexicon import Lexicon
from socialdesk.triage.taxonomy_cues import TRANSLATED_CUES


@dataclass(frozen=True)
class Topic:
    id: str
    description: str
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    name: str
    topics: tuple[Topic, ...]
    _lexicons: dict[str, Lexicon] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for topic in self.topics:
            if topic.cues:
                self._lexicons[topic.id] = Lexicon(topic.cues)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    def match(self, text: str, prefixes: frozenset[str] | None = None) -> dict[str, list[str]]:
        """The cues of each topic found in the text."""
        found: dict[str, list[str]] = {}
        for topic_id, lexicon in self._lexicons.items():
            hits = lexicon.findall(text, prefixes)
            if hits:
                found[topic_id] = hits
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "topics": [
                {"id": t.id, "description": t.description, "cues": list(t.cues)}
                for t in self.topics
            ],
        }


def _t(topic_id: str, description: str, *cues: str) -> Topic:
    return Topic(topic_id, description, cues)


_COMMON = (
    _t(
        "billing",
        "Charges, invoices, payments, double charges, fees.",
        "bill*",
        "charge*",
        "invoice*",
        "overcharg*",
        "fee",
        "fees",
        "payment*",
        "direct debit",
        "paid twice",
        "statement",
    ),
    _t(
        "refund",
        "Money back, reimbursement, compensation.",
        "refund*",
        "reimburs*",
        "money back",
        "compensat*",
        "voucher",
        "credit back",
    ),
    _t(
        "account_access",
        "Log-in, password, locked or hacked accounts, two-factor codes.",
        "login",
        "log in",
        "logged out",
        "sign in",
        "password*",
        "locked out",
        "hacked",
        "two factor",
        "two-factor",
        "verification code",
        "can't access",
        "cannot access",
        "reset link",
    ),
    _t(
        "cancellation",
        "Ending a contract, subscription or account.",
        "cancel my",
        "close my account",
        "terminate*",
        "unsubscribe",
        "end my contract",
    ),
    _t(
        "customer_service",
        "How the customer was treated: waiting, rude staff, no answer, call centre.",
        "customer service",
        "on hold",
        "hold music",
        "no one answers",
        "nobody answers",
        "rude",
        "agent*",
        "call center",
        "call centre",
        "hung up",
        "no response",
        "waiting for a reply",
        "chat support",
        "helpline",
    ),
)

_TELECOM = (
    _t(
        "outage",
        "No signal, no internet, network or service down.",
        "outage",
        "no signal",
        "no service",
        "no internet",
        "internet down",
        "internet is down",
        "internet's down",
        "internet went down",
        "network down",
        "network is down",
        "no wifi",
        "no broadband",
        "no connection",
        "lost connection",
        "connection down",
        "down again",
        "wifi down",
        "offline",
        "not working",
        "keeps dropping",
        "disconnect*",
        "been down",
        "connection drops",
        "signal drops",
        "service be back",
        "back online",
    ),
    _t(
        "slow_speed",
        "Slow broadband or mobile data.",
        "slow",
        "speed*",
        "mbps",
        "buffering",
        "lag*",
        "latency",
    ),
    _t(
        "device_defect",
        "Faulty phone, router, modem or set-top box.",
        "router",
        "modem",
        "handset",
        "sim card",
        "set-top box",
        "faulty",
        "broken",
        "defect*",
        "screen",
    ),
    _t(
        "plan_change",
        "Upgrades, plan or tariff changes, roaming, data allowance.",
        "upgrade*",
        "plan",
        "tariff",
        "roaming",
        "data allowance",
        "contract",
        "bundle",
    ),
    _t(
        "installation",
        "Engineer visits, installation and activation.",
        "engineer",
        "technician",
        "install*",
        "activation",
        "activate",
        "appointment",
    ),
)

_RETAIL = (
    _t(
        "delivery",
        "Late, missing or wrong deliveries and tracking.",
        "deliver*",
        "parcel",
        "package",
        "shipping",
        "shipment",
        "courier",
        "tracking",
        "arrived",
        "hasn't arrived",
        "never arrived",
        "order",
    ),
    _t(
        "product_defect",
        "Broken, faulty or poor-quality products.",
        "broken",
        "faulty",
        "defect*",
        "damaged",
        "stopped working",
        "poor quality",
        "cracked",
        "ripped",
    ),
    _t(
        "returns",
        "Returning or exchanging items.",
        "return*",
        "exchange",
        "send it back",
        "return label",
    ),
    _t(
        "stock",
        "Availability, sold out items, restocks.",
        "in stock",
        "out of stock",
        "sold out",
        "restock*",
        "available",
        "availability",
    ),
    _t(
        "store_experience",
        "Shops, staff in store, queues at the till.",
        "store",
        "shop",
        "cashier",
        "checkout",
        "queue",
        "branch",
    ),
    _t(
        "promotion",
        "Discounts, coupons, promo codes, loyalty points.",
        "discount*",
        "coupon*",
        "promo*",
        "code",
        "sale",
        "points",
        "loyalty",
    ),
)

_AIRLINE = (
    _t(
        "late_trip",
        "Delays: late departures or arrivals, missed connections.",
        "delay*",
        "late",
        "waiting on the tarmac",
        "missed my connection",
        "missed connection",
        "still waiting",
        "hours late",
        "stuck",
        "on the runway",
        "sitting on",
    ),
    _t(
        "cancelled_trip",
        "Cancelled flights or trips and rebooking after them.",
        "cancelled",
        "canceled",
        "cancellation*",
        "rebook*",
        "re-book*",
    ),
    _t(
        "lost_baggage",
        "Bags that did not arrive or are lost.",
        "lost bag*",
        "lost luggage",
        "lost my bag*",
        "missing bag*",
        "bag*",
        "luggage",
        "suitcase",
        "baggage claim",
    ),
    _t(
        "damaged_baggage",
        "Bags or belongings damaged in transit.",
        "damaged",
        "broken suitcase",
        "ripped",
        "torn",
        "destroyed",
    ),
    _t(
        "booking",
        "Booking, changing or paying for a ticket; website and app problems while booking.",
        "book*",
        "reservation*",
        "ticket*",
        "change my flight",
        "change fee",
        "website",
        "app",
        "itinerary",
        "seat*",
        "upgrade*",
        "miles",
        "points",
    ),
    _t(
        "crew",
        "Flight attendants, pilots and gate staff.",
        "flight attendant*",
        "attendant*",
        "crew",
        "pilot",
        "gate agent*",
        "stewardess",
        "staff",
    ),
    _t(
        "onboard_experience",
        "Seats, food, entertainment, wifi and comfort on board.",
        "legroom",
        "food",
        "meal*",
        "wifi",
        "entertainment",
        "uncomfortable",
        "dirty",
        "bumpy",
        "turbulence",
        "broken seat",
    ),
    _t(
        "queues",
        "Long lines at check-in, security or the service desk.",
        "line",
        "lines",
        "queue*",
        "check-in",
        "check in",
        "counter",
    ),
)

_UTILITIES = (
    _t(
        "outage",
        "Power, gas or water cut off or down.",
        "outage",
        "power cut",
        "blackout",
        "no power",
        "no electricity",
        "no water",
        "no gas",
        "no heating",
        "supply",
    ),
    _t(
        "meter_reading",
        "Meters, readings, smart meters and estimated bills.",
        "meter*",
        "reading*",
        "estimated",
        "smart meter",
    ),
    _t(
        "tariff",
        "Prices, tariffs, price rises and switching plans.",
        "tariff*",
        "price*",
        "rate*",
        "fixed deal",
        "unit rate",
        "standing charge",
    ),
    _t(
        "engineer_visit",
        "Appointments and repairs by an engineer.",
        "engineer",
        "appointment",
        "repair*",
        "technician",
        "visit",
    ),
    _t(
        "leak_or_hazard",
        "Gas smells, leaks, sparks, floods.",
        "gas smell",
        "smell gas",
        "leak*",
        "sparks",
        "flood*",
        "burst",
    ),
)

_INSURANCE = (
    _t(
        "claim",
        "Making a claim or chasing one.",
        "claim*",
        "adjuster",
        "assessor",
        "settlement",
        "payout",
    ),
    _t(
        "policy",
        "Policies, cover, renewals and documents.",
        "policy",
        "cover",
        "coverage",
        "renewal",
        "renew*",
        "documents",
    ),
    _t(
        "premium",
        "Premiums and price increases.",
        "premium*",
        "quote*",
        "price*",
        "increase*",
        "excess",
        "deductible",
    ),
    _t(
        "accident",
        "Accidents, breakdowns and emergencies needing help now.",
        "accident",
        "crash*",
        "breakdown",
        "broke down",
        "towing",
        "stranded",
    ),
)

_PUBLIC_SECTOR = (
    _t(
        "application_status",
        "Applications, permits, licences and their progress.",
        "application*",
        "permit*",
        "licen*",
        "passport",
        "visa",
        "status",
        "processing",
    ),
    _t(
        "benefits",
        "Benefits, allowances, pensions and their payments.",
        "benefit*",
        "allowance",
        "pension*",
        "universal credit",
        "welfare",
    ),
    _t(
        "taxes_and_fees",
        "Tax, council tax, fines and public fees.",
        "tax*",
        "fine",
        "fines",
        "penalty",
        "council tax",
    ),
    _t(
        "public_services",
        "Waste collection, roads, transport, parks and other services.",
        "bin*",
        "rubbish",
        "trash",
        "pothole*",
        "road*",
        "bus",
        "buses",
        "train*",
        "street light*",
        "park",
    ),
    _t(
        "appointment",
        "Booking or missing an appointment.",
        "appointment*",
        "booking",
        "slot",
    ),
)


def _compose(name: str, specific: Iterable[Topic]) -> Taxonomy:
    specific = tuple(specific)
    ids = {t.id for t in specific}
    topics = specific + tuple(t for t in _COMMON if t.id not in ids)
    return Taxonomy(name, tuple(_translated(t) for t in topics))


def _translated(topic: Topic) -> Topic:
    """The topic with its cues in the other languages read on day one."""
    extra = TRANSLATED_CUES.get(topic.id, ())
    return Topic(topic.id, topic.description, topic.cues + extra) if extra else topic


DEFAULT_TAXONOMIES: dict[str, Taxonomy] = {
    "telecom": _compose("telecom", _TELECOM),
    "retail": _compose("retail", _RETAIL),
    "airline": _compose("airline", _AIRLINE),
    "utilities": _compose("utilities", _UTILITIES),
    "insurance": _compose("insurance", _INSURANCE),
    "public_sector": _compose("public_sector", _PUBLIC_SECTOR),
    "general": _compose("general", ()),
}


def taxonomy_for_sector(sector: str | None) -> str:
    """The default taxonomy of a brand's sector (its name, normalised); InvalidInput lists the
    sectors that have one."""
    name = (sector or "general").strip().lower().replace("-", "_").replace(" ", "_")
    if name not in DEFAULT_TAXONOMIES:
        known = ", ".join(sorted(DEFAULT_TAXONOMIES))
        raise InvalidInput(f"unknown sector {sector!r}; known: {known}")
    return name


def taxonomy_from_settings(settings: Mapping[str, Any] | None) -> Taxonomy:
    """The workspace's taxonomy: ``settings["triage"]["taxonomy"]`` is a sector name or a
    custom ``{"name": ..., "topics": [{"id", "description", "cues"}]}``."""
    triage = (settings or {}).get("triage") or {}
    spec = triage.get("taxonomy", "general")
    if isinstance(spec, str):
        if spec not in DEFAULT_TAXONOMIES:
            known = ", ".join(sorted(DEFAULT_TAXONOMIES))
            raise InvalidInput(f"unknown taxonomy {spec!r}; known: {known}")
        return DEFAULT_TAXONOMIES[spec]
    return taxonomy_from_dict(spec)


def taxonomy_from_dict(spec: Mapping[str, Any]) -> Taxonomy:
    try:
        topics = tuple(
            Topic(
                str(t["id"]),
                str(t.get("description", "")),
                tuple(str(c) for c in t.get("cues", ())),
            )
            for t in spec["topics"]
        )
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"a taxonomy needs topics with an id each: {exc}") from exc
    if not topics:
        raise InvalidInput("a taxonomy needs at least one topic")
    return Taxonomy(str(spec.get("name", "custom")), topics)
