"""Run every benchmark (``make bench``) one after the other and print a summary table of the medians."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SCRIPT_TIMEOUT = 15 * 60  # seconds; each script takes about two minutes or less by default


def run(script: str, args: list[str], workdir: Path) -> tuple[dict[str, Any] | None, float]:
    """Run one benchmark with its output shown as it comes; its JSON results, or None if it failed."""
    out = workdir / f"{Path(script).stem}.json"
    print(f"\n=== {script} {' '.join(args)}".rstrip(), flush=True)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, str(BENCH_DIR / script), *args, "--json", str(out)], timeout=SCRIPT_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        print(f"{script} took longer than {SCRIPT_TIMEOUT} s and was stopped", flush=True)
        return None, time.monotonic() - started
    elapsed = time.monotonic() - started
    if completed.returncode != 0 or not out.exists():
        print(f"{script} failed (exit {completed.returncode})", flush=True)
        return None, elapsed
    return json.loads(out.read_text()), elapsed


def rows_for_fanout(r: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for db in ("sqlite", "postgresql"):
        if db not in r:
            continue
        d = r[db]
        rows.append((f"fan-out {r['inboxes']} inboxes, {db}: fedihub", f"{d['fedihub']:.0f} deliveries/s"))
        rows.append((f"fan-out {db}: baseline sign+POST (aiohttp)", f"{d['baseline_aiohttp']:.0f} requests/s"))
        if "baseline_httpx" in d:
            rows.append((f"fan-out {db}: baseline sign+POST (httpx)", f"{d['baseline_httpx']:.0f} requests/s"))
        verdict = "ok" if d["ratio"] >= 0.5 else "BELOW 0.5"
        rows.append((f"fan-out {db}: fedihub / baseline", f"{d['ratio']:.2f} ({verdict})"))
    return rows


def rows_for_inbox(r: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for db in ("sqlite", "postgresql"):
        if db in r:
            d = r[db]
            rows.append((f"inbox {db}: accepted, signing client",
                         f"{d['accepted_signing_per_second']:.0f} activities/s = {d['ratio_signing']:.2f} × "
                         f"bare sign-and-POST ({d['baseline_signing_per_second']:.0f}/s)"))
            rows.append((f"inbox {db}: accepted, pre-signed", f"{d['accepted_per_second']:.0f} activities/s"))
            rows.append((f"inbox {db}: processed by the worker", f"{d['processed_per_second']:.0f} activities/s"))
    if "postgresql_skipped" in r:
        rows.append(("inbox postgresql", f"skipped: {r['postgresql_skipped'][:60]}"))
    return rows


def rows_for_memory(r: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("memory: idle `fedihub serve` RSS", f"{r['idle_rss']:.1f} MiB"),
        (f"memory: RSS after {r['requests']:.0f} requests", f"{r['after_rss']:.1f} MiB"),
    ]


def rows_for_directory(r: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for db in ("sqlite", "postgresql"):
        for label in ("movement", "movement+region+scope", "text"):
            if label in r.get(db, {}):
                d = r[db][label]
                figure = f"{d['page_ms']:.0f} ms (query {d['query_ms']:.0f} ms)"
                rows.append((f"directory {r['actors']} {db}: {label} page", figure))
    return rows


def rows_for_jsonld(r: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for name, d in r["documents"].items():
        rows.append((f"inbound {name}: json.loads / plain path", f"{d['json_loads_us']:.0f} / {d['plain_us']:.0f} µs"))
        rows.append((f"inbound {name}: pyld path", f"{d['pyld_us'] / 1000:.1f} ms"))
    rows.append(("inbound JSON-LD at the caps", f"{r['at_caps_ms']:.0f} ms"))
    return rows


def rows_for_startup(r: dict[str, Any]) -> list[tuple[str, str]]:
    floor = r["python -c pass"]
    rows = [("startup: python -c pass (the floor)", f"{floor['wall'] * 1000:.0f} ms wall")]
    for label in ("fedihub --help", "fedihub post --help", "fedihub post"):
        d = r[label]
        rows.append((f"startup: {label}", f"{d['wall'] * 1000:.0f} ms wall, {d['imports'] * 1000:.0f} ms importing"))
    return rows


def rows_for_call_page(r: dict[str, Any]) -> list[tuple[str, str]]:
    def middle(key: str) -> float:  # the median of the runs' p95
        return sorted(r[key])[len(r[key]) // 2]

    return [
        (f"call page p95, {reader}: idle / during a 1,000-inbox fan-out",
         f"{middle(f'idle {reader} p95 ms'):.0f} / {middle(f'storm {reader} p95 ms'):.0f} ms")
        for reader in ("cached", "rendered")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="fan-out on PostgreSQL too (inbox always tries it)")
    parser.add_argument("--quick", action="store_true", help="fewer runs per figure (a smoke test, noisier)")
    args = parser.parse_args(argv)
    repeat = ["--repeat", "2"] if args.quick else []
    plan = [
        ("fanout.py", repeat + (["--postgres"] if args.postgres else []), rows_for_fanout),
        ("inbox.py", repeat, rows_for_inbox),
        ("call_page.py", repeat, rows_for_call_page),
        ("memory.py", repeat, rows_for_memory),
        ("directory.py", repeat, rows_for_directory),
        ("inbound_jsonld.py", repeat, rows_for_jsonld),
        ("startup.py", repeat, rows_for_startup),
    ]
    rows: list[tuple[str, str]] = []
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for script, script_args, to_rows in plan:
            results, elapsed = run(script, script_args, Path(tmp))
            if results is None:
                failed.append(script)
                rows.append((script, "FAILED"))
            else:
                rows.extend(to_rows(results))
            rows.append((f"  ({script} ran for)", f"{elapsed:.0f} s"))
    width = max(len(name) for name, _ in rows)
    print("\n=== summary (medians; see bench/README.md for what each figure means)")
    for name, value in rows:
        print(f"  {name:{width}}  {value}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
