"""The demo network's shape (three cities, a state hub, a national hub) and its seeding through `fedihub` commands."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from fedihub.demo.servers import DemoError, Server, run_side_by_side, wait_until

ADMIN = "admin"
PASSWORD = "fedihub-demo"  # at least 10 characters, as fedihub asks; printed for the person at the keyboard
CALL_TITLE = "National day of action for rent control"
DOWN_CALL_TITLE = "National evening of tenant assemblies"
NEW_CALLS_AT_ONCE = "new_call=now"  # Springfield's admin: "New calls from your hubs" by e-mail at once


@dataclass(frozen=True)
class Coalition:
    handle: str
    name: str
    summary: str
    city: str
    state: str
    movements: tuple[str, ...]
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Site:
    key: str
    label: str
    role: str
    host: str
    port: int
    coalitions: tuple[Coalition, ...] = ()
    hub: str | None = None  # the handle of the hub this server hosts


SITES: tuple[Site, ...] = (
    Site("chicago", "Chicago", "city server: two coalitions; one posts the national call", "127.0.0.2", 8001, (
        Coalition("chicago-tenants", "Chicago Tenants Union", "Renters organising building by building.",
                  "Chicago", "Illinois", ("Tenants", "AntiAusterity"), 41.8781, -87.6298),
        Coalition("chicago-fight-for-15", "Chicago Fight for $15", "Fast-food and care workers for a living wage.",
                  "Chicago", "Illinois", ("FightFor15", "Labour"), 41.8827, -87.6233),
    )),
    Site("springfield", "Springfield", "city server: one coalition, joins the state hub by request",
         "127.0.0.3", 8002, (
        Coalition("springfield-renters", "Springfield Renters United", "Tenants of the capital, together.",
                  "Springfield", "Illinois", ("Tenants",), 39.7817, -89.6501),
    )),
    Site("cleveland", "Cleveland", "city server: one coalition, a direct member of the national hub",
         "127.0.0.4", 8003, (
        Coalition("cleveland-solidarity", "Cleveland Solidarity Network", "Mutual aid and tenant defence.",
                  "Cleveland", "Ohio", ("SolidarityNetwork", "Tenants"), 41.4993, -81.6944),
    )),
    Site("illinois", "Illinois", "state hub server: the Illinois hub follows the Illinois coalitions", "127.0.0.5",
         8004, hub="illinois"),
    Site("national", "National", "national hub server: the national hub follows the state hub (it asked to join) "
         "and Cleveland", "127.0.0.6", 8005, hub="national"),
)


@dataclass(frozen=True)
class Seeded:
    """What the seeding made, kept in network.json so `--keep` can show the same network again."""

    ports: dict[str, int]
    call_url: str
    call_date: str
    # Cleveland's call, which comes down the tree: national hub → Illinois hub → Springfield's dashboard.
    down_call_url: str = ""

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(
            {"ports": self.ports, "call_url": self.call_url, "call_date": self.call_date,
             "down_call_url": self.down_call_url}, indent=2
        ))

    @classmethod
    def load(cls, path: Path) -> Seeded | None:
        try:
            data = json.loads(path.read_text())
            return cls(ports={k: int(v) for k, v in data["ports"].items()}, call_url=str(data["call_url"]),
                       call_date=str(data["call_date"]), down_call_url=str(data.get("down_call_url", "")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def actor_url(server: Server, handle: str) -> str:
    return f"{server.base_url}/g/{handle}"


# --- What the servers' databases say (read-only) -----------------------------------------------


def accepted_follows_of(server: Server, handle: str) -> int:
    sql = ("SELECT count(*) FROM follows f JOIN actors a ON a.id = f.follower_id "
           "WHERE a.local_username = ? AND f.state = 'accepted'")
    return int(server.scalar(sql, handle) or 0)


def hub_follows_accepted(server: Server, member: str) -> int:
    """How many hubs' follows of the local ``member`` were accepted (its memberships)."""
    sql = ("SELECT count(*) FROM follows f JOIN actors a ON a.id = f.target_id "
           "WHERE a.local_username = ? AND f.state = 'accepted' AND NOT f.of_hub")
    return int(server.scalar(sql, member) or 0)


def stored(server: Server, object_uri: str) -> bool:
    return bool(server.scalar("SELECT count(*) FROM objects WHERE uri = ?", object_uri))


def waiting_join(server: Server, member_uri: str) -> bool:
    sql = ("SELECT count(*) FROM hub_requests r JOIN actors m ON m.id = r.member_id "
           "WHERE m.uri = ? AND r.state = 'pending'")
    return bool(server.scalar(sql, member_uri))


def boosted(server: Server, hub: str, object_uri: str) -> bool:
    sql = ("SELECT count(*) FROM boosts b JOIN actors h ON h.id = b.hub_id "
           "WHERE h.local_username = ? AND b.object_uri = ? AND b.undone_at IS NULL")
    return bool(server.scalar(sql, hub, object_uri))


