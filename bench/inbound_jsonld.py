"""Inbound JSON-LD: the plain path every known peer takes against the pyld path a document with
unknown terms takes, beside json.loads of the same body as the baseline, measured in the same run.

Columns: json.loads alone (the baseline); the plain reading as it was before the context check
(json.loads, NUL removal, read_activity); parse_activity_body on the plain path (the same plus the
context check); parse_activity_body on the pyld path (the same document with one unknown term).
Documents: the captured Mastodon Create(Note) and Mobilizon Event from tests/fixtures, each also with
one unknown term in its context (which sends it through pyld), and a document at the JSON-LD path's
caps (500 keys and list items) to show what the time cap guards. Each figure is the median over
--repeat runs of the mean time per call over --calls calls.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import base_parser, median, say, write_json

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fedihub.federation.inbox import parse_activity_body  # noqa: E402
from fedihub.protocol import jsonld  # noqa: E402
from fedihub.protocol.known_contexts import shape_of  # noqa: E402
from fedihub.protocol.reader import read_activity, without_nul  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures"
UNKNOWN = {"vibe": "https://vibes.example/ns#vibe"}
JSON_TYPE = "application/activity+json"


def with_unknown_term(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    contexts = doc["@context"] if isinstance(doc["@context"], list) else [doc["@context"]]
    doc["@context"] = [*contexts, UNKNOWN]
    doc["vibe"] = "calm"
    return doc


def at_the_caps() -> dict[str, Any]:
    """A Create(Note) as large as the JSON-LD path takes: 200 unknown terms in its context, and tags
    using them added until one more would pass the cap on keys and list items or on bytes."""
    doc = with_unknown_term(json.loads((FIXTURES / "mastodon/create_note.json").read_text()))
    doc["@context"][-1].update({f"term{n}": f"https://vibes.example/ns#term-{n}" for n in range(200)})
    tags = doc["object"]["tag"] = []
    while True:
        n = len(tags)
        tags.append({"type": "Hashtag", "name": f"#tag{n}", "href": f"https://masto.example/tags/{n}",
                     f"term{n % 200}": "x" * 60})
        size = len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
        if shape_of(doc).members > jsonld.MAX_LD_MEMBERS or size > jsonld.MAX_LD_DOCUMENT_BYTES:
            tags.pop()
            return doc


def per_call(function: Callable[[], Any], calls: int) -> float:
    """Mean seconds per call over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__ or "", repeat=7)
    parser.add_argument("--calls", type=int, default=200, help="calls per run for the fast figures (default 200)")
    args = parser.parse_args(argv)
    mastodon = json.loads((FIXTURES / "mastodon/create_note.json").read_text())
    mobilizon = json.loads((FIXTURES / "mobilizon/event.json").read_text())
    documents = {
        "mastodon Create(Note)": mastodon,
        "mobilizon Event": mobilizon,
    }
    results: dict[str, Any] = {"documents": {}}
    say(f"{'document':24} {'json.loads':>11} {'read, no check':>15} {'plain path':>11} {'pyld path':>11}"
        f" {'pyld / plain':>13}  bytes")
    for name, doc in documents.items():
        body = json.dumps(doc).encode()
        unknown_body = json.dumps(with_unknown_term(doc)).encode()
        assert jsonld.canonical_document(doc) is doc, f"{name} left the plain path"
        loads, unchecked, plain, processed = [], [], [], []
        for _ in range(args.repeat):
            loads.append(per_call(lambda b=body: json.loads(b), args.calls))
            # What parse_activity_body did before the context check: the plain path's own cost.
            unchecked.append(per_call(lambda b=body: read_activity(without_nul(json.loads(b))), args.calls))
            plain.append(per_call(lambda b=body: parse_activity_body(b, JSON_TYPE), args.calls))
            slow = max(10, args.calls // 20)
            processed.append(per_call(lambda b=unknown_body: parse_activity_body(b, JSON_TYPE), slow))
        figures = {"json_loads_us": median(loads) * 1e6, "unchecked_us": median(unchecked) * 1e6,
                   "plain_us": median(plain) * 1e6,
                   "pyld_us": median(processed) * 1e6, "bytes": len(body)}
        results["documents"][name] = figures
        say(f"{name:24} {figures['json_loads_us']:8.0f} µs {figures['unchecked_us']:12.0f} µs "
            f"{figures['plain_us']:8.0f} µs {figures['pyld_us']:8.0f} µs "
            f"{figures['pyld_us'] / figures['plain_us']:12.0f}×  {len(body)}")
    capped = at_the_caps()
    capped_body = json.dumps(capped).encode()
    timings = [per_call(lambda: jsonld.process_json_ld(capped), 1) for _ in range(args.repeat)]
    results["at_caps_ms"] = median(timings) * 1e3
    results["at_caps_bytes"] = len(capped_body)
    say(f"at the caps ({shape_of(capped).members} keys and list items, {len(capped_body)} bytes): "
        f"pyld path {results['at_caps_ms']:.0f} ms (max {max(timings) * 1e3:.0f} ms; "
        f"time cap {jsonld.MAX_LD_SECONDS * 1e3:.0f} ms)")
    write_json(args.json_path, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
