"""What a newcomer and an operator rely on: the README's first commands, CI, and the container image."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL_FENCES = ("sh", "bash", "shell", "console")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # Docker drops comment lines inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    return instructions


def command_words(args: str) -> list[str]:
    """CMD/ENTRYPOINT arguments in exec form (JSON array) or shell form."""
    if args.startswith("["):
        return list(json.loads(args))
    return shlex.split(args)


def readme_shell_commands(text: str) -> list[str]:
    """Commands in the README's shell code blocks, in order (prompts and comments removed)."""
    commands: list[str] = []
    in_shell_block = False
    in_other_block = False
    for line in text.splitlines():
        fence = re.match(r"^\s*```\s*([\w-]*)", line)
        if fence:
            if in_shell_block or in_other_block:
                in_shell_block = in_other_block = False
            elif fence.group(1) in SHELL_FENCES:
                in_shell_block = True
            else:
                in_other_block = True
            continue
        if in_shell_block:
            command = line.strip().removeprefix("$ ").strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


# --- The README and CI -------------------------------------------------------------------------


def test_the_readme_starts_with_make_run_then_make_test() -> None:
    commands = readme_shell_commands((ROOT / "README.md").read_text())
    assert commands[:2] == ["make run", "make test"], commands[:5]


def test_the_commands_the_readme_promises_exist_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"Makefile has no `{target}` target"


def test_ci_runs_the_same_test_command_as_the_readme() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert "make test" in lines


# --- The container image -----------------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


def test_the_image_serves_fedihub_on_all_interfaces_port_8000() -> None:
    instructions = _dockerfile()
    cmds = [command_words(args) for keyword, args in instructions if keyword == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    words = cmds[-1]  # only the last CMD counts
    assert words[:2] == ["fedihub", "serve"], words
    assert words[words.index("--host") + 1] == "0.0.0.0"
    assert words[words.index("--port") + 1] == "8000"
    assert ("EXPOSE", "8000") in instructions


def test_the_image_runs_as_a_non_root_user() -> None:
    instructions = _dockerfile()
    users = [(i, args.split(":")[0]) for i, (keyword, args) in enumerate(instructions) if keyword == "USER"]
    assert users, "the Dockerfile never switches away from root"
    position, user = users[-1]
    assert user not in ("root", "0")
    cmd_position = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "CMD")
    assert position < cmd_position, "USER must come before CMD so the server does not run as root"


def test_the_database_lives_on_the_data_volume() -> None:
    instructions = _dockerfile()
    volumes = [
        path
        for keyword, args in instructions
        if keyword == "VOLUME"
        for path in (json.loads(args) if args.startswith("[") else args.split())
    ]
    assert "/data" in volumes
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert re.search(r"\bFEDIHUB_DATA_DIR=/data\b", env)


def test_the_image_keeps_migrations_and_static_beside_the_package() -> None:
    # fedihub/storage/migrate.py and fedihub/web/app.py find these relative to the source tree,
    # so the package must be installed in place (editable), not copied into site-packages.
    instructions = _dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    copied = " ".join(args for keyword, args in instructions if keyword == "COPY")
    for directory in ("fedihub", "migrations", "static"):
        assert re.search(rf"\b{directory}\b", copied), f"{directory}/ is not copied into the image"
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert re.search(r"pip install[^&;]*\s-e\s+\.", runs), "the package is not installed in place"


def test_the_dockerfile_parser_reads_continuations_and_exec_form() -> None:
    text = 'FROM x\n# comment\nRUN a \\\n    && b\nUSER app\nCMD ["fedihub", "serve"]\n'
    assert dockerfile_instructions(text) == [
        ("FROM", "x"), ("RUN", "a  && b"), ("USER", "app"), ("CMD", '["fedihub", "serve"]'),
    ]
    assert command_words('["fedihub", "serve"]') == ["fedihub", "serve"]
    assert readme_shell_commands("```json\n{}\n```\n```sh\n$ make run\n# note\nmake test\n```\n") == [
        "make run", "make test",
    ]