def rollup_seen(server: Server, call_url: str) -> tuple[int, int] | None:
    """(coalitions pledged, hubs carrying the call) as this server's headline shows the call (vouched
    pledges only), or None without it."""
    rows = server.query("SELECT pledge_carriers FROM objects WHERE uri = ?", call_url)
    if not rows:
        return None
    (carriers,) = rows[0]
    pledged = int(
        server.scalar("SELECT count(*) FROM pledges WHERE call_uri = ? AND state = 'accepted' "
                      "AND vouched_by IS NOT NULL", call_url) or 0
    )
    # The origin keeps the carriers its vouch check verified (pledges/vouch_check.py); copies, the origin's list.
    return pledged, len(json.loads(carriers) if carriers else [])


# --- Seeding -----------------------------------------------------------------------------------


Step = tuple[Server, list[str], str | None]  # a `fedihub` command on one server, with its stdin


def _coalition_steps(server: Server, site: Site) -> list[Step]:
    """Per coalition: create it, then fill in its profile as the organizer form would."""
    return [
        step
        for c in site.coalitions
        for step in (
            (server, ["coalition", "create", c.handle, "--name", c.name, "--summary", c.summary,
                      "--owner", ADMIN], None),
            (server, ["coalition", "update", c.handle, "--region-city", c.city, "--region-state", c.state,
                      "--region-country", "US", *[a for m in c.movements for a in ("--movement", m)],
                      "--latitude", str(c.latitude), "--longitude", str(c.longitude)], None),
        )
    ]


def _per_server_in_order(steps: list[Step]) -> None:
    """Each server's commands one after the other (SQLite takes one writer at a time), servers side by side."""
    queues: dict[str, list[Step]] = {}
    for step in steps:
        queues.setdefault(step[0].key, []).append(step)
    while any(queues.values()):
        run_side_by_side([queue.pop(0) for queue in queues.values() if queue])


def admin_address(key: str) -> str:
    """The demo admin's address on one server (the mail catcher takes any address)."""
    return f"{ADMIN}@{key}.demo.example"


