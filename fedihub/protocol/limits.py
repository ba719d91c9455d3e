"""Sizes that several layers must agree on: what a form accepts, what a reader keeps from a peer,
what a column holds and what we answer with.

Each limit is here once and imported under its own name where it applies; a limit that belongs to
one rule lives with that rule instead (links: protocol/urls.py MAX_URL; movements:
protocol/movements.py MAX_MOVEMENT and MAX_MOVEMENTS).
"""

from __future__ import annotations

# A display name of a coalition, hub or account, as typed here or read from a peer's roster.
MAX_NAME = 200
# A city, state or country (a region), typed, imported or read from a peer: the region columns of
# actors, objects and pledges are String(200).
MAX_REGION = 200
# A short note from one coalition's organizers to another's: a pledge's message (Mobilizon's
# participationMessage), a request to join a hub.
MAX_MESSAGE = 1_000
# A street address as typed or read from a peer (a call's, a local action's), on one line.
MAX_ADDRESS = 500
# A local action's description, plain text: its own page carries the long version.
MAX_ACTION_DESCRIPTION = 5_000
# Mastodon refuses serialized JSON above 1 MB (spec §1.10), in what it receives and what it fetches;
# so do we, for inbox POSTs and for fetched documents alike.
MAX_DOCUMENT_BYTES = 1_000_000
# The deepest page of a public listing (directory, calls API): enough for 500,000 entries at 50 a
# page; beyond it OFFSET only burns the database.
MAX_PAGE = 10_000
# How deeply objects and lists may nest in a JSON document from a peer (inbox POSTs and fetched
# documents alike). The peers' captures nest at most 6 levels; every reader after the parser may then
# recurse without fear of Python's recursion limit.
MAX_JSON_DEPTH = 64
