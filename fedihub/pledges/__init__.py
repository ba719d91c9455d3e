"""Pledges: coalitions joining calls to action, their local actions, report-backs and roll-ups."""
