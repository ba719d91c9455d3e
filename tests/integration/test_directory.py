"""The directory: every coalition and hub the server knows, filtered, paged, as HTML and as JSON."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, ActorMovement
from tests.integration.directory_helpers import add_remote_group
from tests.integration.helpers import BROWSER
from tests.integration.organizers import Browser, cheap_password_hashing, make_account  # noqa: F401
from tests.support.edges import committed
from tests.support.network import Instance

NAME = re.compile(r'<h3 class="coalition-card-name">(?:<a [^>]*>)?([^<]*)')


def names(page: str) -> list[str]:
    return [html.unescape(name) for name in NAME.findall(page)]


async def browse(instance: Instance, path: str) -> str:
    response = await instance.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200, (path, response.status_code)
    return response.text


async def api(instance: Instance, query: str = "") -> dict:
    response = await instance.get(f"/api/v1/directory{query}")
    assert response.status_code == 200, response.text
    return response.json()


PROFILE = {"name": "Tenants Union", "summary": "We organise *renters*.", "movements": ["Tenants"], "tags": "",
           "region_city": "Chicago", "region_state": "Illinois", "region_country": "US", "latitude": "41.88",
           "longitude": "-87.63", "website": ""}


@pytest.fixture
async def known(a: Instance, tenants: Actor) -> Instance:
    """a.test with a local coalition and hub, and remote groups met in different ways."""
    await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE))
    await committed(a.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await add_remote_group(a, "climate", name="Bay Climate Action", movements=("Climate", "Tenants"),
                           region_city="Oakland", region_state="California", region_country="US",
                           summary="<p>Climate justice in the <b>Bay</b>.</p>")
    await add_remote_group(a, "bayhub", name="Bay Area Hub", host="hub.test", hub_scope="regional",
                           hub_region="Bay Area", found="roster", movements=("Climate",))
    await add_remote_group(a, "national", name="National Hub", host="hub.test", hub_scope="national",
                           found="lookup", region_country="US")
    await add_remote_group(a, "boosted", name="Lyon Solidarity", host="fr.test", region_city="Lyon",
                           region_country="France", found="boost", movements=("SolidarityNetwork",))
    await add_remote_group(a, "alice", name="Alice (a person)", actor_type="Person", movements=("Climate",))
    await add_remote_group(a, "gone", name="Deleted Group", deleted_at=a.ctx.clock(), movements=("Climate",))
    return a


async def test_the_directory_lists_every_group_known_and_nobody_else(known: Instance) -> None:
    page = await browse(known, "/directory")

    assert names(page) == ["Bay Area Hub", "Bay Climate Action", "Illinois Hub", "Lyon Solidarity", "National Hub",
                           "Tenants Union"]
    assert "6 coalitions and hubs" in page
    assert "Regional hub" in page and "State hub" in page and "National hub" in page and "Coalition" in page
    assert "Listed in a hub&#39;s roster" in page and "Boosted by a hub" in page and "On this server" in page
    assert 'href="http://a.test/g/tenants"' in page  # local: our page
    assert 'href="https://far.test/groups/climate"' in page  # remote: its own page
    assert "Chicago, Illinois, US" in page and "Bay Area" in page
    assert "@tenants@a.test" in page and "@climate@far.test" in page


@pytest.mark.parametrize(("query", "expected"), [
    ("?movement=climate", ["Bay Area Hub", "Bay Climate Action"]),
    ("?movement=%23TENANTS", ["Bay Climate Action", "Tenants Union"]),
    ("?region=illinois", ["Illinois Hub", "Tenants Union"]),  # a state, and a hub's region
    ("?region=OAKLAND", ["Bay Climate Action"]),  # a city
    ("?region=us", ["Bay Climate Action", "National Hub", "Tenants Union"]),  # a country
    ("?region=bay+area", ["Bay Area Hub"]),
    ("?scope=coalition", ["Bay Climate Action", "Lyon Solidarity", "Tenants Union"]),
    ("?scope=hub", ["Bay Area Hub", "Illinois Hub", "National Hub"]),
    ("?scope=national", ["National Hub"]),
    ("?q=justice", ["Bay Climate Action"]),  # the description
    ("?q=LYON", ["Lyon Solidarity"]),  # the name
    ("?q=%40bayhub%40hub", ["Bay Area Hub"]),  # a handle
    ("?q=hub.test", ["Bay Area Hub", "National Hub"]),  # a server
    ("?q=100%25", []),  # LIKE wildcards are text
    ("?found=roster", ["Bay Area Hub"]),
    ("?found=local", ["Illinois Hub", "Tenants Union"]),
    ("?movement=climate&scope=coalition&region=california&q=bay", ["Bay Climate Action"]),
])
@pytest.mark.all_backends  # lower() and LIKE behave differently per database
async def test_each_filter_narrows_the_list(known: Instance, query: str, expected: list[str]) -> None:
    page = await browse(known, f"/directory{query}")
    assert names(page) == expected
    assert [item["name"] for item in (await api(known, query))["items"]] == expected


async def test_the_filters_show_movements_with_counts_and_keep_the_choices(known: Instance) -> None:
    page = await browse(known, "/directory?movement=climate&region=Oakland&scope=coalition")

    assert '<option value="climate" selected>Climate justice (2)</option>' in page  # the suggested label
    assert '<option value="tenants">Housing and tenants (2)</option>' in page
    assert 'value="Oakland"' in page and '<option value="coalition" selected>' in page
    assert "matching these filters" in page and 'href="/directory">Clear filters' in page


async def test_nothing_matching_says_so_and_offers_to_clear(known: Instance) -> None:
    page = await browse(known, "/directory?movement=nothing-like-this")
    assert names(page) == [] and "Nothing matches these filters" in page


async def test_an_empty_directory_explains_itself(a: Instance) -> None:
    page = await browse(a, "/directory")
    assert "does not know any coalition or hub yet" in page


async def test_a_bad_filter_is_named_and_left_out(known: Instance) -> None:
    response = await known.get("/directory?scope=galactic&movement=climate", headers={"Accept": BROWSER})
    assert response.status_code == 400
    assert "scope must be one of" in response.text
    assert names(response.text) == ["Bay Area Hub", "Bay Climate Action"]  # the other filters still apply


async def test_the_directory_pages_by_50_with_filters_kept(a: Instance) -> None:
    for n in range(120):
        await add_remote_group(a, f"group{n:03}", name=f"Group {n:03}", movements=("Climate",))
    await add_remote_group(a, "other", name="Group 000 other", movements=("Labour",))

    first = await browse(a, "/directory?movement=climate")
    third = await browse(a, "/directory?movement=climate&page=3")
    beyond = await browse(a, "/directory?movement=climate&page=4")

    assert names(first) == [f"Group {n:03}" for n in range(50)]
    assert "Showing 1–50 of 120" in first and "Page 1 of 3" in first
    assert 'href="/directory?movement=climate&amp;page=2#results" rel="next"' in first and 'rel="prev"' not in first
    assert names(third) == [f"Group {n:03}" for n in range(100, 120)]
    assert 'href="/directory?movement=climate&amp;page=2#results" rel="prev"' in third and 'rel="next"' not in third
    assert names(beyond) == [] and "No entries on this page" in beyond
    second = await api(a, "?movement=climate&page=2")
    assert [item["name"] for item in second["items"]] == [f"Group {n:03}" for n in range(50, 100)]
    assert second["total"] == 120 and second["page"] == 2 and second["per_page"] == 50
    assert parse_qs(urlsplit(second["next"]).query) == {"movement": ["climate"], "page": ["3"]}
    assert second["next"].startswith("http://a.test/api/v1/directory?")
    assert (await api(a, "?movement=climate&page=3"))["next"] is None


async def test_the_json_api_gives_stable_fields_to_any_site(known: Instance) -> None:
    response = await known.get("/api/v1/directory?q=tenants+union")

    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["total"] == 1 and body["next"] is None
    item = body["items"][0]
    assert item == {
        "id": "http://a.test/g/tenants", "name": "Tenants Union", "handle": "tenants@a.test", "kind": "coalition",
        "hub_scope": None,
        "region": {"city": "Chicago", "state": "Illinois", "country": "US", "hub_region": None,
                   "text": "Chicago, Illinois, US"},
        "movements": ["Tenants"], "summary": "We organise renters.", "url": "http://a.test/g/tenants",
        "local": True, "found": "local", "discovered_at": item["discovered_at"], "latitude": 41.88,
        "longitude": -87.63,
    }
    assert item["discovered_at"].endswith("Z")
    hub = (await api(known, "?scope=regional"))["items"][0]
    assert hub["kind"] == "hub" and hub["hub_scope"] == "regional" and hub["found"] == "roster"
    assert hub["region"]["hub_region"] == "Bay Area" and hub["region"]["text"] == "Bay Area"


@pytest.mark.parametrize(("query", "field"), [("?scope=planet", "scope"), ("?page=0", "page"), ("?page=x", "page"),
                                              ("?found=magic", "found")])
async def test_the_json_api_refuses_bad_parameters_clearly(known: Instance, query: str, field: str) -> None:
    response = await known.get(f"/api/v1/directory{query}")
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["field"] == field and response.json()["error"]


async def test_remote_text_is_escaped_on_the_page_and_plain_in_json(a: Instance) -> None:
    await add_remote_group(
        a, "evil", name='<script>alert("name")</script>Evil', host="evil.test",
        summary='<img src=x onerror="alert(1)">Hello <a href="javascript:alert(2)">there</a>',
        region_city="<b>Town</b>", movements=("<i>tag</i>",),
    )
    page = await browse(a, "/directory")

    assert "<script>alert" not in page and "onerror" not in page and "javascript:" not in page
    assert "<b>Town" not in page and "<i>tag" not in page
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;Evil" in page
    assert "&lt;b&gt;Town&lt;/b&gt;" in page
    item = (await api(a))["items"][0]
    assert item["summary"] == "Hello there"


async def test_organizers_get_a_look_up_link_for_remote_entries(
    known: Instance, cheap_password_hashing: None  # noqa: F811
) -> None:
    await make_account(known, "sam")
    browser = Browser(known)
    anonymous = await browse(known, "/directory")
    await browser.log_in("sam")
    logged_in = (await browser.get("/directory")).text

    assert "/lookup?" not in anonymous
    assert 'href="/lookup?q=climate%40far.test"' in logged_in
    assert "/lookup?q=tenants" not in logged_in  # ours: nothing to look up


async def test_movements_stay_in_step_with_the_profile(known: Instance) -> None:
    await committed(known.ctx, save_profile, "tenants", parse_profile_form({**PROFILE, "movements": ["Climate"]}))

    async with known.ctx.sessions() as session:
        tenants = await session.scalar(select(Actor).where(Actor.uri == "http://a.test/g/tenants"))
        rows = (await session.scalars(select(ActorMovement.movement).where(ActorMovement.actor_id == tenants.id))).all()
    assert rows == ["climate"]
    assert "Tenants Union" in names(await browse(known, "/directory?movement=climate"))
    assert "Tenants Union" not in names(await browse(known, "/directory?movement=tenants"))
