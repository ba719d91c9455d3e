"""Avatar uploads: only real images are accepted, and what we serve is a clean square PNG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fedihub.coalitions.avatars import AVATAR_SIDE, MAX_UPLOAD_BYTES, build_avatar
from fedihub.errors import InvalidInput, PayloadTooLarge


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_accepted_format_comes_out_as_png(fmt: str) -> None:
    avatar = build_avatar(encode(Image.new("RGB", (120, 90), (10, 120, 60)), fmt))

    image = decoded(avatar.png)
    assert image.format == "PNG"
    # Cropped to a square like Mastodon's avatars; never enlarged.
    assert image.size == (avatar.width, avatar.height) == (90, 90)


def test_large_images_are_scaled_down_to_400_pixels() -> None:
    avatar = build_avatar(encode(Image.new("RGB", (2000, 1500), "white"), "JPEG"))
    assert decoded(avatar.png).size == (AVATAR_SIDE, AVATAR_SIDE) == (400, 400)


def test_metadata_is_stripped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (37.0, 46.0, 29.0)}  # GPSInfo: where the photo was taken
    source = Image.new("RGB", (64, 64), "blue")
    upload = encode(source, "JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 128, comment=b"secret")
    assert b"PhoneMaker" in upload

    png = build_avatar(upload).png

    assert b"PhoneMaker" not in png
    info = decoded(png).info
    assert "exif" not in info and "icc_profile" not in info and "comment" not in info


def test_transparency_is_kept() -> None:
    source = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    assert decoded(build_avatar(encode(source, "PNG")).png).getpixel((1, 1))[3] == 0


def test_the_first_frame_of_an_animation_is_used() -> None:
    frames = [Image.new("RGB", (40, 40), color) for color in ("red", "green")]
    upload = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    image = decoded(build_avatar(upload).png).convert("RGB")
    assert image.getpixel((20, 20))[0] > 200  # red


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a PNG, JPEG, WebP or GIF"),
        (b"%PDF-1.7 not an image", "not a PNG, JPEG, WebP or GIF"),
        (encode(Image.new("RGB", (10, 10)), "BMP"), "not a PNG, JPEG, WebP or GIF"),
        (encode(Image.new("RGB", (300, 300), "red"), "PNG")[:200], "damaged"),
        (b"", "choose an image"),
    ],
)
def test_anything_that_does_not_decode_as_an_accepted_image_is_refused(upload: bytes, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_avatar(upload)
    assert caught.value.field == "avatar"
    assert words in caught.value.public_message


def test_a_file_over_2_mb_is_refused_before_decoding() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        build_avatar(b"\x89PNG" + b"\0" * MAX_UPLOAD_BYTES)
    assert caught.value.field == "avatar"
    assert "2 MB" in caught.value.public_message


@pytest.mark.parametrize("side", [7_000, 10_000])  # under and over Pillow's own bomb threshold
def test_a_decompression_bomb_is_refused_from_its_header(side: int) -> None:
    # Millions of pixels of one colour compress to a few kilobytes.
    bomb = encode(Image.new("1", (side, side)), "PNG")
    assert len(bomb) < MAX_UPLOAD_BYTES
    with pytest.raises(InvalidInput) as caught:
        build_avatar(bomb)
    assert "too large" in caught.value.public_message
