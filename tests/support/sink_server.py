"""A slow fake fediverse: answers every inbox POST with 202 and records (path, activity id) per line.

Run as a separate process so a test can SIGKILL the worker that talks to it:

    python tests/support/sink_server.py --host 127.0.0.4 --port 8123 --record received.jsonl --delay 0.02

Each line of the record file is ``{"path": ..., "id": ...}``, written and flushed as the request
arrives, before the answer: a worker killed while waiting for it has still been "heard".
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import TextIO

from aiohttp import web


def read_records(path: Path) -> list[tuple[str, str]]:
    """(inbox path, activity id) of every POST recorded so far; a half-written last line is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines(keepends=True):
        if line.endswith("\n"):
            entry = json.loads(line)
            records.append((entry["path"], entry["id"]))
    return records


def build_app(record: TextIO, delay: float) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            activity_id = json.loads(body).get("id")
        except ValueError:
            activity_id = None
        record.write(json.dumps({"path": request.path, "id": activity_id}) + "\n")
        record.flush()
        await asyncio.sleep(delay)  # a real server takes its time; it widens the crash window
        return web.Response(status=202)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ready")

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    app.router.add_get("/", ready)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args()
    with args.record.open("a", encoding="utf-8") as record:
        web.run_app(build_app(record, args.delay), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
