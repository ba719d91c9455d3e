"""Directory: filtered pages over 10,000 known coalitions and hubs, as queries and as full page renders.

Setup per database (SQLite, then PostgreSQL when reachable): a fresh migrated database seeded directly
through the models with N remote Group actors (default 10,000; about 10 % hubs of every scope), each
with one to three of twelve movements (actor_movements kept as set_movements keeps it), a city, state
and country, a description of a couple of sentences, and a discovery source. Then, for each filter
below, the median of --repeat runs of:

- **query**: `directory_page()` alone (the count plus one page of 50), in one session;
- **page**: a full `GET /directory?…` through the ASGI app (session middleware, the page's queries,
  Jinja rendering), in process, no network. The movement and region choices of the filter form are
  counted once a minute; one extra row times the page with them counted on every request;
- **api**: `GET /api/v1/directory?…`, the same through the JSON API.

The target is a filtered page well under 100 ms on SQLite.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import (
    PostgresUnavailable,
    SqliteDatabases,
    base_parser,
    median,
    postgres_database,
    postgres_reason,
    say,
    spread,
    write_json,
)
from sqlalchemy import insert, select, text

from fedihub.app import create_app
from fedihub.directory.query import DirectoryFilter, directory_page, parse_filter
from fedihub.protocol.profile_reader import HUB_SCOPES
from fedihub.settings import Settings
from fedihub.storage.models import Actor, ActorMovement, CoalitionProfile, DirectoryListing, HubSettings

MOVEMENTS = ["Tenants", "Climate", "BlackLivesMatter", "FightFor15", "AntiAusterity", "SolidarityNetwork",
             "Labour", "ImmigrantRights", "Transit", "FoodNotBombs", "MutualAid", "PublicHousing"]
STATES = ["Illinois", "California", "New York", "Texas", "Ohio", "Georgia", "Oregon", "Michigan", "Bavaria",
          "Ontario", "Lombardy", "Catalonia", "Queensland", "Gauteng", "Kerala", "Jalisco"]
COUNTRIES = ["US", "US", "US", "US", "US", "US", "US", "US", "Germany", "Canada", "Italy", "Spain", "Australia",
             "South Africa", "India", "Mexico"]
WORDS = ["tenants", "union", "climate", "action", "workers", "centre", "solidarity", "network", "transit",
         "riders", "neighbours", "alliance", "coalition", "mutual", "aid", "food", "justice", "campaign"]
FOUND = ["federation", "federation", "roster", "roster", "roster", "boost", "import", "lookup"]
FILTERS = {
    "no filter": "",
    "movement": "movement=climate",
    "region (state)": "region=illinois",
    "text": "q=solidarity",
    "movement+region+scope": "movement=tenants&region=us&scope=coalition",
    "hub scope": "scope=state",
    "page 100": "page=100",
}


def rows_for(count: int, seed: int = 5) -> tuple[list[dict[str, Any]], list[list[str]]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    actors, movements = [], []
    for n in range(count):
        state = rng.randrange(len(STATES))
        scope = rng.choice(HUB_SCOPES) if rng.random() < 0.1 else None
        name = " ".join(rng.sample(WORDS, 3)).title()
        host = f"server{n % 400}.example"
        actors.append({
            "uri": f"https://{host}/g/group{n}", "type": "Group", "username": f"group{n}", "domain": host,
            "is_local": False, "name": f"{name} {n}", "url": f"https://{host}/@group{n}",
            "summary": "<p>" + " ".join(rng.choice(WORDS) for _ in range(30)) + ".</p>",
            "region_city": f"City {rng.randrange(500)}", "region_state": STATES[state],
            "region_country": COUNTRIES[state], "hub_scope": scope, "hub_region": STATES[state] if scope else None,
            "latitude": rng.uniform(-60, 70), "longitude": rng.uniform(-170, 170),
            "discovered_via": rng.choice(FOUND), "discovered_at": now, "created_at": now, "updated_at": now,
            "fetched_at": now,
        })
        movements.append(rng.sample(MOVEMENTS, rng.randint(1, 3)))
    return actors, movements


async def seed(database_url: str, count: int) -> Settings:
    settings = Settings(base_url="http://127.0.0.1:9", database_url=database_url, secret_key="bench-only",
                        log_level="WARNING")
    actors, movements = rows_for(count)
    for actor, chosen in zip(actors, movements, strict=True):
        actor["movements"] = chosen
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.runtime.ctx.sessions.begin() as session:
            # Each table gets its own columns of the generated row (the Actor row is split by owner).
            tables = (Actor, CoalitionProfile, HubSettings, DirectoryListing)
            columns = {table: set(table.__table__.columns.keys()) for table in tables}
            await session.execute(insert(Actor), [
                {key: value for key, value in actor.items() if key in columns[Actor]} for actor in actors
            ])
            ids = dict((await session.execute(select(Actor.uri, Actor.id))).all())
            renamed = {"hub_scope": "scope", "hub_region": "region"}
            for table in tables[1:]:
                rows = [
                    {"actor_id": ids[actor["uri"]], **{
                        renamed.get(key, key): value for key, value in actor.items()
                        if renamed.get(key, key) in columns[table] and key not in columns[Actor]
                    }}
                    for actor in actors if table is not HubSettings or actor["hub_scope"]
                ]
                await session.execute(insert(table), rows)
            await session.execute(insert(ActorMovement), [
                {"actor_id": ids[actor["uri"]], "movement": movement.casefold()}
                for actor, chosen in zip(actors, movements, strict=True) for movement in chosen
            ])
        if app.state.runtime.engine.dialect.name == "postgresql":
            # The statistics autovacuum gathers within a minute of a load this size. Without them
            # the planner takes the fresh tables for nearly empty and joins hub_settings by a
            # sequential scan per actor: 0.7 s for the movement+region+scope page instead of 20 ms.
            async with app.state.runtime.ctx.sessions.begin() as session:
                await session.execute(text("ANALYZE"))
    return settings


async def timed(repeat: int, run: Callable[[], Awaitable[Any]]) -> list[float]:
    await run()  # warm-up: caches, template compilation, the first connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def measure(settings: Settings, repeat: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.runtime.ctx
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            for label, query in FILTERS.items():
                chosen = parse_filter(dict(part.split("=", 1) for part in query.split("&") if part))

                # Each closure takes this filter as a default, so none can run with a later filter's values.
                async def run_query(chosen: DirectoryFilter = chosen) -> None:
                    async with ctx.sessions() as session:
                        await directory_page(session, chosen)

                async def run_page(query: str = query) -> None:
                    response = await client.get(f"/directory?{query}", headers={"Accept": "text/html"})
                    assert response.status_code == 200, response.status_code

                async def run_api(query: str = query) -> None:
                    response = await client.get(f"/api/v1/directory?{query}")
                    assert response.status_code == 200, response.status_code

                async with ctx.sessions() as session:
                    total = (await directory_page(session, chosen)).total
                query_ms = await timed(repeat, run_query)
                page_ms = await timed(repeat, run_page)
                api_ms = await timed(repeat, run_api)
                if label == "movement":
                    async def run_cold_page() -> None:
                        app.state.directory_facets = None  # as the first request of each minute
                        await run_page()

                    cold = await timed(repeat, run_cold_page)
                    results["movement, facets not cached"] = {"total": total, "page_ms": median(cold)}
                    say(f"  {'(movement, uncached facets)':24} {total:6} found   "
                        f"page {median(cold):6.1f} ms ({spread(cold)})")
                results[label] = {"total": total, "query_ms": median(query_ms), "page_ms": median(page_ms),
                                  "api_ms": median(api_ms)}
                say(f"  {label:24} {total:6} found   query {median(query_ms):6.1f} ms ({spread(query_ms)})   "
                    f"page {median(page_ms):6.1f} ms ({spread(page_ms)})   api {median(api_ms):6.1f} ms")
    return results


async def main_async(count: int, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"actors": count}
    with tempfile.TemporaryDirectory() as tmp:
        databases = SqliteDatabases(Path(tmp))
        url = await databases.create()
        say(f"sqlite: seeding {count} actors")
        settings = await seed(url, count)
        results["sqlite"] = await measure(settings, repeat)
        databases.remove(url)
    reason = await postgres_reason()
    if reason is not None:
        say(f"postgresql: skipped ({reason})")
        results["postgresql_skipped"] = reason
        return results
    try:
        async with postgres_database() as pg_url:
            say(f"postgresql: seeding {count} actors")
            settings = await seed(pg_url, count)
            results["postgresql"] = await measure(settings, repeat)
    except PostgresUnavailable as exc:
        results["postgresql_skipped"] = str(exc)
    return results


def main() -> None:
    parser = base_parser(__doc__.split("\n", 1)[0], repeat=7)
    parser.add_argument("--actors", type=int, default=10_000, help="how many directory entries to seed")
    args = parser.parse_args()
    write_json(args.json_path, asyncio.run(main_async(args.actors, args.repeat)))


if __name__ == "__main__":
    main()
