"""fedihub installed from its wheel, away from the checkout, migrates a new database and serves styled pages.

The wheel is built from a copy of the sources and installed into a new virtualenv. Its third-party
dependencies are borrowed from the environment running the tests: a `.pth` file appends that
environment's site-packages after the new virtualenv's own, so `fedihub` itself can only come from
the wheel. Installing the dependencies for real would need the package index (or a wheelhouse that
pip cannot make from installed packages), and what this test checks is the wheel's own content:
migrations, static files and templates inside the package. So it runs offline, in CI as here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.support.processes import accepts_connections, fedihub_env, free_port, started, wait_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class Installed(NamedTuple):
    venv: Path
    python: Path
    fedihub: Path


def run(args: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a clean copy of the sources (a stale build/ in the checkout cannot leak in)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "fedihub", source / "fedihub", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    # --no-build-isolation: the build backend (setuptools, in the dev lock) comes from this
    # environment, so nothing is downloaded.
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", dist, source], cwd=tmp_path)
    [wheel] = dist.glob("fedihub-*.whl")
    return wheel


def install_in_new_virtualenv(wheel: Path, tmp_path: Path) -> Installed:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        cwd=tmp_path)
    site_packages = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             cwd=tmp_path).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "borrowed_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(ours)))
    return Installed(venv=venv, python=python, fedihub=venv / "bin" / "fedihub")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp_path = tmp_path_factory.mktemp("wheel")
    return install_in_new_virtualenv(build_wheel(tmp_path), tmp_path)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed, tmp_path: Path) -> None:
    where = run(
        [installed.python, "-c",
         "import fedihub.storage.migrate as m, fedihub.web.app as w; "
         "print(m.__file__, m.MIGRATIONS_DIR, w.STATIC_DIR)"],
        cwd=tmp_path,  # not the checkout: `python -c` would put the working directory first on sys.path
    ).split()
    assert all(Path(path).is_relative_to(installed.venv) for path in where), where


def test_the_installed_package_draws_maps_from_its_own_boundary_files(installed: Installed, tmp_path: Path) -> None:
    drawn = run(
        [installed.python, "-c",
         "import fedihub.maps.atlas as a; from fedihub.maps.draw import Marker, draw_map; "
         "m = draw_map([Marker('call', 'x', '/x', 41.88, -87.63)]); "
         "print(a.__file__, len(m.outlines), sorted(o.name for o in m.outlines if o.kind == 'state')[0])"],
        cwd=tmp_path,
    ).split()
    assert Path(drawn[0]).is_relative_to(installed.venv) and int(drawn[1]) > 3 and drawn[2] == "Illinois", drawn


async def test_the_installed_command_migrates_a_new_database_then_serves_a_page_and_its_stylesheet(
    installed: Installed, tmp_path: Path
) -> None:
    port = free_port(HOST)
    env = fedihub_env(data_dir=tmp_path / "data", base_url=f"http://{HOST}:{port}")
    env.pop("PYTHONPATH", None)

    output = run([installed.fedihub, "migrate"], cwd=tmp_path, env=env)
    assert (tmp_path / "data" / "fedihub.sqlite3").is_file(), output

    with started(tmp_path) as start:
        # --no-migrate: the server refuses a database that `fedihub migrate` did not bring up to date.
        server = start("serve", [installed.fedihub, "serve", "--no-worker", "--no-migrate",
                                 "--host", HOST, "--port", str(port)], env=env)
        await wait_for(lambda: accepts_connections(HOST, port), what="the server to listen", timeout=60,
                       watch=[server])
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", trust_env=False, timeout=10) as client:
            page = await client.get("/")
            stylesheet = await client.get("/static/fedihub.css")
            health = await client.get("/healthz")

    assert page.status_code == 200, server.log_tail()
    assert '<link rel="stylesheet" href="/static/fedihub.css">' in page.text
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert stylesheet.content == (ROOT / "fedihub" / "static" / "fedihub.css").read_bytes()
    assert health.json() == {"status": "ok"}
