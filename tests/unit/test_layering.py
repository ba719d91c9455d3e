"""The import rules of ARCHITECTURE.md, enforced by reading every module under fedihub/ with ast."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "fedihub"

# Arrows point down only: web/worker → domain → federation → storage → protocol.
# Each rule: (package the rule applies to, modules it must not import, why).
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "fedihub.protocol",
        (
            "sqlalchemy", "starlette", "fedihub.settings", "fedihub.storage", "fedihub.federation",
            "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs", "fedihub.app", "fedihub.cli", "fedihub.commands",
            "fedihub.worker", "fedihub.pledges", "fedihub.feeds", "fedihub.directory", "fedihub.discovery",
        ),
        "protocol/ is pure: no database, no web framework, no settings; I/O only through a client passed in",
    ),
    (
        "fedihub.storage",
        (
            "fedihub.federation", "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs",
            "fedihub.app", "fedihub.cli", "fedihub.commands", "fedihub.worker", "fedihub.pledges", "fedihub.feeds",
            "fedihub.directory", "fedihub.discovery",
        ),
        "storage/ sits below federation/, the domain and the web",
    ),
    (
        "fedihub.federation",
        (
            "fedihub.web", "fedihub.coalitions", "fedihub.accounts", "fedihub.hubs", "fedihub.app", "fedihub.cli", "fedihub.commands",
            "fedihub.worker", "fedihub.pledges", "fedihub.feeds", "fedihub.directory", "fedihub.discovery",
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

# TEMPORARY: web modules whose queries move into the domain on another branch of issue 9 (hubs,
# pledges, directory, discovery, follows). Once both branches are merged these modules import
# neither sqlalchemy nor storage, and this list is deleted: the test below fails while it names a
# module that no longer needs it. (manage_hubs, also theirs, already imports neither.)
WEB_SQL_NOT_YET_MOVED = frozenset({
    "fedihub.web.directory_pages", "fedihub.web.lookup_pages", "fedihub.web.manage_network",
    "fedihub.web.pledge_pages", "fedihub.web.remote_calls",
})
# Modules a rule does not apply to yet, by the package the rule is for.
NOT_YET: dict[str, frozenset[str]] = {"fedihub.web": WEB_SQL_NOT_YET_MOVED}

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


def layering_violations(imports: list[Import], not_yet: dict[str, frozenset[str]] | None = None) -> list[str]:
    problems = []
    for imp in imports:
        for package, forbidden, why in RULES:
            if not _within(imp.module, package) or imp.module in (not_yet or {}).get(package, ()):
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
    violations = layering_violations(_package_imports(), NOT_YET)
    assert not violations, "layering rules of ARCHITECTURE.md broken:\n" + "\n".join(violations)


def test_the_temporary_web_allow_list_names_only_modules_that_still_need_it() -> None:
    modules = {name for _, name in package_modules()}
    still_using_sql = {
        imp.module for imp in _package_imports()
        if imp.module in WEB_SQL_NOT_YET_MOVED
        and any(_within(imp.target, banned) for banned in ("sqlalchemy", "fedihub.storage"))
    }
    assert WEB_SQL_NOT_YET_MOVED <= modules, "the allow-list names modules that do not exist"
    assert still_using_sql == WEB_SQL_NOT_YET_MOVED, (
        f"{sorted(WEB_SQL_NOT_YET_MOVED - still_using_sql)} no longer import sqlalchemy or storage: "
        "take them off WEB_SQL_NOT_YET_MOVED (and delete the list once it is empty)"
    )


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
        ("fedihub.federation.inbox", "import importlib\nimportlib.import_module('fedihub.web.app')\n", "fedihub.web.app"),
        ("fedihub.coalitions.service", "from fedihub.app import Runtime\n", "fedihub.app"),
        ("fedihub.web.pages", "from fedihub.storage.models import Actor\n", "fedihub.storage.models"),
        ("fedihub.web.manage", "from sqlalchemy import select\n", "sqlalchemy"),
        ("fedihub.web.auth", "from sqlalchemy.ext.asyncio import AsyncSession\n", "sqlalchemy.ext.asyncio"),
        ("fedihub.pledges.service", "from fedihub.web.auth import read_form\n", "fedihub.web.auth"),
        ("fedihub.federation.outbox", "from fedihub.pledges import store\n", "fedihub.pledges"),
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


def test_a_module_on_the_temporary_list_is_not_reported_for_that_rule_only() -> None:
    sql = list(imports_of("from sqlalchemy import select\n", "fedihub.web.manage_hubs"))
    upward = list(imports_of("from fedihub.cli import main\n", "fedihub.pledges.service"))
    assert layering_violations(sql, {"fedihub.web": frozenset({"fedihub.web.manage_hubs"})}) == []
    assert layering_violations(sql) != []
    assert layering_violations(upward, {"fedihub.web": frozenset({"fedihub.pledges.service"})}) != []


@pytest.mark.parametrize(
    "source",
    [
        "from fedihub.storage.db import create_engine\nENGINE = create_engine('sqlite+aiosqlite://')\n",
        "from fedihub.settings import Settings\nSETTINGS = Settings.from_env()\n",
        "from fedihub.protocol import http\nCLIENT = http.build_http_client(user_agent='x', allow_private_addresses=False)\n",
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
