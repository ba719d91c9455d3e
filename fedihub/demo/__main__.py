"""`python -m fedihub.demo`: start the demo network, seed it, print the guide, stop it all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from fedihub.demo.guide import guide
from fedihub.demo.mail_catcher import HOST, PORT, MailCatcher
from fedihub.demo.network import SITES, Seeded, seed
from fedihub.demo.servers import DemoError, Server, free_port, pick_port, port_is_free, stop_all, wait_until

MARKER = "network.json"
PIDFILE = "demo.pid"
MAILBOX = "mail"  # the mail catcher's .eml files
START_TIMEOUT = 60.0


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop every server and exit 0."""


class Signals:
    """SIGINT and SIGTERM raise Stop, except inside `held()`, which raises it on the way out."""

    def __init__(self) -> None:
        self.received: str | None = None
        self.holding = False

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum).name
        if not self.holding:
            raise Stop(self.received)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.received:
            raise Stop(self.received)


def say(text: str) -> None:
    print(f"demo: {text}", flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m fedihub.demo",
        description="Start a local network of fedihub servers (three cities, a state hub, a national hub) on "
                    "127.0.0.x, seed it through the fedihub command, and run it until Ctrl-C.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"),
                        help="where each server keeps its database and log (default: data/demo); wiped on start")
    parser.add_argument("--keep", action="store_true",
                        help="reuse the network seeded by the last run in --data-dir instead of starting afresh")
    parser.add_argument("--free-ports", action="store_true",
                        help="let the system pick every port instead of 8001-8005")
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="seconds to wait for each federation step before giving up (default: 90)")
    parser.add_argument("--exit-when-ready", action="store_true",
                        help="stop everything once the network is seeded (a smoke check) instead of running on")
    return parser.parse_args(argv)


def running_demo(data_dir: Path) -> int | None:
    """The process id of a demo that runs from ``data_dir`` right now, if any."""
    try:
        pid = int((data_dir / PIDFILE).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() else None


def prepare(data_dir: Path, keep: bool) -> Seeded | None:
    """The seeded network to reuse (with --keep), or None after wiping the data directory."""
    other = running_demo(data_dir)
    if other is not None:
        raise DemoError(
            f"another demo (process {other}) runs from {data_dir}: stop it first, or choose another --data-dir"
        )
    if keep:
        seeded = Seeded.load(data_dir / MARKER)
        if seeded is not None:
            return seeded
        say(f"nothing to keep in {data_dir}: starting afresh")
    if data_dir.exists():
        ours = {site.key for site in SITES} | {MARKER, PIDFILE, MAILBOX}
        strangers = sorted(p.name for p in data_dir.iterdir() if p.name not in ours)
        if strangers:
            raise DemoError(f"{data_dir} holds files the demo did not make ({', '.join(strangers[:3])}); "
                            "it wipes its directory on every run, so choose another --data-dir")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    return None


def plan(data_dir: Path, seeded: Seeded | None, free_ports: bool, mail_url: str) -> dict[str, Server]:
    servers = {}
    for site in SITES:
        if seeded is not None:
            # Every id the kept network holds names its old address: it must come back on the same one.
            port = seeded.ports[site.key]
            if not port_is_free(site.host, port):
                raise DemoError(f"the kept network's {site.label} server needs {site.host}:{port}, which is busy; "
                                "stop what listens there, or run without --keep")
        else:
            port = free_port(site.host) if free_ports else pick_port(site.host, site.port)
        servers[site.key] = Server(site.key, site.label, site.role, site.host, port, data_dir / site.key, mail_url)
    return servers


def start(servers: dict[str, Server], signals: Signals) -> None:
    # A signal between Popen and remembering the process would orphan a server: hold it meanwhile.
    with signals.held():
        for server in servers.values():
            server.start()
    wait_until(lambda: all(s.listening() for s in servers.values()), what="every server to listen",
               timeout=START_TIMEOUT, servers=list(servers.values()))


def watch(servers: dict[str, Server]) -> None:
    """Run until a signal arrives (raises Stop) or a server dies (raises DemoError naming it)."""
    while True:
        for server in servers.values():
            message = server.died()
            if message:
                raise DemoError(message)
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signals = Signals()
    signals.install()
    servers: dict[str, Server] = {}
    catcher: MailCatcher | None = None
    code = 0
    try:
        seeded = prepare(args.data_dir, args.keep)
        (args.data_dir / PIDFILE).write_text(f"{os.getpid()}\n")
        catcher = MailCatcher(args.data_dir / MAILBOX, free_port(HOST) if args.free_ports else pick_port(HOST, PORT))
        catcher.start()
        servers = plan(args.data_dir, seeded, args.free_ports, catcher.url)
        say(f"starting {len(servers)} fedihub servers on {', '.join(s.base_url for s in servers.values())}")
        started = time.monotonic()
        start(servers, signals)
        if seeded is None:
            seeded = seed(servers, say, args.timeout)
            seeded.save(args.data_dir / MARKER)
            say(f"started and seeded in {time.monotonic() - started:.0f} s")
        else:
            say(f"kept the network seeded before (the call is {seeded.call_url})")
        print(guide(servers, seeded, str(args.data_dir), str(catcher.directory), catcher.url), flush=True)
        if args.exit_when_ready:
            say("ready: the network is seeded; stopping it (--exit-when-ready)")
        else:
            print(f"ready: {len(servers)} servers running; press Ctrl-C to stop them all.", flush=True)
            watch(servers)
    except Stop as stop:
        say(f"{stop}: stopping the servers")
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        # A second Ctrl-C must not cut the clean stop short; it is bounded by stop_all's grace period.
        signals.holding = True
        killed = stop_all(list(servers.values()))
        if killed:
            say(f"killed after the grace period: {', '.join(killed)}")
        if running_demo(args.data_dir) is None:  # the file names this process, or nobody
            with contextlib.suppress(OSError):
                (args.data_dir / PIDFILE).unlink()
        if catcher is not None:
            catcher.stop()
        if servers:
            say("all servers stopped")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
