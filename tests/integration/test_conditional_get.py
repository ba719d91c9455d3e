"""What a cache or a peer re-fetching our documents sees: strong ETags on public answers, 304 when it
already holds the version, a new tag when the thing changed, and nothing shared that is someone's own."""

from __future__ import annotations

from fedihub.coalitions import service
from fedihub.storage.models import Actor
from tests.support.edges import committed
from tests.support.network import Instance

AS2 = "application/activity+json"


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


async def test_a_page_carrying_a_sessions_csrf_token_is_never_left_to_shared_caches(
    a: Instance, tenants: Actor,
) -> None:
    # The coalition page's follow and subscribe forms carry a CSRF token of a new session: that
    # answer sets a cookie and is this browser's only, on the first view and on the next.
    first = await a.get("/g/tenants", headers={"accept": "text/html"})
    assert "set-cookie" in first.headers
    assert first.headers["cache-control"] == "private, no-cache"
    cookie = first.headers["set-cookie"].split(";", 1)[0]
    again = await a.get("/g/tenants", headers={"accept": "text/html", "cookie": cookie})
    assert again.headers["cache-control"] == "private, no-cache"


async def test_an_unknown_or_changed_tag_gets_the_full_answer(a: Instance, tenants: Actor) -> None:
    answer = await a.get("/g/tenants", headers={"accept": AS2, "if-none-match": '"not-this-one", W/"nor-this"'})
    assert answer.status_code == 200 and answer.json()["preferredUsername"] == "tenants"
