"""Generated traffic, a discrete-event simulation of a care team, and Erlang C staffing.

``traffic`` makes realistic social care traffic for a brand (with its ground truth);
``engine`` runs a team through it under a policy (``policies``), on items scored and
timed by the production code (``items``); ``metrics``, ``runner`` and ``output`` report;
``erlang`` sizes the team per hour of day.
"""
