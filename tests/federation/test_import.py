"""Importing a CSV list of coalitions: every row ends found, already known, not found or refused, with reasons."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fedihub.coalitions import service
from fedihub.coalitions.actor_profile import profile_of
from fedihub.commands.discovery import progress_line, summary_lines
from fedihub.discovery.csv_rows import ImportRow, read_rows
from fedihub.discovery.importer import RowResult, Summary, run_import
from fedihub.federation import actors
from fedihub.storage.models import Actor, ActorMovement
from tests.federation.discovery_peers import GROUP_ID, World, build_world
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

TENANTS = "http://b.test/g/tenants"
LIST = (
    "address,movement,region,note\n"
    "tenants@b.test,,,vouched by Ana\n"  # 2: found; keeps its own movements and region
    f"{GROUP_ID},Tenants; Housing,\"Lyon, Auvergne-Rhône-Alpes, FR\",met at the assembly\n"  # 3: found, filled
    "bay@b.test,,,\n"  # 4: already known (met through federation before)
    "climate@a.test,,,our own\n"  # 5: already known (hosted here)
    "alice@masto.test,,,\n"  # 6: a person
    "nobody@masto.test,,,\n"  # 7: 404
    "someone@down.test,,,\n"  # 8: unreachable
    "spam@blocked.test,,,\n"  # 9: blocked
    ",Tenants,,a note without an address\n"  # 10: empty address
    "not a handle,,,\n"  # 11: malformed
    "\n"  # blank lines are skipped
    "TENANTS@b.test,,,\n"  # 13: the same address as line 2
)


@pytest.fixture
async def world(net: FederationNet, fixtures_dir: Path) -> World:
    built = await build_world(net, fixtures_dir)
    await committed(built.a.ctx, service.create_coalition, "climate", name="Climate Action")
    await actors.resolve_target(built.a.ctx, "bay@b.test")
    return built


async def run(instance: Instance, text: str, **options: Any) -> list[RowResult]:
    return [result async for result in run_import(instance.ctx, read_rows(text.encode()), **options)]


def by_line(results: list[RowResult]) -> dict[int, tuple[str, str | None]]:
    return {r.line: (r.outcome, r.reason) for r in results}


async def stored(instance: Instance, uri: str) -> Actor:
    async with instance.ctx.sessions() as session:
        actor = await actors.find_actor(session, uri)
    assert actor is not None
    return actor


async def movement_rows(instance: Instance, uri: str) -> set[str]:
    async with instance.ctx.sessions() as session:
        actor = await actors.find_actor(session, uri)
        assert actor is not None
        query = select(ActorMovement.movement).where(ActorMovement.actor_id == actor.id)
        return set((await session.scalars(query)).all())


async def test_every_row_ends_with_an_outcome_and_bad_rows_never_stop_the_rest(world: World) -> None:
    results = await run(world.a, LIST)

    assert by_line(results) == {
        2: ("found", None),
        3: ("found", None),
        4: ("already known", "this server already knew it (met through federation)"),
        5: ("already known", "this server already knew it (hosted on this server)"),
        6: ("refused", "alice@masto.test is a person, not a coalition or hub"),
        7: ("not found", "masto.test has no account nobody"),
        8: ("not found", "down.test could not be reached; try again later"),
        9: ("refused", "this server does not federate with blocked.test"),
        10: ("refused", "give a handle like tenants@city.example or a link to a profile"),
        11: ("refused", "'not a handle' is neither a handle like name@example.org nor a link starting with https://"),
        13: ("refused", "the same address as line 2"),
    }
    found = {r.line: (r.handle, r.name, r.kind) for r in results if r.outcome == "found"}
    assert found == {2: ("tenants@b.test", "Chicago Tenants Union", "coalition"),
                     3: ("collective@mobilizon.test", "Collectif Logement", "coalition")}
    assert world.blocked.requests == []


async def test_found_coalitions_keep_the_note_and_get_movements_and_region_only_where_they_have_none(
    world: World,
) -> None:
    await run(world.a, LIST)

    tenants = await stored(world.a, TENANTS)
    assert (tenants.listing.discovered_via, tenants.listing.note) == ("import", "vouched by Ana")
    tenants_profile = profile_of(tenants)
    assert (tenants_profile.movements, tenants_profile.region_city) == (["Tenants", "housing"], "Chicago")  # its own
    group = await stored(world.a, GROUP_ID)
    assert (group.listing.discovered_via, group.listing.note) == ("import", "met at the assembly")
    assert profile_of(group).movements == ["Tenants", "Housing"]
    assert await movement_rows(world.a, GROUP_ID) == {"tenants", "housing"}  # the directory's filter sees them
    group_profile = profile_of(group)
    region = (group_profile.region_city, group_profile.region_state, group_profile.region_country)
    assert region == ("Lyon", "Auvergne-Rhône-Alpes", "FR")
    bay = await stored(world.a, "http://b.test/g/bay")
    assert bay.listing.discovered_via == "federation"  # known before: how it was met stays
    climate = await stored(world.a, "http://a.test/g/climate")
    assert (climate.listing.note, profile_of(climate).movements) == ("our own", None)  # local profiles are not touched


async def test_what_an_import_filled_in_survives_the_actors_next_refresh(world: World) -> None:
    await run(world.a, LIST)

    await actors.resolve_actor(world.a.ctx, GROUP_ID, refresh=True)  # its profile still has neither

    group = await stored(world.a, GROUP_ID)
    assert profile_of(group).movements == ["Tenants", "Housing"] and profile_of(group).region_city == "Lyon"
    assert await movement_rows(world.a, GROUP_ID) == {"tenants", "housing"}


async def test_the_newest_import_note_wins_and_an_empty_note_keeps_the_old_one(world: World) -> None:
    await run(world.a, "address,note\ntenants@b.test,first\n")
    second = await run(world.a, "address,note\ntenants@b.test,second\n")
    await run(world.a, "address,note\ntenants@b.test,\n")

    assert by_line(second) == {2: ("already known", "this server already knew it (imported from a list)")}
    assert (await stored(world.a, TENANTS)).listing.note == "second"


async def test_a_dry_run_resolves_every_row_and_saves_nothing(world: World) -> None:
    async with world.a.ctx.sessions() as session:
        before = await session.scalar(select(func.count(Actor.id)))

    results = await run(world.a, LIST, dry_run=True)

    assert by_line(results)[2] == ("found", None) and by_line(results)[3] == ("found", None)
    assert by_line(results)[6][0] == "refused" and by_line(results)[4][0] == "already known"
    async with world.a.ctx.sessions() as session:
        assert await session.scalar(select(func.count(Actor.id))) == before
        climate = await actors.find_actor(session, "http://a.test/g/climate")
    assert climate is not None and climate.listing.note is None


@pytest.mark.all_backends  # a unique-row race
async def test_a_handle_and_a_link_to_the_same_coalition_count_once(world: World) -> None:
    results = await run(world.a, f"address\ntenants@b.test\n{TENANTS}\n")

    outcomes = sorted((r.outcome, r.reason) for r in results)
    first = next(r.line for r in results if r.outcome == "found")
    assert outcomes == [("found", None), ("refused", f"the same coalition as line {first}")]


# --- Politeness: bounded concurrency and a timeout per row ------------------------------------------


class Gate:
    """Servers that hold every request until released, counting how many are open at once."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.most_overall = 0
        self.release = asyncio.Event()
        self.four_open = asyncio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.open[host] = self.open.get(host, 0) + 1
        self.most[host] = max(self.most.get(host, 0), self.open[host])
        self.most_overall = max(self.most_overall, sum(self.open.values()))
        if sum(self.open.values()) >= 4:
            self.four_open.set()
        try:
            await self.release.wait()
        finally:
            self.open[host] -= 1
        return httpx.Response(404)


