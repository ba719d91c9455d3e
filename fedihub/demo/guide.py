"""What the demo prints once the network is seeded: each server, the logins, and what to open and click."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import quote

from fedihub.demo.network import ADMIN, CALL_TITLE, DOWN_CALL_TITLE, PASSWORD, SITES, Seeded, admin_address
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


# The "In a mailbox" lines of the guide, one printed line each. Format fields: {springfield}, {chicago},
# {cleveland}, {illinois}, {national} (base URLs), {mail_dir}, {springfield_admin} (its admin's address),
# {call} and {down_call} (the seeded calls' titles).
MAILBOX_STEPS: tuple[str, ...] = (
    "  a. Already there: the Illinois and national hubs' admins were told at once that Springfield and the",
    "     Illinois hub asked to join (notices by e-mail; each admin's address and choices are on <server>/account,",
    "     where 'What's new' kinds can go at once, in a daily digest, or not at all).",
    "  b. Already there: the national calls in Springfield's mailbox. Springfield's admin chose 'At once'",
    "     for 'New calls from your hubs' on {springfield}/account#notices (the default, a daily",
    "     digest, would bring them a day later), so each national call the Illinois hub passed down was",
    "     mailed as it came: two messages to {springfield_admin}, each linking to the call and to",
    "     'What's new':",
    "       Illinois Coalitions Hub brought a new call: {call}.",
    "       Illinois Coalitions Hub brought a new call: {down_call}.",
    "     List them with  grep -l 'To: {springfield_admin}' {mail_dir}/*.eml",
    "  c. See one arrive: publish a call as in step 7 ({chicago}/manage/chicago-fight-for-15/calls/new, logged",
    "     in on Chicago). Seconds after the Illinois hub boosts it, a new .eml in {mail_dir}/ (the highest",
    "     number) is addressed to {springfield_admin} and names your call. The local actions pledged to a",
    "     call come down with it, shown under it: they are no new calls, and no message.",
    "  d. Subscribe as the public does: on {illinois}/g/illinois fill 'Get calls by e-mail' with any address.",
    "     The confirmation arrives as the next .eml; open its link and press Confirm.",
    "  e. Log in on {chicago}/login and post a new call for Chicago Tenants Union (Dashboard > New call to",
    "     action). It climbs to the Illinois hub, which carries it: your subscriber gets one message with the",
    "     call in their time zone, an .ics attachment and a one-click unsubscribe.",
)


def _mailbox(fields: Mapping[str, str], mail_dir: str, mail_url: str) -> list[str]:
    return [
        f"In a mailbox: every server sends its e-mail to the demo's SMTP catcher ({mail_url}), which keeps each",
        f"message as an .eml file in {mail_dir}/ (open one with any mail program, or read it as text).",
        *(step.format(**fields) for step in MAILBOX_STEPS),
    ]


def guide(servers: Mapping[str, Server], seeded: Seeded, data_dir: str, mail_dir: str = "", mail_url: str = "") -> str:
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
        "     the hubs carrying it (the Illinois Coalitions Hub and the National Hub), and the day's map with",
        "     Springfield's and Cleveland's local actions, placed from their addresses without any other site.",
        "  2. The same call as the national hub's server shows it, with the same roll-up:",
        f"       {remote_view}",
        "  3. The hubs as the day of action: the calls they carry with their local actions, members, map:",
        f"       {illinois}/g/illinois     {national}/g/national",
        "  4. A local action made by a pledge, on the Springfield coalition's page:",
        f"       {springfield}/g/springfield-renters",
        f"  5. A national call coming down to a city: log in at {springfield}/login and open {springfield}/dashboard.",
        "     Under Springfield Renters United, 'Calls for you' lists 'National evening of tenant assemblies' by",
        "     Cleveland Solidarity Network, 'via Illinois Coalitions Hub': Springfield follows neither Cleveland nor",
        "     the national hub; the national hub boosted the call and the Illinois hub passed it down.",
        "     Click 'Pledge', add a local action if you like, and press 'Pledge Springfield Renters United': the",
        "     pledge shows under 'Your pledges' (with its local action and a Withdraw button) next to the first",
        "     national call, pledged during seeding, and the call's roll-up line counts it within seconds.",
        "  6. Following a hub back: the Illinois hub added Chicago Fight for $15 without being asked, which alone",
        "     brings it none of the hub's calls; its organizers followed the hub back (the 'Follow back (receive its",
        f"     calls)' button of {chicago}/manage/chicago-fight-for-15/hubs), so Cleveland's call is on its part",
        f"     of {chicago}/dashboard too (log in on Chicago).",
        f"  7. Watch a call travel up the tree: log in at {chicago}/login, publish a call from",
        f"       {chicago}/manage/chicago-fight-for-15/calls/new",
        f"     and reload {national}/g/national: the Illinois hub boosts it, then the national hub, in seconds.",
    ]
    extra = [f"       {base}{path}  ({what})" for base in (national,) for path, what in OPTIONAL_PAGES
             if answers(f"{base}{path}")]
    if extra:
        lines += ["  8. Discovery on the national hub's server:", *extra]
    if mail_dir:
        fields = {"springfield": springfield, "chicago": chicago, "cleveland": servers["cleveland"].base_url,
                  "illinois": illinois, "national": national, "mail_dir": mail_dir,
                  "springfield_admin": admin_address("springfield"), "call": CALL_TITLE, "down_call": DOWN_CALL_TITLE}
        lines += ["", *_mailbox(fields, mail_dir, mail_url)]
    lines += ["", "Stop everything with Ctrl-C. `make demo` starts afresh; add DEMO_ARGS=--keep to keep this network."]
    return "\n".join(lines)
