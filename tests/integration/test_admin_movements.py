"""The instance admin's suggested movements: defaults for every country, labels per language, edits
that forms and pages follow at once, old tags kept as free tags, bad input refused."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from fedihub.coalitions import service
from fedihub.coalitions.actor_profile import ensure_profile
from fedihub.federation.actors import find_local_actor
from fedihub.storage.models import Actor
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

__all__ = ["cheap_password_hashing"]
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    instance = await net.add_instance("a.test")
    await committed(instance.ctx, service.create_coalition, "tenants", name="Tenants Union")
    return instance


@pytest.fixture
async def admin(a: Instance) -> AsyncIterator[Browser]:
    browser = await organizer(a, "root", is_admin=True)
    yield browser
    await browser.client.aclose()


async def tenants(a: Instance) -> Actor:
    async with a.ctx.sessions() as session:
        actor = await find_local_actor(session, "tenants")
    assert actor is not None
    return actor


async def save(admin: Browser, **fields: str) -> object:
    token = await admin.csrf_token("/admin/movements")
    return await admin.client.post("/admin/movements", data={"csrf_token": token, **fields})


async def test_the_defaults_are_broad_and_read_in_the_readers_language(a: Instance, admin: Browser) -> None:
    page = (await admin.get("/admin/movements")).text
    for tag in ("Tenants", "Labour", "Climate", "AntiRacism", "Feminism", "ImmigrantRights"):
        assert f'value="{tag}"' in page
    assert "FightFor15" not in page  # no longer a US-only list

    profile = html.unescape((await admin.get("/manage/tenants/profile", headers={"Accept-Language": "es"})).text)
    assert "Vivienda e inquilinos" in profile and "Justicia climática" in profile


async def test_an_added_movement_shows_in_forms_and_pages_in_each_language(a: Instance, admin: Browser) -> None:
    added = await save(admin, tag="#water defenders", label_en="Water defenders", label_es="Defensa del agua",
                       label_fr="Défense de l'eau")
    assert added.status_code == 303 and added.headers["location"] == "/admin/movements?done=saved"  # type: ignore[attr-defined]
    form = (await admin.get("/manage/tenants/profile")).text
    assert 'value="WaterDefenders"' in form and "Water defenders" in form

    # A coalition that has it shows its label to each reader; a tag that is no longer suggested stays a tag.
    async with a.ctx.sessions.begin() as session:
        actor = await session.merge(await tenants(a))
        ensure_profile(actor).movements = ["WaterDefenders", "FightFor15"]
    french = html.unescape((await admin.get("/", headers={"Accept-Language": "fr"})).text)
    assert "Défense de l'eau" in french and "#FightFor15" in french
    english = html.unescape((await admin.get("/")).text)
    assert "Water defenders" in english


async def test_relabelling_and_removing_a_movement(a: Instance, admin: Browser) -> None:
    changed = await save(admin, replacing="Climate", tag="Climate", label_en="Climate action", label_es="",
                         label_fr="Action climatique")
    assert changed.status_code == 303  # type: ignore[attr-defined]
    page = html.unescape((await admin.get("/admin/movements", headers={"Accept-Language": "es"})).text)
    assert "Climate action" in page  # no Spanish label: English stands in

    token = await admin.csrf_token("/admin/movements")
    removed = await admin.client.post("/admin/movements/remove", data={"csrf_token": token, "replacing": "Climate"})
    assert removed.status_code == 303
    form = (await admin.get("/manage/tenants/profile")).text
    assert 'value="Climate"' not in form


async def test_bad_input_is_refused_with_the_reason_and_changes_nothing(a: Instance, admin: Browser) -> None:
    before = (await admin.get("/admin/movements")).text
    for fields, message in (
        (dict(tag="!!!", label_en="Nothing"), "at least one letter"),
        (dict(tag="Tenants", label_en="Duplicate"), "already suggested"),
        (dict(tag="Housing", label_en=""), "label in English"),
        (dict(tag="Housing", label_en="x" * 81), "at most 80"),
    ):
        refused = await save(admin, **fields)
        assert refused.status_code == 400 and message in html.unescape(refused.text)  # type: ignore[attr-defined]
    assert (await admin.get("/admin/movements")).text.count('name="replacing"') == before.count('name="replacing"')


async def test_only_the_instance_admin_edits_movements(a: Instance) -> None:
    someone = await organizer(a, "eddie", await tenants(a), "owner")
    try:
        assert (await someone.get("/admin/movements")).status_code == 403
        token = await someone.csrf_token("/manage/tenants/profile")
        posted = await someone.client.post("/admin/movements", data={"csrf_token": token, "tag": "X", "label_en": "X"})
        assert posted.status_code == 403
    finally:
        await someone.client.aclose()