@pytest.mark.all_backends  # concurrent sessions on one database
async def test_at_most_four_rows_run_at_once_and_two_per_server(world: World) -> None:
    gate = Gate()
    hosts = ("one.test", "two.test", "three.test")
    for host in hosts:
        world.net.add_handler(host, gate.handle)
    text = "address\n" + "".join(f"user{n}@{host}\n" for host in hosts for n in range(5))
    consumer = asyncio.create_task(run(world.a, text))

    await asyncio.wait_for(gate.four_open.wait(), timeout=30)
    for _ in range(50):  # a fifth row, if the limits let one through, would reach its server now
        await asyncio.sleep(0)
    held = dict(gate.open)
    gate.release.set()
    results = await consumer

    assert sum(held.values()) == 4 and max(held.values()) == 2
    assert gate.most_overall == 4 and max(gate.most.values()) == 2
    assert len(results) == 15 and {r.outcome for r in results} == {"not found"}


async def test_a_row_that_never_answers_times_out_and_the_others_finish(world: World) -> None:
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return httpx.Response(500)

    world.net.add_handler("slow.test", hang)
    # The healthy row must finish within the timeout even on a busy machine running tests in parallel:
    # a CI run on PostgreSQL once took over a second for it, so the hanging row is given five.
    results = await run(world.a, "address\nsomeone@slow.test\ntenants@b.test\n", row_timeout=5.0)

    assert by_line(results) == {2: ("not found", "slow.test did not answer in time; try again later"),
                                3: ("found", None)}


