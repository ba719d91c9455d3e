"""The lock files pin, with hashes, every dependency pyproject.toml asks for, and `make` installs from them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
STALE = "is out of date with pyproject.toml: run `make lock`"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None
    hashes: int

    def applies_here(self) -> bool:
        return self.marker is None or Marker(self.marker).evaluate()


def read_lock(text: str) -> list[Pin]:
    """The pins of a requirements file written by `uv pip compile --generate-hashes`."""
    pins: list[Pin] = []
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match["name"])
            pins.append(Pin(name, match["version"], match["marker"], hashes=0))
        elif line.strip().startswith("--hash=sha256:") and pins:
            pins[-1] = Pin(pins[-1].name, pins[-1].version, pins[-1].marker, pins[-1].hashes + 1)
        elif line.strip() and not line.startswith((" ", "#")):
            raise AssertionError(f"a line the lock reader does not understand: {line!r}")
    return pins


def pyproject_requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def unmet(requirements: list[Requirement], pins: list[Pin]) -> list[str]:
    problems = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        here = [pin for pin in pins if pin.name == canonicalize_name(requirement.name) and pin.applies_here()]
        if len(here) != 1:
            problems.append(f"{requirement.name}: {len(here)} pins apply on this platform")
        elif not requirement.specifier.contains(here[0].version, prereleases=True):
            problems.append(f"{requirement.name}=={here[0].version} is outside {requirement}")
    return problems


LOCKS = {"requirements.txt": (), "requirements-dev.txt": ("dev",)}


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_the_lock_pins_every_dependency_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = read_lock((ROOT / lock).read_text())
    problems = unmet(pyproject_requirements(*extras), pins)
    assert not problems, f"{lock} {STALE}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_file_is_checked_against_a_hash(lock: str) -> None:
    pins = read_lock((ROOT / lock).read_text())
    assert len(pins) > 20, "the lock reader found (almost) nothing"
    assert [pin.name for pin in pins if pin.hashes == 0] == []


def test_tests_run_on_the_versions_production_installs() -> None:
    runtime = {(pin.name, pin.marker): pin.version for pin in read_lock((ROOT / "requirements.txt").read_text())}
    dev = {(pin.name, pin.marker): pin.version for pin in read_lock((ROOT / "requirements-dev.txt").read_text())}
    differing = {key: (version, dev.get(key)) for key, version in runtime.items() if dev.get(key) != version}
    assert not differing, f"requirements-dev.txt {STALE} (runtime pin, dev pin): {differing}"


def test_the_lock_reader_sees_stale_pins() -> None:
    lock = "httpx==0.27.2 \\\n    --hash=sha256:ab\nuvloop==0.21.0 ; sys_platform == 'win32' \\\n    --hash=sha256:cd\n"
    pins = read_lock(lock)
    assert pins == [Pin("httpx", "0.27.2", None, 1), Pin("uvloop", "0.21.0", "sys_platform == 'win32'", 1)]
    assert unmet([Requirement("httpx>=0.28,<0.29")], pins) == ["httpx==0.27.2 is outside httpx<0.29,>=0.28"]
    assert unmet([Requirement("pyld>=2")], pins) == ["pyld: 0 pins apply on this platform"]


# --- make installs from the locks ---------------------------------------------------------------


def make_recipe(target: str) -> tuple[str, list[str]]:
    """(prerequisites, recipe lines) of a Makefile rule."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"{target}:"):
            recipe = []
            for following in lines[index + 1:]:
                if not following.startswith("\t"):
                    break
                recipe.append(following.strip())
            return line.split(":", 1)[1], recipe
    raise AssertionError(f"the Makefile has no `{target}` rule")


def test_make_installs_the_locked_versions_then_fedihub_without_resolving_anything() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK := requirements\.txt$", makefile, re.MULTILINE)
    assert re.search(r"^DEV_LOCK := requirements-dev\.txt$", makefile, re.MULTILINE)
    for target, lock in (("$(VENV)/.installed", "$(LOCK)"), ("$(VENV)/.dev-installed", "$(DEV_LOCK)")):
        prerequisites, recipe = make_recipe(target)
        assert lock in prerequisites, f"{target} is not redone when {lock} changes"
        installs = [line for line in recipe if "pip install" in line]
        assert f"--require-hashes -r {lock}" in installs[0], installs
        assert installs[1].endswith("--no-deps -e ."), installs
    assert "dev-install" in make_recipe("test")[0]
    assert "install" in make_recipe("run")[0]


def test_make_lock_writes_both_locks_from_pyproject_and_the_readme_says_so() -> None:
    _, recipe = make_recipe("lock")
    assert any("-o $(LOCK)" in line for line in recipe)
    assert any("--extra dev" in line and "-o $(DEV_LOCK)" in line for line in recipe)
    assert "make lock" in (ROOT / "README.md").read_text()
