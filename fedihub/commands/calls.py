"""`fedihub call`: publish and cancel calls to action from scripts."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fedihub.commands.base import with_runtime
from fedihub.commands.images import image_options, read_banner
from fedihub.errors import InvalidInput

if TYPE_CHECKING:
    from fedihub.app import Runtime


@click.group()
def call() -> None:
    """Publish and cancel calls to action (events) for scripts and seeding."""


@call.command("create")
@click.argument("handle")
@click.option("--title", required=True, help="Title (plain text), e.g. 'Rally for transit funding'.")
@click.option("--start", required=True, help="Start, ISO 8601: 2026-03-14T11:00 (in --timezone) or with an offset.")
@click.option("--end", default=None, help="End, same form as --start.")
@click.option(
    "--timezone", "timezone_name", default=None,
    help="IANA time zone, e.g. America/Los_Angeles. Default: the zone of the place, else of the coalition's profile.",
)
@click.option("--place", default=None, help="Name of the place, e.g. 'City Hall steps'.")
@click.option("--address", default=None, help="Street address of the place.")
@click.option("--online-url", default=None, help="Link to join online (https://…).")
@click.option("--movement", "movements", multiple=True, help="A movement or hashtag; repeat for several.")
@click.option("--description", default="", help="Description (Markdown).")
@click.option("--region-city", default="", help="City, e.g. 'Chicago'.")
@click.option("--region-state", default="", help="State or province, e.g. 'Illinois'.")
@click.option("--region-country", default="", help="Country, e.g. 'US'.")
@click.option("--latitude", default="", help="Latitude of the place for maps, e.g. 41.8837 (with --longitude).")
@click.option("--longitude", default="", help="Longitude of the place, e.g. -87.6303.")
@click.option("--past", is_flag=True, help="Yes, this call is in the past: publish it anyway.")
@image_options
@with_runtime
async def call_create(
    runtime: Runtime, handle: str, title: str, start: str, end: str | None, timezone_name: str, place: str | None,
    address: str | None, online_url: str | None, movements: tuple[str, ...], description: str,
    region_city: str, region_state: str, region_country: str, latitude: str, longitude: str, past: bool,
    image_path: Path | None = None, image_alt: str | None = None,
) -> None:
    """Publish a call to action from the coalition HANDLE and print its URL.

    Without --latitude and --longitude the place is found from the address, city, state and country:
    by the online geocoder for a street address when FEDIHUB_GEOCODER_URL is set, else offline;
    without --timezone the zone is the place's, else the coalition's.
    """
    import anyio

    from fedihub.coalitions import calls
    from fedihub.coalitions.actor_profile import profile_of
    from fedihub.coalitions.call_places import fetch_address_coordinates, is_past, locate_call_fields, profile_zone
    from fedihub.federation.actors import get_local_actor
    from fedihub.places.online import build_geocoder

    fields: dict[str, str | list[str]] = {
        "title": title, "description": description, "start": start, "end": end or "",
        "timezone": timezone_name or "", "place_name": place or "", "address": address or "",
        "online_url": online_url or "", "movements": list(movements), "region_city": region_city,
        "region_state": region_state, "region_country": region_country, "latitude": latitude, "longitude": longitude,
    }
    fallback: str | None = None
    if not timezone_name:
        async with runtime.ctx.sessions() as session:
            profile = profile_of(await get_local_actor(session, handle))
        fallback = await anyio.to_thread.run_sync(functools.partial(
            profile_zone, profile.region_city, profile.region_state, profile.region_country,
            profile.latitude, profile.longitude,
        ))
    # Asked once: its answer serves the zone's fallback below too (it allows one question a second).
    geocoder = build_geocoder(runtime.settings.geocoder_url, runtime.settings.base_url)
    found = await fetch_address_coordinates(fields, geocoder, runtime.ctx.http)
    try:
        located = await anyio.to_thread.run_sync(functools.partial(locate_call_fields, fields, found=found))
    except InvalidInput:
        if timezone_name:
            raise
        if not fallback:
            # Scripts written before zones were found keep working, but are told (never silently UTC).
            fallback = "UTC"
            click.echo("time zone: UTC, as neither the place nor the coalition's profile gives one "
                       "(give --timezone to choose)", err=True)
        located = await anyio.to_thread.run_sync(functools.partial(
            locate_call_fields, {**fields, "timezone": fallback}, found=found,
        ))
    data = calls.parse_call_form(located.fields)
    if is_past(data.start, data.end, runtime.ctx.clock()) and not past:
        raise InvalidInput("this call is dated in the past; check --start, or add --past to publish it anyway",
                           field="start")
    image = await read_banner(image_path, image_alt)
    async with runtime.ctx.sessions.begin() as session:
        row = await calls.publish_call(runtime.ctx, session, handle, data, image=image)
    click.echo(row.uri)


@call.command("cancel")
@click.argument("url")
@click.option("--reason", default=None, help="Why it is cancelled; followers see it.")
@with_runtime
async def call_cancel(runtime: Runtime, url: str, reason: str | None) -> None:
    """Cancel the call at URL: it stays visible, marked cancelled, and followers are told."""
    from fedihub.coalitions import calls

    async with runtime.ctx.sessions.begin() as session:
        await calls.cancel_call(runtime.ctx, session, url, reason)
    click.echo(f"cancelled {url}")
