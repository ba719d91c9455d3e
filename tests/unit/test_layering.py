"""The import rules of ARCHITECTURE.md, enforced by reading every module under fedihub/ with ast."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "fedihub"

# Arrows point down only: web/worker → domain → federation → storage → protocol.
# The domain packages besides coalitions, accounts and hubs (named in each rule below).
DOMAIN_PACKAGES = (
    "fedihub.pledges", "fedihub.feeds", "fedihub.directory", "fedihub.discovery", "fedihub.moderation",
    "fedihub.subscriptions",
)
# Each rule: (package the rule applies to, modules it must not import, why).
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "fedihub.protocol",
        (
            "sqlalchemy", "starlette", "fedihub.settings", "fedihub.storage", "fedihub.federation",
            "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs", "fedihub.app", "fedihub.cli",
            "fedihub.commands", "fedihub.worker", *DOMAIN_PACKAGES,
        ),
        "protocol/ is pure: no database, no web framework, no settings; I/O only through a client passed in",
    ),
    (
        "fedihub.storage",
        (
            "fedihub.federation", "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs",
            "fedihub.app", "fedihub.cli", "fedihub.commands", "fedihub.worker", *DOMAIN_PACKAGES,
        ),
        "storage/ sits below federation/, the domain and the web",
    ),
    (
        "fedihub.federation",
        (
            "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs", "fedihub.app", "fedihub.cli",
            "fedihub.commands", "fedihub.worker", *DOMAIN_PACKAGES,
        ),
        "federation/ stays generic: the domain contributes handlers through the composition root",
    ),
    (
        "fedihub.coalitions",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "the domain is used by the web and the CLI, never the other way round",
    ),
    (
        "fedihub.accounts",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "accounts are domain code: the web and the CLI use them, never the other way round",
    ),
    (
        "fedihub.hubs",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "hubs are domain code: the web and the CLI use them, never the other way round",
    ),
    (
        "fedihub.pledges",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "pledges are domain code: the web and the CLI use them, never the other way round",
    ),
    (
        "fedihub.feeds",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "feeds are domain code: the web serves them, they never reach back into it",
    ),
    (
        "fedihub.discovery",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "discovery (lookup, import) is domain code: the web and the CLI use it, never the other way round",
    ),
    (
        "fedihub.directory",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "the directory (listing, rosters, map points) is domain code: the web and the CLI use it",
    ),
    (
        "fedihub.subscriptions",
        ("fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker"),
        "e-mail subscriptions are domain code: the web serves their pages, the worker runs their job",
    ),
    (
        "fedihub.moderation",
        (
            "fedihub.web", "fedihub.cli", "fedihub.commands", "fedihub.app", "fedihub.worker", "fedihub.feeds",
            "fedihub.directory", "fedihub.coalitions", "fedihub.hubs", "fedihub.pledges",
        ),
        "moderation sits just above federation: the query layers and hubs ask it what blocks hide",
    ),
    (
        "fedihub.places",
        (
            "sqlalchemy", "starlette", "fedihub.settings", "fedihub.storage", "fedihub.federation", "fedihub.web",
            "fedihub.coalitions", "fedihub.maps", "fedihub.app", "fedihub.cli", "fedihub.commands", "fedihub.worker",
            *DOMAIN_PACKAGES,
        ),
        "places (gazetteer, regions, zones) are pure look-ups: every layer above may ask them, they ask no one",
    ),
    (
        "fedihub.maps",
        (
            "sqlalchemy", "starlette", "fedihub.settings", "fedihub.storage", "fedihub.federation", "fedihub.web",
            "fedihub.coalitions", "fedihub.app", "fedihub.cli", "fedihub.commands", "fedihub.worker", *DOMAIN_PACKAGES,
        ),
        "the drawn map is pure: points in, outlines and marks out; pages and the domain hand it their points",
    ),
    (
        "fedihub.web",
        ("sqlalchemy", "fedihub.storage"),
        "the web layer has no SQL: pages call named queries of the domain and open the transaction around them",
    ),
    (
        "fedihub.demo",
        (
            "fedihub.app", "fedihub.settings", "fedihub.storage", "fedihub.federation", "fedihub.protocol",
            "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs", "fedihub.pledges",
            "fedihub.cli", "fedihub.commands", "fedihub.worker",
        ),
        "the demo drives fedihub from the outside (commands, HTTP, read-only SQL), as people do",
    ),
]

# Building these at import time would make importing a module open databases, sockets or files.
# A call matches on the last one or two parts of its dotted name (`db.create_engine`,
# `fedihub.settings.Settings.from_env`, a bare `AsyncClient` imported from httpx).
SIDE_EFFECT_CALLS = frozenset(
    {
        "create_engine", "create_async_engine", "build_http_client", "create_app", "open_runtime",
        "Settings.from_env", "load_or_create_secret", "generate_key_pair", "AsyncClient",
        "httpx.Client", "ClientSession", "asyncio.run", "uvicorn.run", "basicConfig",
    }
)
# `python -m fedihub` must run the command when executed: that is the module's whole purpose.
SCRIPT_MODULES = frozenset({"fedihub.__main__"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. fedihub.protocol.fetch
    target: str  # the imported module, e.g. sqlalchemy.orm
    line: int


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(source: str, module: str, *, is_package: bool = False) -> Iterator[Import]:
    """Every module ``source`` imports, wherever the import statement is (also inside functions
    and ``if TYPE_CHECKING:`` blocks: a type-only import is still a dependency on that layer)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = (
                _resolve_relative(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            yield Import(module, base, node.lineno)
            # `from fedihub import storage` imports the fedihub.storage package.
            for alias in node.names:
                if alias.name != "*":
                    yield Import(module, f"{base}.{alias.name}", node.lineno)
        elif (
            isinstance(node, ast.Call)
            and _dotted(node.func) in ("importlib.import_module", "import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(module, node.args[0].value, node.lineno)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _within(target: str, forbidden: str) -> bool:
    return target == forbidden or target.startswith(forbidden + ".")


def layering_violations(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        for package, forbidden, why in RULES:
            if not _within(imp.module, package):
                continue
            for banned in forbidden:
                if _within(imp.target, banned):
                    problems.append(f"{imp.module} (line {imp.line}) imports {imp.target}: {why}")
    return sorted(set(problems))


def _import_time_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Nodes evaluated when the module is imported: everything except function bodies.

    Class bodies, decorators and default argument values all run at import time.
    """
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            pending.extend(node.decorator_list)
            pending.extend(node.args.defaults)
            pending.extend(d for d in node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.Lambda):
            pending.extend(node.args.defaults)
            pending.extend(d for d in node.args.kw_defaults if d is not None)
            continue
        pending.extend(ast.iter_child_nodes(node))


def side_effect_calls(source: str, module: str) -> list[str]:
    problems = []
    for node in _import_time_nodes(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        parts = name.split(".")
        if any(".".join(parts[-n:]) in SIDE_EFFECT_CALLS for n in (1, 2)):
            problems.append(f"{module} (line {node.lineno}) calls {name}() at import time")
    return problems


def package_modules() -> list[tuple[Path, str]]:
    return [(path, module_name(path)) for path in sorted(PACKAGE_DIR.rglob("*.py"))]


# --- The rules, applied to fedihub/ ------------------------------------------------------------


def test_the_package_is_where_the_test_expects_it() -> None:
    modules = {name for _, name in package_modules()}
    assert {"fedihub.protocol.signatures", "fedihub.storage.models", "fedihub.federation.inbox"} <= modules


def _package_imports() -> list[Import]:
    return [
        imp
        for path, name in package_modules()
        for imp in imports_of(path.read_text(), name, is_package=path.name == "__init__.py")
    ]


def test_each_layer_imports_only_the_layers_below_it() -> None:
    violations = layering_violations(_package_imports())
    assert not violations, "layering rules of ARCHITECTURE.md broken:\n" + "\n".join(violations)


# The Actor row split by owner: federation keeps identity, keys and endpoints; these rows belong to the
# domain packages named in their docstrings, and reach federation only through federation/actor_parts.py.
DOMAIN_ACTOR_ROWS = ("CoalitionProfile", "HubSettings", "DirectoryListing")
DOMAIN_ACTOR_ATTRIBUTES = frozenset({"profile", "hub_settings", "listing"})
# The only module that reads private keys (and so the only place a key can leak from).
KEY_READERS = frozenset({"fedihub.federation.signing"})


def test_federation_never_touches_the_rows_the_domain_owns() -> None:
    problems = [
        f"{imp.module} (line {imp.line}) imports {imp.target}"
        for imp in _package_imports()
        if _within(imp.module, "fedihub.federation")
        and any(imp.target == f"fedihub.storage.models.{row}" for row in DOMAIN_ACTOR_ROWS)
    ]
    for path, name in package_modules():
        if _within(name, "fedihub.federation"):
            problems += [
                f"{name} (line {node.lineno}) reads .{node.attr}"
                for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Attribute) and node.attr in DOMAIN_ACTOR_ATTRIBUTES
            ]
    assert not problems, "federation/ reaches into domain rows:\n" + "\n".join(problems)


def test_only_the_signing_module_reads_private_keys() -> None:
    readers = {
        imp.module for imp in _package_imports()
        if imp.target == "fedihub.storage.models.ActorKey"
    }
    assert readers == KEY_READERS


def test_importing_a_module_builds_no_engine_client_app_or_settings() -> None:
    problems = [
        problem
        for path, name in package_modules()
        if name not in SCRIPT_MODULES
        for problem in side_effect_calls(path.read_text(), name)
    ]
    assert not problems, "import-time side effects (build these in lifespan or the CLI):\n" + "\n".join(problems)


# --- The checker itself catches what it should (so the tests above can fail) ---------------------


@pytest.mark.parametrize(
    ("module", "source", "target"),
    [
        ("fedihub.protocol.fetch", "import sqlalchemy.orm\n", "sqlalchemy.orm"),
        ("fedihub.protocol.fetch", "from starlette.requests import Request\n", "starlette.requests"),
        ("fedihub.protocol.fetch", "from fedihub import settings\n", "fedihub.settings"),
        ("fedihub.protocol.fetch", "from ..storage.models import Actor\n", "fedihub.storage.models"),
        ("fedihub.storage.models", "def f():\n    from fedihub.federation import outbox\n", "fedihub.federation"),
        (
            "fedihub.federation.inbox",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fedihub.coalitions import service\n",
            "fedihub.coalitions",
        ),
        (
            "fedihub.federation.inbox", "import importlib\nimportlib.import_module('fedihub.web.app')\n",
            "fedihub.web.app",
        ),
        ("fedihub.coalitions.service", "from fedihub.app import Runtime\n", "fedihub.app"),
        ("fedihub.web.pages", "from fedihub.storage.models import Actor\n", "fedihub.storage.models"),
        ("fedihub.web.manage", "from sqlalchemy import select\n", "sqlalchemy"),
        ("fedihub.web.auth", "from sqlalchemy.ext.asyncio import AsyncSession\n", "sqlalchemy.ext.asyncio"),
        ("fedihub.pledges.service", "from fedihub.web.auth import read_form\n", "fedihub.web.auth"),
        ("fedihub.federation.outbox", "from fedihub.pledges import store\n", "fedihub.pledges"),
        ("fedihub.federation.outbox", "from fedihub.pledges import origin\n", "fedihub.pledges"),
        ("fedihub.pledges.service", "from fedihub.web.pages import render\n", "fedihub.web.pages"),
        ("fedihub.web.pledge_pages", "from sqlalchemy import select\n", "sqlalchemy"),
        ("fedihub.web.manage_hubs", "from fedihub.storage.models import Actor\n", "fedihub.storage.models"),
    ],
)
def test_a_forbidden_import_is_reported_with_module_and_target(module: str, source: str, target: str) -> None:
    violations = layering_violations(list(imports_of(source, module)))
    assert violations and all(v.startswith(f"{module} (line ") for v in violations)
    assert any(f"imports {target}" in v for v in violations)


def test_allowed_imports_are_not_reported() -> None:
    source = (
        "import httpx\nfrom fedihub.errors import InvalidInput\nfrom fedihub.protocol import keys\n"
        "from . import vocab\n"
    )
    assert layering_violations(list(imports_of(source, "fedihub.protocol.fetch"))) == []
    # Pages name row types through the domain package that owns them, and call its queries.
    web = "from fedihub.coalitions import Actor\nfrom fedihub.coalitions.queries import recent_posts\n"
    assert layering_violations(list(imports_of(web, "fedihub.web.pages"))) == []


@pytest.mark.parametrize(
    "source",
    [
        "from fedihub.storage.db import create_engine\nENGINE = create_engine('sqlite+aiosqlite://')\n",
        "from fedihub.settings import Settings\nSETTINGS = Settings.from_env()\n",
        "from fedihub.protocol import http\n"
        "CLIENT = http.build_http_client(user_agent='x', allow_private_addresses=False)\n",
        "from fedihub.app import create_app\nclass Holder:\n    app = create_app(None)\n",
        "import httpx\ndef fetch(client=httpx.AsyncClient()):\n    return client\n",
    ],
)
def test_an_import_time_side_effect_is_reported(source: str) -> None:
    assert side_effect_calls(source, "fedihub.example")


def test_the_same_calls_inside_functions_are_fine() -> None:
    source = (
        "from fedihub.storage.db import create_engine\n"
        "def open_db(url):\n    return create_engine(url)\n"
        "async def main():\n    settings = Settings.from_env()\n"
    )
    assert side_effect_calls(source, "fedihub.example") == []
