"""Images on our origin: serving banners and peers' pictures, and the image fields of organizer forms."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedihub.coalitions import StoredObject
from fedihub.coalitions.banner_image import MAX_UPLOAD_BYTES, check_alt, process_banner
from fedihub.coalitions.banners import IMAGE_NAME, BannerChoice, find_image, thumbnail_of
from fedihub.coalitions.pending_images import PendingImage, drop_pending, find_pending, keep_pending
from fedihub.coalitions.remote_images import remote_image_for_page
from fedihub.coalitions.upload_limits import UploadRateLimiter
from fedihub.errors import InvalidInput, NotFound
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.images import read_event_image
from fedihub.web.forms import Fields, PostedForm
from fedihub.web.state import runtime_of

# The name holds the content hash: the bytes behind a URL never change.
IMAGE_CACHE = "public, max-age=31536000, immutable"
IMAGE_FIELDS = ("image", "image_alt")


async def image(request: Request) -> Response:
    found = IMAGE_NAME.match(request.path_params["name"])
    if found is None:
        raise NotFound(N_("no such image"))
    async with runtime_of(request).ctx.reading() as session:
        row = await find_image(session, found["key"])
    extension = "png" if row is not None and row.content_type == "image/png" else "jpg"
    if row is None or found["ext"] != extension:
        raise NotFound(N_("no such image"))
    body = (row.thumbnail or row.data) if found["thumb"] else row.data
    return Response(body, media_type=row.content_type, headers={
        "Cache-Control": IMAGE_CACHE, "X-Content-Type-Options": "nosniff",
    })


async def read_image_fields(
    request: Request, form: PostedForm, values: Fields, *, current: str | None
) -> BannerChoice | None:
    """The image, its alt text and "remove" of an organizer form.

    A newly chosen file is processed and kept for the account before anything else can fail, and
    ``values`` then carry its token and name, so a form shown again with an error keeps it; saving
    the form turns the kept upload into the banner. None: nothing to change. Raises InvalidInput
    naming "image" or "image_alt".
    """
    ctx = runtime_of(request).ctx
    account_id = request.state.account.id
    token = values.get("image_token")
    token = token if isinstance(token, str) else ""
    async with ctx.reading() as session:
        kept = await find_pending(ctx, session, token, account_id)
    _show_kept(values, kept)
    data = await form.upload("image", max_bytes=MAX_UPLOAD_BYTES, too_large=N_("the image is larger than %(size)s"))
    if data is not None:
        limiter: UploadRateLimiter = request.app.state.upload_limiter
        limiter.check_and_record(account_id, ctx.clock())
        processed = await process_banner(data)
        async with ctx.sessions.begin() as session:
            if kept is not None:
                await drop_pending(session, kept.token)
            kept = await keep_pending(ctx, session, account_id, processed, _file_name(form))
        _show_kept(values, kept)
    if token and kept is None:
        # Never publish without the image the organizer saw kept: say so instead.
        raise InvalidInput(gettext("the image kept from your last try has expired: choose it again"), field="image")
    alt = values.get("image_alt")
    alt = alt if isinstance(alt, str) else ""
    if kept is not None:
        return BannerChoice(kept.image, check_alt(alt), pending_token=kept.token)
    if current and form.flag("remove_image"):
        return BannerChoice(None, "", remove=True)
    if current:
        return BannerChoice(None, check_alt(alt))
    return None


def _file_name(form: PostedForm) -> str:
    value = form.data.get("image")
    return str(getattr(value, "filename", "") or "image")


def _show_kept(values: Fields, kept: PendingImage | None) -> None:
    # Set by the server every time, never taken from the posted form.
    values["image_token"] = kept.token if kept else ""
    values["image_kept"] = kept.file_name if kept else ""


def local_banner(url: str | None, alt: str | None) -> dict[str, str] | None:
    """What a page shows of our own banner: its URL, its thumbnail's and its alt text."""
    if not url:
        return None
    return {"url": url, "thumbnail": thumbnail_of(url), "alt": alt or ""}


async def call_banner(request: Request, row: StoredObject) -> dict[str, str] | None:
    """The banner of a call page: ours, or our copy of a peer's (never hot-linked).

    A peer's picture we hold no copy of yet is not shown: its fetch is queued for the worker, and the
    page does not wait for the peer."""
    if row.is_local:
        return local_banner(row.image_url, row.image_alt)
    found = read_event_image(row.data or {})
    if found is None:
        return None
    ctx = runtime_of(request).ctx
    paths = await remote_image_for_page(ctx, found.url)
    if paths is None:
        return None
    base = ctx.base_url
    return {"url": base + paths[0], "thumbnail": base + paths[1], "alt": found.alt}


def routes() -> list[BaseRoute]:
    return [Route("/images/{name:str}", image, name="image")]
