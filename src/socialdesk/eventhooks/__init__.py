"""Outgoing event webhooks: other systems (a CRM, ticketing, chat) hear what happens here."""
