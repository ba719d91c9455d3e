"""Forms answer with every error at once (errors.FieldErrors, web/forms.form_errors), and a handle typed wrong
is answered with one that works (federation/actors.suggest_handle)."""

from __future__ import annotations

import pytest

from fedihub.errors import FieldErrors, InvalidForm, InvalidInput, NotFound
from fedihub.federation.actors import local_handle, suggest_handle
from fedihub.web.forms import form_errors


def _refuse(field: str, message: str) -> None:
    raise InvalidInput(message, field=field)


def test_every_bad_field_is_kept_and_the_first_message_of_a_field_wins() -> None:
    errors = FieldErrors()
    assert errors.check(str.upper, "fine") == "FINE"
    errors.check(_refuse, "start", "give a start")
    errors.check(_refuse, "title", "give a title")
    errors.check(_refuse, "title", "a second complaint about the title")

    with pytest.raises(InvalidForm) as raised:
        errors.raise_if_any()

    assert raised.value.errors == {"start": "give a start", "title": "give a title"}
    assert raised.value.field == "start" and raised.value.status_code == 400
    assert raised.value.public_message == "give a start; give a title", "one line where one line is shown"


def test_a_form_of_forms_merges_and_nothing_is_raised_without_errors() -> None:
    inner = FieldErrors()
    inner.check(_refuse, "name", "give a name")
    outer = FieldErrors()
    outer.check(inner.raise_if_any)
    outer.check(_refuse, "", "the whole form is wrong")
    assert outer.errors == {"name": "give a name", "": "the whole form is wrong"}
    FieldErrors().raise_if_any()


def test_the_page_gets_its_fields_in_form_order_and_the_rest_at_the_top() -> None:
    exc = InvalidForm({"latitude": "a number", "secret": "odd", "title": "give a title"})
    assert list(form_errors(exc, ("title", "start", "latitude"))) == ["", "title", "latitude"]
    assert form_errors(exc, ("title", "start", "latitude"))[""] == "odd"
    assert form_errors(NotFound("no such call")) == {"": "no such call"}
    assert form_errors(InvalidInput("bad", field="hub"), ("member",), "member") == {"member": "bad"}


@pytest.mark.parametrize(("typed", "suggestion"), [
    ("Tenants Union!", "tenants-union"),
    ("Café des Luttes", "cafe-des-luttes"),
    ("  --climate--  ", "climate"),
    ("chicago_tenants", "chicago_tenants"),
    ("!!!", None),
    ("東京", None),
])
def test_a_suggested_handle_is_close_to_what_was_typed(typed: str, suggestion: str | None) -> None:
    assert suggest_handle(typed) == suggestion
    if suggestion:
        assert local_handle(suggestion, "a.test") == suggestion, "a suggestion is always accepted"


@pytest.mark.parametrize("typed", ["tenants", "@tenants", "@Tenants@a.test:8443", "tenants@a.test"])
def test_a_handle_copied_as_people_see_it_is_the_plain_name(typed: str) -> None:
    assert local_handle(typed, "a.test:8443") == "tenants"


def test_a_handle_for_another_server_or_with_spaces_says_what_to_type() -> None:
    with pytest.raises(InvalidInput, match="type just 'tenants'"):
        local_handle("tenants@elsewhere.example", "a.test")
    with pytest.raises(InvalidInput, match="try 'tenants-union'") as raised:
        local_handle("Tenants Union", "a.test")
    assert raised.value.field == "handle"
