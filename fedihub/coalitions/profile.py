"""Coalition profile edits from the organizer form: validated, rendered, then sent to followers as Update."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import ensure_profile, profile_of, set_movements
from fedihub.coalitions.avatars import AvatarImage, remove_avatar, store_avatar
from fedihub.coalitions.banners import BannerChoice, apply_banner
from fedihub.coalitions.link_messages import link_problem
from fedihub.coalitions.markdown import render_markdown
from fedihub.coalitions.movements import movement_form_values, parse_movements
from fedihub.coalitions.service import MAX_NAME, publish_actor_update
from fedihub.errors import FieldErrors, InvalidInput
from fedihub.federation.actors import get_local_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.follows import accept_follow
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.html import html_to_text
from fedihub.protocol.limits import MAX_REGION
from fedihub.storage.models import Actor, Follow

FormFields = Mapping[str, "str | list[str]"]

MAX_SUMMARY = 5_000  # Markdown; Mastodon truncates a bio at 20 kB of HTML (spec finding 20)


@dataclass(frozen=True)
class ProfileInput:
    name: str
    summary_source: str
    movements: list[str]
    region_city: str | None
    region_state: str | None
    region_country: str | None
    latitude: float | None
    longitude: float | None
    website: str | None
    manually_approves_followers: bool


def _value(fields: FormFields, name: str) -> str:
    value = fields.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def _values(fields: FormFields, name: str) -> list[str]:
    value = fields.get(name, [])
    return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])


def clean_line(text: str) -> str:
    """One line of plain text: no control characters (a newline could break headers or iCalendar)."""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(text.split())


def _optional_line(fields: FormFields, name: str, too_long: str, limit: int = MAX_REGION) -> str | None:
    """``too_long`` is an N_-marked sentence with ``%(limit)s`` (never 1: no plural needed)."""
    text = clean_line(_value(fields, name))
    if len(text) > limit:
        raise InvalidInput(gettext(too_long, limit=limit), field=name)
    return text or None


# Per coordinate, whole sentences: (not a number, out of range), each with %(example)s or %(bound)s.
_COORDINATE_PROBLEMS = {
    "latitude": (N_("the latitude must be a number such as %(example)s"),
                 N_("the latitude must be between -%(bound)s and %(bound)s")),
    "longitude": (N_("the longitude must be a number such as %(example)s"),
                  N_("the longitude must be between -%(bound)s and %(bound)s")),
}


def _coordinate(fields: FormFields, name: str, bound: float) -> float | None:
    text = _value(fields, name).strip().replace(",", ".")
    if not text:
        return None
    not_a_number, out_of_range = _COORDINATE_PROBLEMS[name]
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(gettext(not_a_number, example=f"{bound / 2:.4f}"), field=name) from None
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise InvalidInput(gettext(out_of_range, bound=f"{bound:g}"), field=name)
    return round(number, 6)


def parse_website(text: str) -> str | None:
    """An http(s) address; "example.org" is taken to mean https://example.org."""
    text = text.strip()
    if not text:
        return None
    if "://" not in text and not text.lower().startswith(("javascript:", "data:", "mailto:")):
        text = f"https://{text}"
    problem = link_problem(
        text, not_web=N_("the website must be a web address starting with https://"),
        too_long=N_("the website has at most %(limit)s characters"),
    )
    if problem:
        raise InvalidInput(problem, field="website")
    return text


