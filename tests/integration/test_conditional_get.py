"""What a cache or a peer re-fetching our documents sees: strong ETags on public answers, 304 when it
already holds the version, a new tag when the thing changed, and nothing shared that is someone's own."""

from __future__ import annotations

from fedihub.coalitions import service
from fedihub.storage.models import Actor
from tests.integration.organizers import Browser, cheap_password_hashing, make_account
from tests.support.edges import committed
from tests.support.network import Instance

AS2 = "application/activity+json"

__all__ = ["cheap_password_hashing"]  # a fixture used by name below


async def test_a_peer_revalidating_an_actor_gets_304_until_the_actor_changes(a: Instance, tenants: Actor) -> None:
    first = await a.get("/g/tenants", headers={"accept": AS2})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "public" in first.headers["cache-control"]

    again = await a.get("/g/tenants", headers={"accept": AS2, "if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and "accept" in again.headers["vary"].lower()

    await committed(a.ctx, service.update_profile, "tenants", name="Tenants Union of Chicago")
    changed = await a.get("/g/tenants", headers={"accept": AS2, "if-none-match": etag})
    assert changed.status_code == 200 and changed.json()["name"] == "Tenants Union of Chicago"
    assert changed.headers["etag"] != etag


async def test_the_html_and_json_of_one_url_never_share_a_tag(a: Instance, tenants: Actor) -> None:
    json_tag = (await a.get("/g/tenants", headers={"accept": AS2})).headers["etag"]
    page = await a.get("/g/tenants", headers={"accept": "text/html", "if-none-match": json_tag})
    assert page.status_code == 200 and "Tenants" in page.text
    assert {"accept", "accept-language", "cookie"} <= {v.strip().lower() for v in page.headers["vary"].split(",")}


async def test_an_anonymous_page_without_forms_is_shared_and_revalidated(a: Instance, tenants: Actor) -> None:
    home = await a.get("/", headers={"accept": "text/html"})
    assert home.status_code == 200 and "set-cookie" not in home.headers
    assert home.headers["cache-control"] == "public, no-cache"
    assert (await a.get("/", headers={"accept": "text/html", "if-none-match": home.headers["etag"]})).status_code == 304


async def test_the_coalition_page_with_its_follow_form_is_shared_and_revalidated(a: Instance, tenants: Actor) -> None:
    # Its forms are ones anyone may send without a session (forms.read_public_form): no token, no
    # cookie, so a boost storm's readers get it from the cache.
    first = await a.get("/g/tenants", headers={"accept": "text/html"})
    assert 'action="/remote-follow"' in first.text
    assert "set-cookie" not in first.headers
    assert first.headers["cache-control"] == "public, no-cache"
    again = await a.get("/g/tenants", headers={"accept": "text/html", "if-none-match": first.headers["etag"]})
    assert again.status_code == 304


async def test_a_page_rendered_for_a_signed_in_organizer_is_never_left_to_shared_caches(
    a: Instance, tenants: Actor, cheap_password_hashing: None,
) -> None:
    await make_account(a, "eddie")
    organizer = Browser(a)
    await organizer.log_in("eddie")
    try:
        theirs = await organizer.get("/g/tenants")
        again = await organizer.get("/g/tenants")
    finally:
        await organizer.client.aclose()
    anonymous = await a.get("/g/tenants", headers={"accept": "text/html"})

    assert theirs.headers["cache-control"] == again.headers["cache-control"] == "private, no-cache"
    assert "Log out" in theirs.text and "Log out" in again.text  # never the shared copy
    assert "Log out" not in anonymous.text  # and the shared copy never theirs


async def test_an_unknown_or_changed_tag_gets_the_full_answer(a: Instance, tenants: Actor) -> None:
    answer = await a.get("/g/tenants", headers={"accept": AS2, "if-none-match": '"not-this-one", W/"nor-this"'})
    assert answer.status_code == 200 and answer.json()["preferredUsername"] == "tenants"
