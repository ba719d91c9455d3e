"""Notices by e-mail in the recipient's language when known, else in the instance's default language."""

from __future__ import annotations

from datetime import UTC, datetime

from fedihub.i18n.catalogues import Catalogues
from fedihub.notices import kinds
from fedihub.notices.letters import Letters
from fedihub.notices.store import party_fields
from fedihub.storage.models import Actor, Notice

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
CATALOGUES = Catalogues()


def _notice(kind: str = kinds.PLEDGE, number: int = 1) -> Notice:
    us = Actor(uri="http://a.test/g/tenants", name="Chicago Tenants", username="tenants", domain="a.test",
               type="Group", is_local=True, created_at=NOW, updated_at=NOW, id=1)
    party = party_fields(Actor(uri="https://b.test/g/renters", name="Oak Park Renters", username="renters",
                               domain="b.test", type="Group", is_local=False, created_at=NOW, updated_at=NOW))
    return Notice(id=number, kind=kind, key="k", actor=us, actor_id=1, call_uri="https://b.test/o/1",
                  call_title="Rally", created_at=NOW, **party)


def test_a_notice_is_written_in_the_recipients_language() -> None:
    letters = Letters("http://a.test", CATALOGUES, default_language="en")

    spanish = letters.one(_notice(), "es")
    assert spanish.subject == "Oak Park Renters se comprometió con Rally."
    assert '<html lang="es">' in spanish.html and "Todos los avisos de Chicago Tenants" in spanish.html
    assert "3 de diciembre de 2026, 09:30 UTC" in spanish.text
    assert 'href="http://a.test/calls/view?url=https%3A%2F%2Fb.test%2Fo%2F1">Rally</a>' in spanish.html

    french = letters.one(_notice(kinds.REPORT_DUE), "fr")
    assert french.subject == "Comment s’est passé Rally ? Faites votre compte rendu pour Chicago Tenants."


def test_without_a_known_language_the_instance_default_is_used() -> None:
    letters = Letters("http://a.test", CATALOGUES, default_language="fr")

    for unknown in (None, "de", ""):
        letter = letters.one(_notice(), unknown)
        assert letter.subject == "Oak Park Renters s’est engagé pour Rally.", unknown
        assert "Vous recevez ceci parce que vous organisez sur ce serveur" in letter.text
    english = Letters("http://a.test", CATALOGUES).one(_notice(), None)
    assert english.subject == "Oak Park Renters pledged to Rally." and '<html lang="en">' in english.html


def test_a_digest_counts_in_the_recipients_language() -> None:
    letters = Letters("http://a.test", CATALOGUES)

    digest = letters.digest([_notice(number=1), _notice(kinds.REPLY, number=2)], "es")
    assert digest.subject == "Novedades: 2 avisos para Chicago Tenants"
    assert "Novedades desde el último resumen (2 avisos):" in digest.text
