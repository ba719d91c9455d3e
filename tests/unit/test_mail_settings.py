"""FEDIHUB_SMTP_URL and FEDIHUB_MAIL_FROM: the scheme decides the protection, mistakes stop the start with a
clear message, and the password shows up in no repr and no error."""

from __future__ import annotations

import pytest

from fedihub.errors import ConfigurationError
from fedihub.mail.config import Security, parse_smtp_url
from fedihub.settings import Settings

ENV = {"FEDIHUB_SECRET_KEY": "k", "FEDIHUB_MAIL_FROM": "Coalitions <coalitions@example.org>"}


@pytest.mark.parametrize(
    ("url", "host", "port", "security", "username"),
    [
        ("smtp://user:pass@mail.example:587", "mail.example", 587, Security.STARTTLS, "user"),
        ("smtp://user:pass@mail.example", "mail.example", 587, Security.STARTTLS, "user"),
        ("smtps://user:pass@mail.example:465", "mail.example", 465, Security.TLS, "user"),
        ("smtps://mail.example", "mail.example", 465, Security.TLS, None),
        ("smtp://127.0.0.1:1025", "127.0.0.1", 1025, Security.PLAIN, None),
        ("smtp://localhost", "localhost", 25, Security.PLAIN, None),
        ("SMTP://u%40example.org:p%3Ass@Mail.Example:2525", "mail.example", 2525, Security.STARTTLS, "u@example.org"),
    ],
)
def test_the_scheme_and_credentials_decide_how_the_server_is_reached(
    url: str, host: str, port: int, security: Security, username: str | None
) -> None:
    server = parse_smtp_url(url)
    assert (server.host, server.port, server.security, server.username) == (host, port, security, username)


def test_percent_encoded_passwords_are_decoded() -> None:
    assert parse_smtp_url("smtp://user:p%40ss%3Aword@mail.example").password == "p@ss:word"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2secret@mail.example",
        "smtp://user:hunter2secret@",
        "smtp://user:hunter2secret@mail.example:99999",
        "smtp://user:hunter2secret@mail.example:587/path",
        "smtp://user@mail.example",
        "mail.example:587",
    ],
)
def test_a_wrong_smtp_url_stops_the_start_without_repeating_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({**ENV, "FEDIHUB_SMTP_URL": url})
    assert "FEDIHUB_SMTP_URL" in str(raised.value)
    assert "hunter2secret" not in str(raised.value)


def test_the_password_is_in_no_repr_of_the_settings() -> None:
    settings = Settings.from_env({**ENV, "FEDIHUB_SMTP_URL": "smtp://user:hunter2secret@mail.example:587"})
    assert settings.mail is not None
    for text in (repr(settings), repr(settings.mail), str(settings.mail.server)):
        assert "hunter2secret" not in text
    assert settings.mail.server.password == "hunter2secret"


def test_without_either_setting_mail_is_off() -> None:
    assert Settings.from_env({"FEDIHUB_SECRET_KEY": "k"}).mail is None


@pytest.mark.parametrize(
    "env",
    [
        {"FEDIHUB_SMTP_URL": "smtp://127.0.0.1:1025"},
        {"FEDIHUB_MAIL_FROM": "coalitions@example.org"},
    ],
)
def test_one_setting_without_the_other_is_a_mistake(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="go together"):
        Settings.from_env({"FEDIHUB_SECRET_KEY": "k", **env})


@pytest.mark.parametrize(
    "sender", ["coalitions", "coalitions@localhost", "a@b.example\r\nBcc: everyone@example.org", "<>"]
)
def test_a_sender_that_is_not_an_address_is_refused(sender: str) -> None:
    with pytest.raises(ConfigurationError, match="FEDIHUB_MAIL_FROM"):
        Settings.from_env(
            {"FEDIHUB_SECRET_KEY": "k", "FEDIHUB_SMTP_URL": "smtp://127.0.0.1:1025", "FEDIHUB_MAIL_FROM": sender}
        )


def test_a_sender_with_a_name_keeps_it() -> None:
    settings = Settings.from_env({**ENV, "FEDIHUB_SMTP_URL": "smtp://127.0.0.1:1025"})
    assert settings.mail is not None and settings.mail.sender == "Coalitions <coalitions@example.org>"
    assert settings.mail.sender_domain == "example.org"
