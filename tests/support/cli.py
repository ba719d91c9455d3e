"""The `fedihub` command in tests: run in-process like a fresh process would run it, or as a real process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from fedihub.cli import main

FEDIHUB = Path(sys.executable).with_name("fedihub")


@dataclass(frozen=True)
class CommandResult:
    """What an operator sees of one command: its exit code, stdout and stderr."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _logging_as_in_a_new_process() -> Iterator[None]:
    """Root logger without handlers during the command, as in a fresh interpreter, then as it was.

    The command's own `logging.basicConfig` then writes to the runner's stderr, so log lines show up
    in ``CommandResult.stderr`` exactly where an operator would see them, and nothing the command
    configures (handlers, levels) outlives it.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in ("alembic",)}
    root.handlers.clear()
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def run_in_process(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, input: str | None = None
) -> CommandResult:
    """``fedihub ARGS`` through click's runner, in this interpreter.

    The environment is ``env`` (FEDIHUB_* variables that ``env`` lacks are hidden), the working
    directory is ``cwd``, and an exception the command did not turn into an exit code is
    raised here with its traceback (a real process would print it and exit 1).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # pragma: no cover - a mistake in a test, not in fedihub
        raise RuntimeError("run the command from a synchronous test: it calls asyncio.run() itself")
    overrides: dict[str, str | None] = {name: None for name in os.environ if name.startswith("FEDIHUB_")}
    overrides.update(env)
    with contextlib.chdir(cwd), _logging_as_in_a_new_process():
        result = CliRunner().invoke(main, list(args), env=overrides, input=input, prog_name="fedihub")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CommandResult(tuple(args), result.exit_code, result.stdout, result.stderr)


def run_process(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 60
) -> CommandResult:
    """``fedihub ARGS`` as the installed entry point, in a new process."""
    completed = subprocess.run(
        [str(FEDIHUB), *args], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CommandResult(tuple(args), completed.returncode, completed.stdout, completed.stderr)
