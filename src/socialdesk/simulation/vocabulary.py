"""Words the traffic generator builds messages from: sectors, topics, templates, names.

All of it is written for socialdesk; none of it comes from a real dataset, so generated
traffic can be shipped, shown in the demo and published in benchmark reports freely.
Templates use ``str.format`` slots: {brand}, {handle}, {product}, {phrase}, {hours},
{days}, {amount}, {city}, {order}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = (
    "complaint",
    "question",
    "request",
    "praise",
    "suggestion",
    "sales_lead",
    "marketing",
    "spam",
    "other",
)


@dataclass(frozen=True, slots=True)
class Topic:
    """One thing customers of a sector write about, with what they say about it."""

    name: str
    complaint: tuple[str, ...]
    question: tuple[str, ...]
    request: tuple[str, ...]
    hashtags: tuple[str, ...] = ()
    severity: float = 0.5
    """How much harm a complaint on this topic signals (0..1); outages and money rank high."""


@dataclass(frozen=True, slots=True)
class Sector:
    name: str
    products: tuple[str, ...]
    topics: tuple[Topic, ...]
    burst_topic: str
    """The topic of a burst (an outage, a failed launch) in this sector."""
    burst_phrases: tuple[str, ...]
    sales_phrases: tuple[str, ...] = field(default=())


TELECOM = Sector(
    name="telecom",
    products=("fibre plan", "router", "SIM", "5G plan", "family bundle", "prepaid plan", "phone"),
    burst_topic="outage",
    burst_phrases=(
        "no signal at all in {city} right now",
        "is the network down?? nothing works in {city}",
        "internet dead again, whole street is offline",
        "mobile data stopped working {hours} minutes ago",
        "can't make calls, can't text, nothing. what is going on",
        "third outage this month, seriously",
    ),
    sales_phrases=(
        "thinking of switching to your {product}, what's the best deal for a family of four",
        "how much would it cost to move my whole office (12 lines) over to you",
        "is the {product} available in {city}? ready to sign up today",
        "my contract with the other guys ends next week, what can you offer me",
    ),
    topics=(
        Topic(
            "billing",
            complaint=(
                "my bill is way higher than it should be this month",
                "I was charged twice for the {product}",
                "there is a {amount} charge on my bill I never agreed to",
                "you keep billing me for a plan I cancelled {days} days ago",
            ),
            question=(
                "why did my bill go up by {amount}?",
                "when is the payment taken each month?",
                "can I get my invoice as a PDF?",
            ),
            request=(
                "please change my billing date to the 15th",
                "please send me an itemised bill for last month",
            ),
            hashtags=("#billing", "#overcharged"),
            severity=0.7,
        ),
        Topic(
            "outage",
            complaint=(
                "internet has been down for {hours} hours",
                "no signal since this morning in {city}",
                "the connection drops every few minutes",
            ),
            question=(
                "is there an outage in {city}?",
                "when will the service be back in {city}?",
            ),
            request=("please send an engineer, the line is dead",),
            hashtags=("#outage", "#down"),
            severity=0.9,
        ),
        Topic(
            "delivery",
            complaint=(
                "my new {product} still hasn't arrived after {days} days",
                "the courier says delivered but nothing came",
                "order {order} was supposed to arrive yesterday",
            ),
            question=(
                "where is my order {order}?",
                "how long does delivery of the {product} take?",
            ),
            request=("please send the {product} to my work address instead",),
            hashtags=("#delivery",),
            severity=0.5,
        ),
        Topic(
            "refund",
            complaint=(
                "still waiting for the refund you promised {days} days ago",
                "you said {amount} would be back on my card, it is not",
            ),
            question=("how long does a refund take?", "has my refund for order {order} gone out?"),
            request=("please refund the {amount} you took by mistake",),
            hashtags=("#refund",),
            severity=0.7,
        ),
        Topic(
            "account_access",
            complaint=(
                "locked out of my account again",
                "the app logs me out every time I open it",
                "password reset email never arrives",
            ),
            question=("how do I change the email on my account?", "why can't I log in?"),
            request=("please unlock my account", "please reset my two-factor settings"),
            hashtags=("#app",),
            severity=0.5,
        ),
        Topic(
            "product_defect",
            complaint=(
                "the {product} keeps rebooting",
                "brand new {product} and it already stopped working",
                "wifi from your {product} barely reaches the next room",
            ),
            question=("is there a firmware update for the {product}?",),
            request=("please replace my faulty {product}",),
            hashtags=("#broken",),
            severity=0.6,
        ),
        Topic(
            "cancellation",
            complaint=(
                "I've been trying to cancel for {days} days and nobody helps",
                "you made it impossible to cancel my {product}",
            ),
            question=("how do I cancel my contract?", "is there an exit fee if I cancel now?"),
            request=("please cancel my {product} at the end of the month",),
            hashtags=("#cancel",),
            severity=0.8,
        ),
        Topic(
            "plan_change",
            complaint=("I upgraded my plan {days} days ago and still get the old speed",),
            question=("can I add a line to my {product}?", "what does the {product} include?"),
            request=("please move me to the {product}",),
            hashtags=(),
            severity=0.3,
        ),
    ),
)

RETAIL = Sector(
    name="retail",
    products=("order", "sneakers", "jacket", "gift card", "store card", "sofa", "coffee maker"),
    burst_topic="website",
    burst_phrases=(
        "checkout keeps failing, can't place my order",
        "the website is down during the sale?!",
        "app crashes every time I add something to the basket",
        "payment taken but no order confirmation",
    ),
    sales_phrases=(
        "do you do bulk discounts? need 40 {product}s for my team",
        "is the {product} back in stock? want to buy two",
        "can I pre-order the new {product}?",
    ),
    topics=(
        Topic(
            "delivery",
            complaint=(
                "order {order} is {days} days late",
                "parcel arrived damaged",
                "only half of my order arrived",
            ),
            question=("where is order {order}?", "do you deliver to {city} on Saturdays?"),
            request=("please change the delivery address of order {order}",),
            hashtags=("#delivery",),
            severity=0.5,
        ),
        Topic(
            "returns",
            complaint=(
                "sent the {product} back {days} days ago and no refund yet",
                "the store refused my return",
            ),
            question=("how do I return a {product}?", "can I return online orders in store?"),
            request=("please send me a return label for order {order}",),
            hashtags=("#returns",),
            severity=0.6,
        ),
        Topic(
            "product_quality",
            complaint=("the {product} fell apart after a week", "wrong size sent twice"),
            question=("is the {product} waterproof?",),
            request=("please replace the faulty {product}",),
            hashtags=("#quality",),
            severity=0.5,
        ),
        Topic(
            "payment",
            complaint=("charged twice for order {order}", "my gift card balance vanished"),
            question=("do you take {product} payments in instalments?",),
            request=("please cancel the duplicate charge of {amount}",),
            hashtags=("#payment",),
            severity=0.7,
        ),
        Topic(
            "website",
            complaint=("checkout fails every time", "your app lost my basket again"),
            question=("is the website down?",),
            request=("please delete my account",),
            hashtags=("#app",),
            severity=0.6,
        ),
    ),
)

UTILITIES = Sector(
    name="utilities",
    products=("tariff", "smart meter", "boiler cover", "solar plan", "EV tariff"),
    burst_topic="power_cut",
    burst_phrases=(
        "power cut in {city}, whole neighbourhood dark",
        "no electricity for {hours} hours now, any news??",
        "gas supply off in {city}, it's freezing",
    ),
    sales_phrases=(
        "how much would the {product} save a house like mine?",
        "moving to {city} next month, want to sign up for your {product}",
    ),
    topics=(
        Topic(
            "power_cut",
            complaint=("power out for {hours} hours in {city}", "third power cut this week"),
            question=("is there a power cut in {city}?",),
            request=("please send someone, sparks from the meter",),
            hashtags=("#powercut",),
            severity=0.95,
        ),
        Topic(
            "billing",
            complaint=("estimated bill of {amount}, that's absurd", "direct debit doubled"),
            question=("why is my bill estimated?",),
            request=("please use my real meter reading",),
            hashtags=("#bill",),
            severity=0.7,
        ),
        Topic(
            "meter",
            complaint=("smart meter stopped sending readings", "engineer didn't show up"),
            question=("when can I get a smart meter?",),
            request=("please book a meter appointment",),
            hashtags=("#smartmeter",),
            severity=0.4,
        ),
        Topic(
            "moving_home",
            complaint=("you're still billing me for my old flat",),
            question=("how do I move my account to a new address?",),
            request=("please close my account on the {days}th",),
            hashtags=(),
            severity=0.4,
        ),
    ),
)

INSURANCE = Sector(
    name="insurance",
    products=("car policy", "home policy", "travel cover", "pet policy", "life cover"),
    burst_topic="claims_portal",
    burst_phrases=(
        "claims portal is down and I need to file NOW",
        "storm damage, can't get through on the phone or the site",
        "your claim line has been busy for {hours} hours",
    ),
    sales_phrases=(
        "need a quote for {product} for a fleet of 8 vans",
        "what would {product} cost for a family of five?",
    ),
    topics=(
        Topic(
            "claims",
            complaint=(
                "my claim has been open {days} days with no answer",
                "claim rejected for no reason",
            ),
            question=("what's the status of claim {order}?", "what do I need to file a claim?"),
            request=("please call me back about claim {order}",),
            hashtags=("#claims",),
            severity=0.85,
        ),
        Topic(
            "renewal",
            complaint=("renewal price up by {amount}, loyal customer for years",),
            question=("why did my {product} renewal go up?",),
            request=("please don't auto-renew my {product}",),
            hashtags=("#renewal",),
            severity=0.6,
        ),
        Topic(
            "documents",
            complaint=("still haven't received my policy documents",),
            question=("where can I download my {product} certificate?",),
            request=("please email me my {product} documents",),
            hashtags=(),
            severity=0.3,
        ),
    ),
)

SECTORS: dict[str, Sector] = {s.name: s for s in (TELECOM, RETAIL, UTILITIES, INSURANCE)}

# Kind-level templates; {phrase} is filled from the topic's phrase lists.
COMPLAINT_FRAMES = (
    "{handle} {phrase}",
    "{handle} {phrase}. not happy.",
    "{phrase} {handle} this is ridiculous",
    "hey {handle}, {phrase}",
    "{handle} {phrase}!! fix it please",
    "Absolutely fed up. {phrase}. {handle}",
    "{phrase}... {brand} customer service at its finest",
    "{handle} {phrase} and no one answers the phone",
)
QUESTION_FRAMES = (
    "{handle} {phrase}",
    "hi {handle}, quick one: {phrase}",
    "{phrase} anyone from {brand}?",
    "{handle} hello, {phrase} thanks",
)
REQUEST_FRAMES = (
    "{handle} {phrase}",
    "{handle} hi, could you {phrase_lower}?",
    "hello {brand}, {phrase}. thanks in advance",
)
PRAISE = (
    "{handle} shout out to the agent who sorted my {product} in 5 minutes",
    "loving the new {product} from {brand}",
    "{handle} thank you, all fixed!",
    "Have to say {brand} support was brilliant today",
    "{handle} best {product} I've had, no complaints at all",
    "finally a company that answers. thanks {handle}",
)
SUGGESTION = (
    "{handle} you should let us pause the {product} while on holiday",
    "{handle} idea: a dark mode for your app?",
    "would be great if {brand} sent a text before the engineer arrives",
    "{handle} please add Apple Pay to the {product} checkout",
)
MARKETING = {
    "coupon": (
        "{handle} does the 20% code work on the {product}?",
        "got the coupon email, code says expired {handle}",
        "{handle} is there a discount code for students?",
    ),
    "contest": (
        "{handle} entering! #Win{brand_tag}",
        "tagging my friends for the {brand} giveaway @sam_r @jo.kim #Win{brand_tag}",
        "{handle} when do you announce the contest winners?",
    ),
    "campaign": (
        "{handle} love the new ad with the dog lol",
        "that {brand} advert is everywhere now",
        "{handle} the billboard in {city} made my day",
    ),
}
SPAM = (
    "EARN $5000 a week from home!!! click my bio",
    "Follow back? I follow everyone who follows me",
    "cheap followers 10k for $9 DM me",
    "crypto signal group 500% returns, join now",
    "hot singles in {city} want to meet you",
)
CHATTER = (
    "anyone watching the match tonight",
    "lol my cat just knocked the router off the shelf",
    "monday again",
    "{brand} advert on TV again haha",
    "coffee first, then emails",
    "who else is stuck in traffic in {city}",
)
FOLLOWUPS = (
    "any update?",
    "still waiting...",
    "hello?? anyone there {handle}",
    "it's been {hours} hours",
    "no reply yet. really?",
    "{handle} following up on this",
    "sent you a DM",
)
DM_DETAILS = (
    "Hi, following up on my post. Account number {order}, postcode in my profile.",
    "Hello, here are my details as asked: order {order}, name on the account is mine.",
    "DMing as you asked. The problem is still there. Ref {order}.",
)
EMAIL_SUBJECTS = {
    "complaint": ("Complaint: {topic}", "Unacceptable service", "Re: {topic} issue", "URGENT"),
    "question": ("Question about {topic}", "Quick question", "{topic}"),
    "request": ("Request: {topic}", "Please action", "Change request"),
    "praise": ("Thank you",),
    "suggestion": ("Idea",),
    "sales_lead": ("Quote request", "Business enquiry", "Switching to {brand}"),
    "marketing": ("Your promotion",),
    "spam": ("You have won!!!", "Business proposal"),
    "other": ("Hello",),
}
EMAIL_OPENERS = ("Hello,", "Hi there,", "Dear {brand} team,", "To whom it may concern,", "Hi,")
EMAIL_CLOSERS = ("Thanks", "Regards", "Kind regards", "Cheers", "Waiting for your reply")

# A few non-English lines per language, by kind (complaint, question, praise).
FOREIGN = {
    "es": (
        ("complaint", "{handle} llevo {days} días sin internet, una vergüenza"),
        ("complaint", "{handle} me habéis cobrado dos veces este mes"),
        ("question", "{handle} ¿hay una avería en {city}?"),
        ("praise", "{handle} gracias, todo solucionado 👍"),
    ),
    "fr": (
        ("complaint", "{handle} toujours pas de connexion depuis {hours} heures"),
        ("question", "{handle} comment résilier mon abonnement ?"),
        ("praise", "merci {handle} pour votre aide rapide"),
    ),
    "de": (
        ("complaint", "{handle} seit {days} Tagen kein Internet, unglaublich"),
        ("question", "{handle} wie kann ich meinen Vertrag kündigen?"),
    ),
    "pt": (
        ("complaint", "{handle} fui cobrado duas vezes, quero meu dinheiro de volta"),
        ("question", "{handle} qual o prazo de entrega para {city}?"),
    ),
    "ar": (
        ("complaint", "{handle} الإنترنت مقطوع منذ {hours} ساعات"),
        ("question", "{handle} متى يعود الخط؟"),
    ),
}

FIRST_NAMES = (
    "Dana", "Sam", "Alex", "Priya", "Tom", "Maria", "Yusuf", "Lena", "Chen", "Aisha",
    "Jonas", "Fatima", "Luca", "Noor", "Kofi", "Emma", "Diego", "Hana", "Ollie", "Sofia",
    "Ravi", "Ines", "Mateo", "Zoe", "Kwame", "Elif", "Marco", "Ana", "Liam", "Mei",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Okafor", "Garcia", "Nguyen", "Patel", "Müller", "Rossi", "Kim", "Haddad",
    "Novak", "Silva", "Cohen", "Brown", "Jensen", "Ito", "Dubois", "Kowalski", "Mensah",
)  # fmt: skip
CITIES = (
    "Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff", "Belfast", "Brighton", "York",
    "Norwich", "Leicester",
)  # fmt: skip
EMOJI_NEGATIVE = ("😡", "🤬", "😤", "🙄", "😞", "💀", "👎")
EMOJI_POSITIVE = ("😍", "🙌", "👏", "❤️", "😊", "🔥", "👍")
EMOJI_NEUTRAL = ("🤔", "👀", "📦", "📱", "😅")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
