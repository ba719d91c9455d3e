"""Organizer accounts: passwords, roles in coalitions, invite links and login rate limits."""