# --- What a person reads: progress lines and the summary -------------------------------------------


def test_progress_lines_and_the_summary_table_name_every_row_that_was_not_found_new() -> None:
    results = [
        RowResult(line=2, address="tenants@city.example", outcome="found", handle="tenants@city.example",
                  name="Chicago Tenants Union"),
        RowResult(line=3, address="alice@masto.example", outcome="refused",
                  reason="alice@masto.example is a person, not a coalition or hub", handle="alice@masto.example"),
        RowResult(line=4, address="", outcome="refused", reason="give a handle"),
    ]
    summary = Summary()
    lines = []
    for result in results:
        summary.add(result)
        lines.append(progress_line(summary.total, 40, result))

    assert lines == [
        "[1/40] found tenants@city.example — Chicago Tenants Union",
        "[2/40] refused alice@masto.example — alice@masto.example is a person, not a coalition or hub",
        "[3/40] refused (empty address) — give a handle",
    ]
    assert summary_lines(summary, dry_run=True) == [
        "outcome         rows",
        "found              1",
        "already known      0",
        "not found          0",
        "refused            2",
        "total              3",
        "",
        " line  outcome        address              reason",
        "    3  refused        alice@masto.example  alice@masto.example is a person, not a coalition or hub",
        "    4  refused        (empty address)      give a handle",
        "",
        "dry run: nothing was saved",
    ]


# --- /admin/import ----------------------------------------------------------------------------------


@pytest.fixture
async def admin(world: World) -> AsyncIterator[Browser]:
    browser = await organizer(world.a, "root", is_admin=True)
    yield browser
    await browser.client.aclose()


async def upload(
    browser: Browser, content: bytes, *, dry_run: bool = False, token: str | None = None
) -> httpx.Response:
    data = {"csrf_token": token if token is not None else await browser.csrf_token("/admin/import")}
    if dry_run:
        data["dry_run"] = "on"
    return await browser.client.post("/admin/import", data=data, files={"file": ("list.csv", content, "text/csv")})


async def test_an_admin_uploads_a_list_and_the_page_shows_each_row_then_the_summary(
    world: World, admin: Browser
) -> None:
    page = await upload(admin, LIST.encode())

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    rows = page.text.split("</ol>")[0].split('<li class="import-row"')[1:]
    assert len(rows) == 11
    assert sum('data-outcome="found"' in row for row in rows) == 2
    assert any('data-outcome="refused"' in row and "alice@masto.test is a person" in row for row in rows)
    summary = page.text.split('id="summary-heading"')[1]
    assert '<div class="rollup-stat" data-outcome="found"><dt>Found</dt><dd>2</dd></div>' in summary
    assert '<div class="rollup-stat" data-outcome="refused"><dt>Refused</dt><dd>5</dd></div>' in summary
    assert (
        '<td data-label="Address">someone@down.test</td>'
        '<td data-label="Reason">down.test could not be reached; try again later</td>'
    ) in summary
    assert page.text.rstrip().endswith("</html>")
    assert (await stored(world.a, GROUP_ID)).listing.note == "met at the assembly"


