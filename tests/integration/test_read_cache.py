"""Public documents and pages answered from the in-process cache: what a reader or a peer sees is
never older than the last write, whoever made it, and nothing personal is ever kept or handed out."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from fedihub.app import open_runtime
from fedihub.coalitions import calls, service
from fedihub.storage.models import Actor
from fedihub.web.read_cache import ReadCache
from tests.integration.feed_helpers import call_input, post_call
from tests.integration.helpers import BROWSER, path_of
from tests.integration.organizers import Browser, add_member, cheap_password_hashing, make_account  # noqa: F401
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

AS2 = "application/activity+json"


def cache_of(instance: Instance) -> ReadCache:
    cache: ReadCache = instance.app.state.read_cache
    return cache


async def test_an_edited_call_shows_the_edit_on_the_next_view(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants", title="Rent control now")
    path = path_of(call.uri)
    for accept in (AS2, BROWSER):
        assert (await a.get(path, headers={"accept": accept})).status_code == 200
    hits = cache_of(a).hits
    assert "Rent control now" in (await a.get(path, headers={"accept": BROWSER})).text
    assert (await a.get(path, headers={"accept": AS2})).json()["name"] == "Rent control now"
    assert cache_of(a).hits == hits + 2  # both answered from the cache

    await committed(a.ctx, calls.update_call, call.uri, call_input(title="Rent control now, moved indoors"))

    assert (await a.get(path, headers={"accept": AS2})).json()["name"] == "Rent control now, moved indoors"
    assert "Rent control now, moved indoors" in (await a.get(path, headers={"accept": BROWSER})).text


async def test_a_deleted_call_is_gone_on_the_next_fetch(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    path = path_of(call.uri)
    for _ in range(2):
        assert (await a.get(path, headers={"accept": AS2})).status_code == 200

    await committed(a.ctx, service.delete_object, call.uri)

    gone = await a.get(path, headers={"accept": AS2})
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"
    assert (await a.get(path, headers={"accept": BROWSER})).status_code == 410


async def test_an_edit_by_another_process_shows_at_once(a: Instance, tenants: Actor) -> None:
    """A CLI command or a separate worker writes through an engine of its own."""
    assert (await a.get("/g/tenants", headers={"accept": AS2})).json()["name"] == "Tenants Union"
    assert (await a.get("/g/tenants", headers={"accept": AS2})).json()["name"] == "Tenants Union"

    async with open_runtime(dataclasses.replace(a.runtime.settings)) as other:
        await committed(other.ctx, service.update_profile, "tenants", name="Tenants Union of Chicago")

    assert (await a.get("/g/tenants", headers={"accept": AS2})).json()["name"] == "Tenants Union of Chicago"


async def test_a_revalidation_from_the_cache_is_a_304_with_the_same_tag(a: Instance, tenants: Actor) -> None:
    first = await a.get("/g/tenants", headers={"accept": AS2})
    cached = await a.get("/g/tenants", headers={"accept": AS2})
    assert cached.headers["etag"] == first.headers["etag"] and cached.content == first.content

    again = await a.get("/g/tenants", headers={"accept": AS2, "if-none-match": first.headers["etag"]})

    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"] and "public" in again.headers["cache-control"]


async def test_each_language_gets_its_own_page(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    path = path_of(call.uri)
    english = await a.get(path, headers={"accept": BROWSER, "accept-language": "en"})
    spanish = await a.get(path, headers={"accept": BROWSER, "accept-language": "es"})
    assert english.headers["content-language"] == "en" and 'lang="en"' in english.text
    assert spanish.headers["content-language"] == "es" and 'lang="es"' in spanish.text
    assert 'lang="es"' in (await a.get(path, headers={"accept": BROWSER, "accept-language": "es"})).text


@pytest.mark.usefixtures("cheap_password_hashing")
async def test_an_organizers_page_is_never_kept_nor_shown_to_others(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    organizer = await make_account(a, "maria")
    await add_member(a, organizer, tenants, "admin")
    browser = Browser(a)
    assert (await browser.log_in("maria")).status_code == 303
    kept = len(cache_of(a))

    mine = await browser.get(path_of(call.uri))
    await browser.client.aclose()
    assert mine.status_code == 200 and "maria" in mine.text.lower()
    assert len(cache_of(a)) == kept

    anonymous = await a.get(path_of(call.uri), headers={"accept": BROWSER})
    assert anonymous.status_code == 200 and "maria" not in anonymous.text.lower()


async def test_signed_only_documents_are_never_answered_from_the_cache(net: FederationNet, peer: FakePeer) -> None:
    secure = await net.add_instance("secure.test", authorized_fetch=True)
    await committed(secure.ctx, service.create_coalition, "tenants", name="Tenants Union")
    signed = await peer.fetch(secure, "/g/tenants", signer=peer.accounts["alice"])
    assert signed.status_code == 200

    # The attack: an unsigned client asking right after a signed fetch of the same document.
    unsigned = await peer.fetch(secure, "/g/tenants")

    assert unsigned.status_code == 401


def test_the_cache_stays_within_its_byte_cap_whatever_clients_ask() -> None:
    """A client varying Accept or the query string makes new keys: old ones go, the total stays capped."""
    from datetime import UTC, datetime

    from fedihub.web.read_cache import Entry

    cache = ReadCache(max_bytes=10_000, max_entry_bytes=2_000)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    for n in range(100):
        cache.keep(("/g/tenants", f"x={n}", "application/json", "en"),
                   Entry(generation=1, stored_at=now, status=200, headers=[], body=b"x" * 1_000, etag='"t"'))
    cache.keep(("/big", "", "", "en"), Entry(generation=1, stored_at=now, status=200, headers=[], body=b"x" * 5_000,
                                             etag='"t"'))
    assert cache.size <= 10_000 and 0 < len(cache) < 100
    assert cache.find(("/g/tenants", "x=99", "application/json", "en"), 1, now) is not None
    assert cache.find(("/g/tenants", "x=0", "application/json", "en"), 1, now) is None
    assert cache.find(("/big", "", "", "en"), 1, now) is None
    assert cache.find(("/g/tenants", "x=99", "application/json", "en"), 2, now) is None


async def test_readers_arriving_together_wait_for_one_rendering(a: Instance, tenants: Actor) -> None:
    """After an edit, a burst of readers costs one rendering of the page, not one each."""
    await post_call(a, "tenants")
    hits = cache_of(a).hits

    pages = await asyncio.gather(*(a.get("/", headers={"accept": BROWSER}) for _ in range(8)))

    assert {page.status_code for page in pages} == {200} and len({page.content for page in pages}) == 1
    assert cache_of(a).hits == hits + 7
