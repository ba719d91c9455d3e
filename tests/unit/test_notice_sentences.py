"""Notices as sentences: every kind names who or which call, links only to web addresses, and a subject
made of other servers' names stays one short line."""

from __future__ import annotations

from datetime import UTC, datetime

from fedihub.notices import kinds
from fedihub.notices.letters import one_line
from fedihub.notices.store import party_fields
from fedihub.storage.models import Actor, Notice

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _actor(uri: str, name: str, url: str | None = None, username: str = "x") -> Actor:
    return Actor(uri=uri, name=name, url=url, username=username, domain=uri.split("/")[2], type="Group",
                 is_local=False, created_at=NOW, updated_at=NOW)


def _notice(kind: str, detail: str | None = None) -> Notice:
    us = _actor("http://a.test/g/tenants", "Chicago Tenants", username="tenants")
    party = party_fields(_actor("https://b.test/g/renters", "Oak Park Renters", "https://b.test/@renters"))
    return Notice(kind=kind, key="k", detail=detail, actor=us, call_uri="https://b.test/o/1", call_title="Rally",
                  created_at=NOW, **party)


def test_every_kind_reads_as_a_sentence() -> None:
    for kind in kinds.KINDS:
        text = kinds.plain(kinds.sentence(_notice(kind.name)))
        assert ("Oak Park Renters" in text or "Rally" in text) and text.endswith("."), (kind.name, text)
    pledge = kinds.sentence(_notice(kinds.PLEDGE))
    assert [(p.text, p.href) for p in pledge if p.href] == [
        ("Oak Park Renters", "https://b.test/@renters"), ("Rally", "/calls/view?url=https%3A%2F%2Fb.test%2Fo%2F1"),
    ]
    due = kinds.sentence(_notice(kinds.REPORT_DUE))
    assert ("Report back", "/pledge/report?call=https%3A%2F%2Fb.test%2Fo%2F1&coalition=tenants") in [
        (p.text, p.href) for p in due
    ]


def test_a_peer_s_odd_profile_link_is_never_a_link() -> None:
    hostile = _actor("https://evil.test/u/x", "X", url="javascript:alert(1)")
    assert party_fields(hostile)["party_url"] == "https://evil.test/u/x"


def test_a_subject_from_remote_names_is_one_short_line() -> None:
    assert one_line("Evil\r\nBcc: everyone@example.org\n  Hub") == "Evil Bcc: everyone@example.org Hub"
    assert len(one_line("x" * 500)) == 200
