"""What a newcomer and an operator rely on: the README's first commands, CI, the package and the container image."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

from tests.unit.test_layering import imports_of

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


# --- The package carries what it reads at run time ----------------------------------------------


def test_migrations_static_files_and_templates_live_inside_the_package() -> None:
    # An installed wheel has only what is under fedihub/: a directory beside it would be missing.
    from fedihub.storage.migrate import MIGRATIONS_DIR
    from fedihub.web.app import STATIC_DIR, TEMPLATES_DIR

    package = ROOT / "fedihub"
    for directory in (MIGRATIONS_DIR, STATIC_DIR, TEMPLATES_DIR):
        assert directory.is_dir() and directory.is_relative_to(package), directory
    assert (MIGRATIONS_DIR / "env.py").is_file() and list((MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    assert (STATIC_DIR / "fedihub.css").is_file()
    assert not (ROOT / "migrations").exists() and not (ROOT / "static").exists()


def test_the_wheel_is_told_to_carry_the_files_that_are_not_python() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data["fedihub"]
    for needed in ("static/fedihub.css", "migrations/script.py.mako", "migrations/versions/0001_x.py",
                   "web/templates/base.html", "protocol/contexts/activitystreams.json"):
        assert any(fnmatch.fnmatch(needed, pattern) for pattern in patterns), f"no package-data pattern for {needed}"


def test_a_migration_imports_nothing_from_fedihub() -> None:
    # A migration is frozen history: the live models (and any fedihub code) change after it was
    # written, and a migration that imports them would build a different schema tomorrow.
    migrations = ROOT / "fedihub" / "migrations"
    imports = [
        imp
        for path in sorted(migrations.rglob("*.py"))
        for imp in imports_of(path.read_text(), f"fedihub.migrations.{path.stem}")
    ]
    assert imports, "no import read: the check looked at nothing"
    offending = [f"{imp.module} (line {imp.line}) imports {imp.target}" for imp in imports
                 if imp.target == "fedihub" or imp.target.startswith("fedihub.")]
    assert not offending, "\n".join(offending)


# --- The container image -----------------------------------------------------------------------


def dockerfile_stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions split into build stages, each starting with its FROM."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            stages.append([])
        assert stages, "a Dockerfile starts with FROM"
        stages[-1].append((keyword, args))
    return stages


def _stages() -> list[list[tuple[str, str]]]:
    return dockerfile_stages(dockerfile_instructions((ROOT / "Dockerfile").read_text()))


def _dockerfile() -> list[tuple[str, str]]:
    """The final stage: what the image that runs is made of."""
    return _stages()[-1]


def _runs(stage: list[tuple[str, str]]) -> str:
    return " && ".join(args for keyword, args in stage if keyword == "RUN")


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


def test_the_image_is_built_in_one_stage_and_run_from_another_on_the_same_python() -> None:
    builder, runtime = _stages()
    assert builder[0] == ("FROM", "python:3.11-slim AS builder")
    # The virtualenv copied across points at the base image's interpreter: same image both times.
    assert runtime[0] == ("FROM", "python:3.11-slim")


def test_the_builder_installs_the_locked_dependencies_then_the_wheel_alone() -> None:
    builder = _stages()[0]
    copied = [args.split() for keyword, args in builder if keyword == "COPY"]
    assert any("requirements.txt" in sources for sources in copied), "the lock file is not in the build"
    runs = _runs(builder)
    assert re.search(r"pip install --require-hashes -r requirements\.txt", runs), runs
    assert re.search(r"pip wheel --no-deps\b", runs), "fedihub is not built as a wheel"
    # --no-deps: nothing outside the lock file is resolved; no -e: the package is really installed.
    assert re.search(r"pip install --no-deps \S*fedihub-\*\.whl", runs), runs
    assert not re.search(r"\s-e\s", runs)


def test_the_running_image_holds_the_virtualenv_and_no_source_tree() -> None:
    runtime = _dockerfile()
    copies = [args for keyword, args in runtime if keyword == "COPY"]
    assert copies == ["--from=builder /opt/fedihub /opt/fedihub"]
    assert "pip install" not in _runs(runtime)  # no compilers, no index: only what was built
    env = " ".join(args for keyword, args in runtime if keyword == "ENV")
    assert re.search(r"\bPATH=/opt/fedihub/bin:", env), "`fedihub` is not on the PATH"


def test_the_health_check_asks_the_server_whether_it_reaches_its_database() -> None:
    from fedihub.web.app import build_routes

    checks = [args for keyword, args in _dockerfile() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, "the running image has no (or several) HEALTHCHECK"
    options, _, command = checks[0].partition("CMD ")
    assert re.search(r"--timeout=(\d+)s", options)
    assert "http://127.0.0.1:8000/healthz" in " ".join(command_words(command))
    assert "/healthz" in {getattr(route, "path", None) for route in build_routes()}


def dockerignore_allows(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    allowed = True
    for pattern in patterns:
        exclude = not pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatch(candidate, pattern) or (pattern.startswith("**/")
               and fnmatch.fnmatch(candidate.rsplit("/", 1)[-1], pattern[3:])) for candidate in candidates):
            allowed = not exclude
    return allowed


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_more() -> None:
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    sources = [
        source
        for stage in _stages()
        for keyword, args in stage
        if keyword == "COPY" and not args.startswith("--from")
        for source in args.split()[:-1]
    ]
    assert sources, "the Dockerfile copies nothing from the context"
    for source in (*sources, "fedihub/static/fedihub.css", "fedihub/migrations/versions/0001_federation_core.py"):
        assert dockerignore_allows(patterns, source), f"{source} is copied but left out of the context"
    for left_out in (".venv/bin/python", "data/fedihub.sqlite3", "tests/conftest.py", ".git/HEAD",
                     "fedihub/__pycache__/app.cpython-311.pyc"):
        assert not dockerignore_allows(patterns, left_out), f"{left_out} would be sent to the build"


def test_the_dockerfile_parser_reads_continuations_and_exec_form() -> None:
    text = 'FROM x\n# comment\nRUN a \\\n    && b\nUSER app\nCMD ["fedihub", "serve"]\n'
    assert dockerfile_instructions(text) == [
        ("FROM", "x"), ("RUN", "a  && b"), ("USER", "app"), ("CMD", '["fedihub", "serve"]'),
    ]
    assert command_words('["fedihub", "serve"]') == ["fedihub", "serve"]
    assert readme_shell_commands("```json\n{}\n```\n```sh\n$ make run\n# note\nmake test\n```\n") == [
        "make run", "make test",
    ]


def test_the_stage_splitter_and_the_dockerignore_reader_follow_docker() -> None:
    stages = dockerfile_stages([("FROM", "a AS b"), ("RUN", "x"), ("FROM", "a"), ("COPY", "--from=b /o /o")])
    assert [stage[0][1] for stage in stages] == ["a AS b", "a"]
    assert dockerignore_allows(["*", "!src"], "src/app/main.py")
    assert not dockerignore_allows(["*", "!src"], "docs/index.md")
    assert not dockerignore_allows(["*", "!src", "**/*.pyc"], "src/app/main.pyc")
    assert dockerignore_allows([], "anything/at/all")
