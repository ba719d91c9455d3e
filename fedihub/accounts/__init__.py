"""Organizer accounts: passwords, roles in coalitions, invite links and login rate limits.

``Account`` is named here so the web layer can annotate with it without importing storage.
"""

from fedihub.storage.models import Account

__all__ = ["Account"]
