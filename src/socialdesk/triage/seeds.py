"""Seed examples written for socialdesk, so a fresh install triages sensibly on day one.

Every line was written for this project (none comes from a public data set). Each is
``kind | sentiment | text``; needs_response follows from the kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk.triage.labels import KIND_RESPONSE_PRIOR


@dataclass(frozen=True, slots=True)
class Seed:
    text: str
    kind: str
    sentiment: str

    @property
    def needs_response(self) -> str:
        return "yes" if KIND_RESPONSE_PRIOR[self.kind] >= 0.5 else "no"


_SEEDS = """
complaint|negative|my internet has been down since this morning and nobody can tell me why
complaint|negative|third time this month the router drops the connection, this is ridiculous
complaint|negative|you charged me twice for the same order and I still have no refund
complaint|negative|waited two hours on hold and then the call was cut off
complaint|negative|my parcel was marked delivered but it never arrived
complaint|negative|the flight was delayed four hours and no one told us anything
complaint|negative|cancelled my flight last minute and the rebooking is two days later
complaint|negative|lost my bag on the way home, nobody at the desk knows where it is
complaint|negative|the engineer never showed up for the appointment, I took a day off for this
complaint|negative|the new phone screen cracked after one week, really poor quality
complaint|negative|my bill went up again without any warning
complaint|negative|the app keeps crashing when I try to pay
complaint|negative|your staff at the counter were so rude to my mother
complaint|negative|no power in our street for six hours now, worst service ever
complaint|negative|still no answer to my claim after three weeks
complaint|negative|the item arrived broken and the box was soaked
complaint|negative|terrible experience, seat was broken and the crew did not care
complaint|negative|I have been overcharged on my energy bill for months
complaint|negative|this is the worst customer service I have ever had
complaint|negative|my order is two weeks late and tracking has not moved
complaint|negative|the connection keeps dropping!! fix it please
complaint|negative|my order still hasn't arrived after a week!! sort it out
complaint|negative|absolutely fed up, still waiting for the refund you promised
complaint|negative|the courier says delivered but nothing came
complaint|negative|the signal barely reaches the next room
question|neutral|how do I change the email address on my account?
question|neutral|what time does the store on main street open on sundays?
question|neutral|is there a fee for changing my flight date?
question|neutral|can I bring a stroller on board as hand luggage?
question|neutral|do you deliver to the islands and how long does it take?
question|neutral|why is my bill higher this month?
question|neutral|when will the outage in the north district be fixed?
question|neutral|does my plan include roaming in europe?
question|neutral|where can I find my policy documents online?
question|neutral|how long does a refund usually take to show up?
question|neutral|is the new model compatible with my old charger?
question|neutral|what do I need to bring to renew my passport?
question|neutral|any idea why the website says my card was declined?
question|neutral|hi, is the 8am train running today?
question|neutral|how can I submit a meter reading?
request|neutral|please cancel my subscription from next month
request|neutral|can you send me a new sim card to my new address
request|neutral|please call me back about my claim, number is in my profile
request|neutral|I need to change the name on my booking, can you help
request|neutral|could you check why my payment has not gone through
request|neutral|please reset my password, the link in the email does not work
request|neutral|can someone look into order 55123, it shows as lost
request|neutral|please move my engineer visit to friday afternoon
request|negative|I want a full refund for the cancelled trip
request|neutral|please update my address for the next delivery
request|neutral|dm me please, I need help with my account
request|neutral|can you confirm my seat for tomorrow's flight
request|neutral|I need a copy of my last three invoices
request|negative|fix this today or I am going elsewhere
request|neutral|please update my card details, thanks in advance
request|neutral|hello, please unlock my account. thanks in advance
request|neutral|hi team, could you change my billing date please, thank you
request|neutral|please send the engineer back, thanks
praise|positive|thank you so much, the team sorted my issue in five minutes
praise|positive|loving the new app update, so much faster
praise|positive|great flight today, the crew were fantastic
praise|positive|big thanks to sam in the city store for the help
praise|positive|the delivery came a day early, very happy
praise|positive|best customer service ever, thanks for fixing my router
praise|positive|you guys rock, smooth trip and friendly staff
praise|positive|really impressed with how fast the claim was paid
praise|positive|thanks for the quick reply, all good now
praise|positive|excellent service as always, keep it up
praise|positive|the engineer was brilliant, explained everything
praise|positive|so glad I switched to you, no problems at all
suggestion|neutral|it would be great if the app had a dark mode
suggestion|neutral|you should let us pick seats during online check-in
suggestion|neutral|please add an option to pay bills by bank transfer
suggestion|neutral|would love to see more vegan options in store
suggestion|neutral|maybe send a text when the parcel is one stop away?
suggestion|neutral|idea: let customers pause their plan while travelling
suggestion|neutral|could you add tracking for engineer visits like for deliveries
suggestion|neutral|it would help if the website showed outages by postcode
suggestion|neutral|consider adding wheelchair assistance booking in the app
suggestion|positive|love the service, one idea: a family plan would be perfect
sales_lead|neutral|how much is the unlimited plan if I bring my own phone?
sales_lead|neutral|thinking of switching to you, do you have fibre in my area?
sales_lead|positive|I want to upgrade to the premium package, who do I talk to?
sales_lead|neutral|do you offer business accounts for a team of twenty?
sales_lead|neutral|what is the price for home and car insurance together?
sales_lead|neutral|looking to buy the new laptop, any student discount?
sales_lead|neutral|can I get a quote for solar panels on my roof?
sales_lead|neutral|interested in your enterprise plan, please have sales contact me
sales_lead|positive|ready to order three more phones for my family, best deal?
sales_lead|neutral|is the black friday price still valid for the tv bundle?
marketing|positive|entering the giveaway! #win #competition
marketing|positive|retweet to win, fingers crossed
marketing|neutral|any discount codes going this week?
marketing|positive|love the new ad campaign, that song is stuck in my head
marketing|neutral|where can I get the coupon from the tv commercial?
marketing|neutral|hi, I am a journalist writing about your new store, who handles press?
marketing|positive|tagging my friends for the contest @sam @alex
marketing|neutral|would you like to collaborate with my travel channel? 50k followers
marketing|positive|can't wait for the summer sale! when does it start
marketing|neutral|is the promo from the newsletter still working?
marketing|positive|proud sponsor of the city marathon, great to see
spam|neutral|earn 5000 dollars a week from home, click the link in my bio
spam|neutral|buy followers cheap, dm for prices
spam|neutral|crypto giveaway! send 1 btc and get 2 back
spam|neutral|hot singles in your area, visit my profile
spam|neutral|check out my new mixtape link below
spam|neutral|free gift cards for the first 100 people, click here
spam|neutral|follow me and I follow back
spam|neutral|make money fast with this one trick, link in bio
spam|neutral|promote your business to millions, cheap rates, dm now
spam|neutral|congratulations you have been selected, claim your prize at this link
other|neutral|watching the game tonight with friends
other|positive|good morning everyone, happy friday
other|neutral|lol my cat just knocked the phone off the table
other|neutral|anyone else going to the concert on saturday?
other|negative|monday again, need more coffee
other|neutral|just landed in lisbon, off to the beach
other|neutral|remember when phones had buttons
other|positive|haha this meme is perfect
other|neutral|my brother works for them, says they are hiring
other|neutral|the weather is crazy today
"""


def seed_examples() -> list[Seed]:
    seeds = []
    for line in _SEEDS.strip().splitlines():
        kind, sentiment, text = line.split("|", 2)
        seeds.append(Seed(text=text, kind=kind, sentiment=sentiment))
    return seeds