def _name(fields: FormFields) -> str:
    name = clean_line(_value(fields, "name"))
    if not name:
        raise InvalidInput(gettext("the coalition needs a display name"), field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(gettext("the display name has at most %(limit)s characters", limit=MAX_NAME), field="name")
    return name


def _summary(fields: FormFields) -> str:
    summary = _value(fields, "summary").replace("\r\n", "\n").strip()
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(
            gettext("the description has at most %(limit)s characters", limit=MAX_SUMMARY), field="summary"
        )
    return summary


def parse_profile_form(fields: FormFields) -> ProfileInput:
    """Build and check a profile from HTML form values; InvalidForm names every bad field at once."""
    errors = FieldErrors()
    name = errors.check(_name, fields)
    summary = errors.check(_summary, fields)
    movements = errors.check(parse_movements, _values(fields, "movements"), _value(fields, "tags"))
    city = errors.check(_optional_line, fields, "region_city", N_("the city has at most %(limit)s characters"))
    state = errors.check(
        _optional_line, fields, "region_state", N_("the state or province has at most %(limit)s characters")
    )
    country = errors.check(_optional_line, fields, "region_country", N_("the country has at most %(limit)s characters"))
    latitude = errors.check(_coordinate, fields, "latitude", 90.0)
    longitude = errors.check(_coordinate, fields, "longitude", 180.0)
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        errors.add(missing, gettext("give both latitude and longitude, or neither"))
    website = errors.check(parse_website, _value(fields, "website"))
    errors.raise_if_any()
    return ProfileInput(
        name=name or "",
        summary_source=summary or "",
        movements=movements or [],
        region_city=city,
        region_state=state,
        region_country=country,
        latitude=latitude,
        longitude=longitude,
        website=website,
        manually_approves_followers=_value(fields, "manually_approves_followers") not in ("", "0", "off", "false"),
    )


def profile_form_fields(actor: Actor) -> dict[str, str | list[str]]:
    """The profile form prefilled from the stored coalition."""
    profile = profile_of(actor)
    return {
        "name": actor.name or "",
        # Coalitions made before the Markdown was kept: their text, rather than an empty box that would erase it.
        "summary": profile.summary_source if profile.summary_source is not None else html_to_text(actor.summary),
        **movement_form_values(profile.movements or []),
        "region_city": profile.region_city or "",
        "region_state": profile.region_state or "",
        "region_country": profile.region_country or "",
        "latitude": "" if profile.latitude is None else f"{profile.latitude:g}",
        "longitude": "" if profile.longitude is None else f"{profile.longitude:g}",
        "website": profile.website or "",
        "manually_approves_followers": "on" if actor.manually_approves_followers else "",
    }


def _snapshot(actor: Actor) -> tuple:
    profile = profile_of(actor)
    return (
        actor.name, actor.summary, profile.movements, profile.region_city, profile.region_state,
        profile.region_country, profile.latitude, profile.longitude, profile.website,
        actor.manually_approves_followers, actor.icon_url, actor.image_url, actor.image_alt,
    )


def _store_profile(actor: Actor, data: ProfileInput) -> None:
    """The form's profile fields; a coalition with nothing to say (and no row yet) gets no row."""
    summary_source = data.summary_source or None
    says_something = summary_source or data.website or data.latitude is not None or any(
        (data.region_city, data.region_state, data.region_country)
    )
    if actor.profile is None and not says_something:
        return
    profile = ensure_profile(actor)
    profile.summary_source = summary_source
    profile.region_city = data.region_city
    profile.region_state = data.region_state
    profile.region_country = data.region_country
    profile.latitude = data.latitude
    profile.longitude = data.longitude
    profile.website = data.website


async def save_profile(
    ctx: FederationContext,
    session: AsyncSession,
    username: str,
    data: ProfileInput,
    *,
    avatar: AvatarImage | None = None,
    drop_avatar: bool = False,
    banner: BannerChoice | None = None,
) -> tuple[Actor, bool]:
    """Store the profile (and a new avatar) in the caller's transaction; followers get Update if
    anything changed.

    Returns the coalition and whether it changed.
    """
    actor = await get_local_actor(session, username)
    before = _snapshot(actor)
    actor.name = data.name
    actor.summary = render_markdown(data.summary_source) if data.summary_source else None
    await set_movements(session, actor, data.movements)
    _store_profile(actor, data)
    actor.manually_approves_followers = data.manually_approves_followers
    if avatar is not None:
        await store_avatar(ctx, session, actor, avatar)
    elif drop_avatar:
        await remove_avatar(session, actor)
    if banner is not None:
        await apply_banner(ctx, session, actor, banner)
    changed = _snapshot(actor) != before
    if changed:
        await publish_actor_update(ctx, session, actor)
    if before[9] and not actor.manually_approves_followers:
        # Opening up lets the waiting requests in, as Mastodon does when an account is unlocked
        # (app/services/update_account_service.rb).
        pending = await session.scalars(
            select(Follow).where(Follow.target_id == actor.id, Follow.state == "pending").order_by(Follow.id)
        )
        for row in pending.all():
            await accept_follow(ctx, session, row)
    return actor, changed