def seed(servers: Mapping[str, Server], say: Callable[[str], None], timeout: float) -> Seeded:
    """Admins, coalitions, hubs and memberships, a national call, pledges; waits for each to federate."""
    sites = {site.key: site for site in SITES}
    chicago, springfield, cleveland = servers["chicago"], servers["springfield"], servers["cleveland"]
    illinois, national = servers["illinois"], servers["national"]
    everyone = list(servers.values())

    say("creating an admin on every server, coalitions on the cities, the Illinois and national hubs")
    # Each admin has an address, so the notices they get at once land in the demo's mail catcher.
    # Springfield's organizers chose "At once" for new calls from their hubs (a daily digest by default,
    # which would land a day later): the national calls the Illinois hub passes down reach their mailbox.
    steps: list[Step] = [
        (s, ["admin", "create", "--username", ADMIN, "--password-stdin", "--email", admin_address(key),
             *(["--notices", NEW_CALLS_AT_ONCE] if key == "springfield" else [])],
         PASSWORD + "\n")
        for key, s in servers.items()
    ]
    for key in ("chicago", "springfield", "cleveland"):
        steps += _coalition_steps(servers[key], sites[key])
    steps += [
        (illinois, ["hub", "create", "illinois", "--name", "Illinois Coalitions Hub", "--scope", "state",
                    "--region", "Illinois", "--owner", ADMIN], None),
        (illinois, ["coalition", "update", "illinois", "--summary",
                    "Boosts the calls of Illinois coalitions to the state, and up to the national hub."], None),
        (national, ["hub", "create", "national", "--name", "National Hub", "--scope", "national",
                    "--calls-only", "--owner", ADMIN], None),
        (national, ["coalition", "update", "national", "--summary",
                    "Carries calls to action from state hubs and coalitions across the country."], None),
    ]
    _per_server_in_order(steps)

    say("building the tree: Illinois hub <- Chicago coalitions + Springfield (by request); "
        "national hub <- Illinois hub (by request) + Cleveland")
    illinois_hub, springfield_uri = actor_url(illinois, "illinois"), actor_url(springfield, "springfield-renters")
    national_hub = actor_url(national, "national")
    run_side_by_side([
        (illinois, ["hub", "add-member", "illinois", actor_url(chicago, "chicago-tenants"),
                    actor_url(chicago, "chicago-fight-for-15")], None),
        (national, ["hub", "add-member", "national", actor_url(cleveland, "cleveland-solidarity")], None),
        (springfield, ["hub", "join", "springfield-renters", illinois_hub,
                       "--message", "Springfield renters want in on the state-wide actions."], None),
    ])
    run_side_by_side([(illinois, ["hub", "join", "illinois", national_hub,
                                  "--message", "The Illinois coalitions take part in national days of action."],
                       None)])
    wait_until(lambda: waiting_join(illinois, springfield_uri) and waiting_join(national, illinois_hub),
               what="Springfield's and the Illinois hub's requests to reach their hubs", timeout=timeout,
               servers=everyone)
    # Asking to join is consent: Springfield and the Illinois hub follow their hubs once approved, so the
    # calls those hubs carry come down to them.
    run_side_by_side([(illinois, ["hub", "approve", "illinois", springfield_uri], None),
                      (national, ["hub", "approve", "national", illinois_hub], None)])
    wait_until(
        lambda: hub_follows_accepted(chicago, "chicago-fight-for-15") == 1
        and hub_follows_accepted(cleveland, "cleveland-solidarity") == 1,
        what="the hubs' follows of the members they added to be accepted", timeout=timeout, servers=everyone,
    )
    # The members a hub added (coalitions accept followers on their own) follow it back by their
    # organizers' choice: the hubs page's "Follow back" button, here as a command.
    run_side_by_side([
        (chicago, ["hub", "follow-back", "chicago-fight-for-15", illinois_hub], None),
        (cleveland, ["hub", "follow-back", "cleveland-solidarity", national_hub], None),
    ])
    # The calling coalition's organizers follow the hubs they work with: that makes those hubs' rosters
    # vouch for the pledges to its calls (docs/security.md, "Which hubs vouch").
    for hub in (illinois_hub, national_hub):
        run_side_by_side([(chicago, ["follow", "chicago-tenants", hub], None)])
    wait_until(
        lambda: accepted_follows_of(illinois, "illinois") == 4 and accepted_follows_of(national, "national") == 2
        and accepted_follows_of(chicago, "chicago-tenants") == 2
        and accepted_follows_of(chicago, "chicago-fight-for-15") == 1
        and accepted_follows_of(springfield, "springfield-renters") == 1
        and accepted_follows_of(cleveland, "cleveland-solidarity") == 1,
        what="every member and its hub to follow each other", timeout=timeout, servers=everyone,
    )

    day = date.today() + timedelta(days=14)
    say(f"Chicago Tenants Union posts the national call for {day:%A %d %B %Y}")
    [call_url] = run_side_by_side([(chicago, [
        "call", "create", "chicago-tenants", "--title", CALL_TITLE, "--start", f"{day}T12:00", "--end", f"{day}T15:00",
        "--timezone", "America/Chicago", "--place", "Daley Plaza", "--address", "50 W Washington St, Chicago, IL",
        "--movement", "Tenants", "--region-city", "Chicago", "--region-state", "Illinois", "--region-country", "US",
        "--latitude", "41.8837", "--longitude", "-87.6303",
        "--description", "Rallies in every state for rent control. **Pledge your coalition** and add a local action.",
    ], None)])
    call_url = call_url.strip()
    wait_until(lambda: boosted(illinois, "illinois", call_url) and boosted(national, "national", call_url),
               what="the call to climb to the Illinois and national hubs", timeout=timeout, servers=everyone)

    say("Springfield and Cleveland pledge with local actions; Chicago Fight for $15 pledges too")
    run_side_by_side([
        (springfield, ["pledge", "springfield-renters", call_url, "--message", "Springfield brings 40 people",
                       "--local-title", "Springfield rally for rent control", "--local-start", f"{day}T10:00",
                       "--local-timezone", "America/Chicago", "--local-place", "Illinois State Capitol",
                       "--local-address", "401 S 2nd St, Springfield, IL"], None),
        (cleveland, ["pledge", "cleveland-solidarity", call_url, "--message", "Ohio is in",
                     "--local-title", "Cleveland march for rent control", "--local-start", f"{day}T11:00",
                     "--local-timezone", "America/New_York", "--local-place", "Public Square",
                     "--local-address", "Public Square, Cleveland, OH"], None),
        (chicago, ["pledge", "chicago-fight-for-15", call_url, "--message", "Fast-food workers march with you"], None),
    ])
    expected = (3, 2)

    def everywhere() -> bool:
        return all(rollup_seen(server, call_url) == expected for server in everyone)

    try:
        wait_until(everywhere, what="the roll-up (3 pledges, 2 hubs) to reach every server", timeout=timeout,
                   servers=everyone)
    except DemoError as exc:
        seen = {server.label: rollup_seen(server, call_url) for server in everyone}
        raise DemoError(f"{exc}\n(pledges, hubs) seen per server: {seen}") from None

    later = day + timedelta(days=7)
    say(f"Cleveland Solidarity Network posts a second national call, for {later:%A %d %B %Y}: it climbs to the "
        "national hub and comes down through the Illinois hub to Springfield and Chicago")
    [down_call_url] = run_side_by_side([(cleveland, [
        "call", "create", "cleveland-solidarity", "--title", DOWN_CALL_TITLE, "--start", f"{later}T18:00",
        "--end", f"{later}T20:00", "--timezone", "America/New_York", "--place", "Every city, your own venue",
        "--movement", "Tenants", "--region-country", "US",
        "--description", "Every tenants' coalition holds an open assembly the same evening. **Pledge** with "
                         "the address of yours.",
    ], None)])
    down_call_url = down_call_url.strip()
    wait_until(lambda: stored(springfield, down_call_url) and stored(chicago, down_call_url),
               what="Cleveland's call to come down the tree to Springfield and Chicago", timeout=timeout,
               servers=everyone)
    return Seeded(ports={key: server.port for key, server in servers.items()}, call_url=call_url, call_date=str(day),
                  down_call_url=down_call_url)