async def test_the_upload_is_sent_piece_by_piece_while_rows_resolve(world: World, admin: Browser) -> None:
    request = admin.client.build_request(
        "POST", "/admin/import", data={"csrf_token": await admin.csrf_token("/admin/import")},
        files={"file": ("list.csv", b"address\ntenants@b.test\nnobody@masto.test\n", "text/csv")},
    )
    chunks = await asgi_body_chunks(world.a, request)

    assert "<h1>Importing 2 rows</h1>" in chunks[0] and "import-row" not in chunks[0]
    rows = [chunk for chunk in chunks if chunk.startswith('<li class="import-row"')]
    assert len(rows) == 2
    assert "Summary" not in "".join(chunks[: chunks.index(rows[-1]) + 1])
    assert "Summary" in "".join(chunks[chunks.index(rows[-1]) + 1:])


async def asgi_body_chunks(instance: Instance, request: httpx.Request) -> list[str]:
    """Each body message the app sends, as a browser would receive them one after the other."""
    body = await request.aread()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": "http", "path": request.url.path, "raw_path": request.url.raw_path, "query_string": b"",
        "root_path": "", "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "server": (instance.host, 80), "client": ("127.0.0.1", 50000),
    }
    sent = False
    chunks: list[str] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # the client stays connected
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"].decode())

    await instance.app(scope, receive, send)
    return chunks


async def test_a_dry_run_upload_saves_nothing(world: World, admin: Browser) -> None:
    page = await upload(admin, b"address,note\ncollective@mobilizon.test,hello\n", dry_run=True)

    assert page.status_code == 200
    assert "<h1>Checking 1 row</h1>" in page.text and "Dry run: every row is looked up" in page.text
    async with world.a.ctx.sessions() as session:
        assert await actors.find_actor(session, GROUP_ID) is None


async def test_a_file_over_one_megabyte_is_refused_with_the_reason_next_to_the_field(
    world: World, admin: Browser
) -> None:
    big = b"address,note\n" + b"someone@down.test," + b"x" * 1_000_000 + b"\n"

    page = await upload(admin, big)

    assert page.status_code == 413
    assert field_error(page, "import-file") == "Error: the file is larger than 1 MB; split it into smaller files"
    assert 'class="import-row"' not in page.text


async def test_a_file_without_an_address_column_is_refused(world: World, admin: Browser) -> None:
    page = await upload(admin, b"name,region\nTenants,Chicago\n")

    assert page.status_code == 400
    error = field_error(page, "import-file") or ""
    assert error.startswith("Error: the first row must name the columns, one of them address")


async def test_only_admins_import_and_the_form_needs_its_csrf_token(world: World, admin: Browser) -> None:
    coalition = await stored(world.a, "http://a.test/g/climate")
    editor = await organizer(world.a, "eddie", coalition, "owner")
    visitor = Browser(world.a)
    try:
        assert (await editor.get("/admin/import")).status_code == 403
        refused = await upload(editor, LIST.encode(), token=editor.session_csrf_token())
        assert refused.status_code == 403
        anonymous = await visitor.client.post("/admin/import", files={"file": ("list.csv", b"address\n", "text/csv")})
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    finally:
        await editor.client.aclose()
        await visitor.client.aclose()
    forged = await upload(admin, LIST.encode(), token="not-the-token")
    assert forged.status_code == 403
    async with world.a.ctx.sessions() as session:
        assert await actors.find_actor(session, TENANTS) is None  # nothing was looked up


async def test_csv_files_from_spreadsheets_are_read(world: World) -> None:
    semicolons = "\ufeffAddress;Movement;Region;Note;Extra\r\ntenants@b.test;\"Tenants;Housing\";Chicago;hi;x\r\n\r\n"
    rows = read_rows(semicolons.encode())
    assert rows == [ImportRow(line=2, address="tenants@b.test", movements=("Tenants", "Housing"), region="Chicago",
                              note="hi")]
    with pytest.raises(Exception, match="more than 5,000 rows"):
        read_rows(("address\n" + "x@y.example\n" * 5001).encode())
