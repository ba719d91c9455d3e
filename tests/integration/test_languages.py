"""The interface in the reader's language: Accept-Language, the switcher's cookie, dates per locale,
English whenever nothing matches, and the call form's language choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation.actors import find_local_actor
from fedihub.i18n.languages import COOKIE
from fedihub.storage.models import Account, Actor
from tests.integration.helpers import BROWSER
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import cheap_password_hashing
from tests.support.edges import committed
from tests.support.network import Clock, FederationNet, Instance

__all__ = ["cheap_password_hashing"]
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
NOW = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    net.clock = Clock(NOW)
    instance = await net.add_instance("a.test", instance_name="Bay Area Coalitions")
    await committed(instance.ctx, service.create_coalition, "tenants", name="Tenants Union")
    form = {
        "title": "Rent strike assembly", "description": "Bring a neighbour.", "start": "2027-03-13T11:00",
        "end": "2027-03-14T18:00", "timezone": "Europe/Madrid", "place_name": "Plaza Mayor",
    }
    await committed(instance.ctx, calls.publish_call, "tenants", calls.parse_call_form(form))
    return instance


async def home(instance: Instance, **headers: str) -> str:
    page = await instance.get("/", headers={"Accept": BROWSER, **headers})
    assert page.status_code == 200
    return page.text


async def test_a_spanish_browser_gets_spanish_pages_with_spanish_dates(a: Instance) -> None:
    page = await home(a, **{"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})

    assert '<html lang="es">' in page
    assert "Próximas convocatorias" in page and "Upcoming calls to action" not in page
    assert "Saltar al contenido" in page
    assert "sábado, 13 de marzo de 2027" in page  # CLDR's full date, in the call's own zone
    assert "hasta el domingo, 14 de marzo, 18:00" in page and "hora de Madrid" in page


async def test_a_french_browser_gets_french_and_headers_say_what_varies(a: Instance) -> None:
    response = await a.get("/", headers={"Accept": BROWSER, "Accept-Language": "fr-CA, en;q=0.8"})

    assert "Appels à l’action à venir" in response.text and "samedi 13 mars 2027" in response.text
    assert response.headers["Content-Language"] == "fr"
    vary = {part.strip().lower() for part in response.headers["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary  # a cache never serves one reader's language to another


async def test_english_is_the_default_when_nothing_asked_for_matches(a: Instance) -> None:
    for header in ({}, {"Accept-Language": "de-DE, ja;q=0.8"}, {"Accept-Language": "es;q=0, zz"}):
        page = await home(a, **header)
        assert '<html lang="en">' in page and "Upcoming calls to action" in page
        assert "Saturday 13 March 2027" in page


async def test_the_switcher_sets_a_cookie_that_wins_over_the_header(a: Instance) -> None:
    english = await home(a)
    assert 'href="/language/fr?next=/"' in english and 'lang="fr"' in english  # a plain link: no JavaScript

    chosen = await a.get("/language/fr?next=/directory", headers={"Accept": BROWSER})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/directory"
    cookie = chosen.cookies.get(COOKIE)
    assert cookie == "fr"

    page = await home(a, **{"Accept-Language": "es", "Cookie": f"{COOKIE}={cookie}"})
    assert '<html lang="fr">' in page and "Appels à l’action à venir" in page


async def test_the_switcher_never_sends_people_to_another_site(a: Instance) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        chosen = await a.get(f"/language/es?next={target}", headers={"Accept": BROWSER})
        assert chosen.status_code == 303 and chosen.headers["location"] == "/"
    unknown = await a.get("/language/xx", headers={"Accept": BROWSER})
    assert unknown.status_code == 400 and COOKIE not in unknown.headers.get("set-cookie", "")


async def test_the_call_form_defaults_to_the_organizers_language(a: Instance) -> None:
    async with a.ctx.sessions() as session:
        actor = await find_local_actor(session, "tenants")
    assert isinstance(actor, Actor)
    browser = await organizer(a, "eddie", actor, "editor")
    try:
        form = await browser.get("/manage/tenants/calls/new", headers={"Accept-Language": "es"})
        assert '<option value="es" lang="es" selected>Español</option>' in form.text
        english = await browser.get("/manage/tenants/calls/new")
        assert '<option value="en" lang="en" selected>English</option>' in english.text
    finally:
        await browser.client.aclose()


async def test_a_signed_in_organizer_s_choice_is_kept_for_their_mail(a: Instance) -> None:
    async with a.ctx.sessions() as session:
        actor = await find_local_actor(session, "tenants")
    browser = await organizer(a, "maria", actor, "editor")
    try:
        chosen = await browser.get("/language/es?next=/dashboard")
        assert chosen.status_code == 303
    finally:
        await browser.client.aclose()
    async with a.ctx.sessions() as session:
        account = await session.scalar(select(Account).where(Account.username == "maria"))
    assert account is not None and account.language == "es"


async def test_a_spanish_organizer_reads_the_call_form_s_mistakes_in_spanish(a: Instance) -> None:
    async with a.ctx.sessions() as session:
        actor = await find_local_actor(session, "tenants")
    browser = await organizer(a, "sofia", actor, "editor")
    new = "/manage/tenants/calls/new"
    try:
        page = await browser.submit(new, new, {
            "title": "", "start": "2027-04-01T10:00", "timezone": "Europe/Madrid", "place_name": "Plaza Mayor",
            "online_url": "ftp://files.example/call", "latitude": "norte", "longitude": "-3.7",
        }, headers={"Accept-Language": "es"})
    finally:
        await browser.client.aclose()

    assert page.status_code == 400
    assert field_error(page, "call-title") == "Error: ponle un título a la convocatoria"
    # A whole sentence per field, not "el enlace en línea" glued to an English tail.
    assert field_error(page, "call-online_url") == (
        "Error: el enlace en línea debe ser una dirección web que empiece por https://"
    )
    assert field_error(page, "call-latitude") == "Error: la latitud debe ser un número, como 48.8566"
    assert "give the call a title" not in page.text


async def test_a_french_reader_is_told_in_french_what_is_wrong_with_the_website(a: Instance) -> None:
    async with a.ctx.sessions() as session:
        actor = await find_local_actor(session, "tenants")
    browser = await organizer(a, "flore", actor, "owner")
    browser.client.cookies.set(COOKIE, "fr")
    path = "/manage/tenants/profile"
    try:
        page = await browser.submit(path, path, {"name": "Tenants Union", "website": "javascript:alert(1)"})
    finally:
        await browser.client.aclose()

    assert page.status_code == 400
    assert field_error(page, "profile-website") == (
        "Erreur : le site web doit être une adresse web commençant par https://"
    )
