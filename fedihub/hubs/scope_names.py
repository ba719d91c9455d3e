"""A hub's scope in words, in the reader's language: "National hub", "Pôle national", "Nodo nacional"."""

from __future__ import annotations

from fedihub.i18n.active import N_, gettext

_ONE = {
    "local": N_("Local hub"), "regional": N_("Regional hub"), "state": N_("State hub"),
    "macro-regional": N_("Macro-regional hub"), "national": N_("National hub"),
    "international": N_("International hub"),
}
_MANY = {
    "local": N_("Local hubs"), "regional": N_("Regional hubs"), "state": N_("State hubs"),
    "macro-regional": N_("Macro-regional hubs"), "national": N_("National hubs"),
    "international": N_("International hubs"),
}


def scope_name(scope: str | None) -> str:
    """ "National hub"; a scope a peer made up reads as "<Scope> hub"."""
    known = _ONE.get(scope or "")
    return gettext(known) if known else gettext("%(scope)s hub", scope=(scope or "").capitalize())


def scope_plural(scope: str) -> str:
    """ "National hubs", for filters."""
    known = _MANY.get(scope)
    return gettext(known) if known else gettext("%(scope)s hubs", scope=scope.capitalize())
