"""`--image PATH --image-alt TEXT` of the call and coalition commands: the same checks as the web forms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fedihub.errors import PayloadTooLarge

if TYPE_CHECKING:
    from fedihub.coalitions.banners import BannerChoice

F = TypeVar("F", bound=Callable[..., Any])


def image_options(command: F) -> F:
    """The two options, on any command that takes a banner."""
    command = click.option(
        "--image-alt", default=None, help="What the image shows, for people who cannot see it (required with --image).",
    )(command)
    return click.option(
        "--image", "image_path", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A banner or flyer: JPEG, PNG, WebP or GIF, at most 5 MB (metadata removed).",
    )(command)


async def read_banner(path: Path | None, alt: str | None) -> BannerChoice | None:
    """The banner a command was given, processed like an upload; None when no image was given."""
    from fedihub.coalitions.banner_image import MAX_UPLOAD_BYTES, check_alt, process_banner
    from fedihub.coalitions.banners import BannerChoice

    if path is None:
        if alt is not None:
            return BannerChoice(None, check_alt(alt, field="image-alt"))  # new alt text for the current image
        return None
    with path.open("rb") as file:
        data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"{path} is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB", field="image")
    alt_text = check_alt(alt or "", field="image-alt")
    return BannerChoice(await process_banner(data), alt_text)
