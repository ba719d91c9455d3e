"""Startup: how long the `fedihub` command takes to begin, beside a bare `python -c pass`.

Each figure is the median of --repeat fresh processes (the min–max range beside it), for:

- **python -c pass**: the interpreter alone, the floor every command pays;
- **fedihub --help** and **fedihub post --help**: the installed console script, nothing but parsing;
- **fedihub post**: a real announcement on a migrated SQLite data dir with one coalition (opens the
  runtime, stores the Note, queues nothing as the coalition has no followers).

Three columns per row: wall time, CPU time (user + system of the child: less disturbed than wall
time when other work shares the machine), and the import time `-X importtime` reports (the sum of
the top-level imports, those of `site` included, which is all the bare interpreter imports). Every
process runs with `-X importtime` on, which adds a few per cent to the other two columns alike.
The target is at most 0.3 s of imports for `fedihub --help` and `fedihub post`.

Every command starts once before it is measured, with its compiled bytecode kept in a directory of
the run's own (PYTHONPYCACHEPREFIX), so the figures are those of every start after an installation's
first, whatever PYTHONDONTWRITEBYTECODE says where the bench runs; pass --no-bytecode to measure
starts that compile every module from source instead.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from common import base_parser, median, say, spread, write_json

FEDIHUB = str(Path(sys.executable).with_name("fedihub"))


def import_seconds(stderr: str) -> float:
    """The sum of the top-level imports of an `-X importtime` report, in seconds."""
    total = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not name.startswith("  "):  # one space after the bar, then the name: a top-level import
            total += int(cumulative)
    return total / 1e6


def run_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall, cpu, import) seconds of one fresh process; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        list(argv), env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True, timeout=300,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {completed.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, import_seconds(completed.stderr)


def measure(argv: Sequence[str], env: dict[str, str], repeat: int) -> dict[str, list[float]]:
    runs = [run_once(argv, env) for _ in range(repeat)]
    return {"wall": [r[0] for r in runs], "cpu": [r[1] for r in runs], "imports": [r[2] for r in runs]}


def row(label: str, figures: dict[str, list[float]]) -> str:
    cells = []
    for key in ("wall", "cpu", "imports"):
        values = [v * 1000 for v in figures[key]]
        cells.append(f"{median(values):6.0f} ms ({spread(values):>11})")
    return f"{label:24} " + "  ".join(cells)


def prepared_home(directory: Path, env: dict[str, str]) -> dict[str, str]:
    """A migrated data dir with the coalition `tenants`, and the environment that points at it."""
    home = {**env, "FEDIHUB_DATA_DIR": str(directory), "FEDIHUB_BASE_URL": "http://startup.example",
            "FEDIHUB_LOG_LEVEL": "WARNING"}
    for args in (("migrate",), ("coalition", "create", "tenants", "--name", "Tenants")):
        subprocess.run([FEDIHUB, *args], env=home, check=True, capture_output=True, timeout=300)
    return home


def bytecode_env(env: dict[str, str], cache: Path, *, keep: bool) -> dict[str, str]:
    """``env`` with compiled modules kept under ``cache`` (``keep``), or never written nor read."""
    env = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    if not keep:
        # An empty cache that is never written: every start compiles every module from source.
        return {**env, "PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
    return {**env, "PYTHONPYCACHEPREFIX": str(cache)}


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0], repeat=5)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="compile every module from source at every start (no bytecode cache)")
    args = parser.parse_args()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FEDIHUB_")}
    bytecode = "no bytecode cache" if args.no_bytecode else "bytecode cached by a first start"
    say(f"medians of {args.repeat} processes (min–max), {bytecode}; "
        "columns: wall, CPU (user+sys), imports (-X importtime)")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="fedihub-startup-") as tmp:
        env = bytecode_env(env, Path(tmp) / "pycache", keep=not args.no_bytecode)
        home = prepared_home(Path(tmp) / "home", env)
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "fedihub --help": ([FEDIHUB, "--help"], env),
            "fedihub post --help": ([FEDIHUB, "post", "--help"], env),
            "fedihub post": ([FEDIHUB, "post", "tenants", "--text", "Meeting on Thursday"], home),
        }
        for label, (argv, command_env) in commands.items():
            run_once(argv, command_env)  # the first start, which writes the bytecode the others read
            results[label] = measure(argv, command_env, args.repeat)
            say(row(label, results[label]))
    floor = median(results["python -c pass"]["wall"])
    for label in ("fedihub --help", "fedihub post --help", "fedihub post"):
        say(f"{label}: {median(results[label]['wall']) - floor:.3f} s of wall time beyond the bare interpreter, "
            f"{median(results[label]['imports']):.3f} s importing")
    write_json(args.json_path, {label: {key: median(v) for key, v in r.items()} for label, r in results.items()})


if __name__ == "__main__":
    main()
