"""What the demo prints once the network is seeded: each server, the logins, and what to open and click."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import quote

from fedihub.demo.network import ADMIN, PASSWORD, SITES, Seeded
from fedihub.demo.servers import Server

# Pages of newer versions; the guide names them only when the servers answer them.
OPTIONAL_PAGES = (("/directory", "the directory of every coalition and hub it knows"),
                  ("/map", "the map of coalitions and upcoming calls"))


def answers(url: str) -> bool:
    # No proxy: a proxy from the environment cannot reach 127.0.0.x.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def guide(servers: Mapping[str, Server], seeded: Seeded, data_dir: str) -> str:
    chicago, springfield = servers["chicago"].base_url, servers["springfield"].base_url
    illinois, national = servers["illinois"].base_url, servers["national"].base_url
    call = seeded.call_url
    remote_view = f"{national}/calls/view?url={quote(call, safe='')}"
    width = max(len(site.label) for site in SITES)
    lines = [
        "",
        f"The fedihub demo network is running ({len(servers)} servers; data and logs in {data_dir}/<name>/):",
        "",
        *(f"  {site.label:<{width}}  {servers[site.key].base_url:<24}  {site.role}" for site in SITES),
        "",
        f"Log in on any of them at <server>/login as  {ADMIN} / {PASSWORD}  (that server's instance admin).",
        "",
        "What to open:",
        f"  1. The national call, on the Chicago server that published it ({seeded.call_date}):",
        f"       {call}",
        "     'Who is taking part' is its roll-up: 3 coalitions pledged (Illinois 2, Ohio 1), 2 local actions,",
        "     and the hubs carrying it: the Illinois Coalitions Hub and the National Hub.",
        "  2. The same call as the national hub's server shows it, with the same roll-up:",
        f"       {remote_view}",
        "  3. The hubs, with their members and the calls they carry (each with its roll-up line):",
        f"       {illinois}/g/illinois     {national}/g/national",
        "  4. A local action made by a pledge, on the Springfield coalition's page:",
        f"       {springfield}/g/springfield-renters",
        f"  5. The organizer's side: log in at {springfield}/login, see {springfield}/dashboard, then open the call",
        f"     there, {springfield}/calls/view?url={quote(call, safe='')}",
        "     'Your coalitions' shows Springfield's pledge as accepted, with a Withdraw button.",
        f"  6. Watch a call travel up the tree: log in at {chicago}/login, publish a call from",
        f"       {chicago}/manage/chicago-fight-for-15/calls/new",
        f"     and reload {national}/g/national: the Illinois hub boosts it, then the national hub, in seconds.",
    ]
    extra = [f"       {base}{path}  ({what})" for base in (national,) for path, what in OPTIONAL_PAGES
             if answers(f"{base}{path}")]
    if extra:
        lines += ["  7. Discovery on the national hub's server:", *extra]
    lines += ["", "Stop everything with Ctrl-C. `make demo` starts afresh; add DEMO_ARGS=--keep to keep this network."]
    return "\n".join(lines)
