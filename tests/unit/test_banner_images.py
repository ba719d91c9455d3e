"""Banner uploads: only real images, no metadata left, bombs refused, and what peers send read as their banner."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from fedihub.coalitions.banner_image import BANNER_BOX, MAX_UPLOAD_BYTES, THUMBNAIL_BOX, build_banner, check_alt
from fedihub.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from fedihub.protocol.images import read_actor_image, read_event_image
from tests.support.fixtures import load_fixture

# Gancio's flyer as it puts it in `attachment` (spec §2.6: a Document image/jpeg with name and
# focalPoint, the first being the banner); the captured Gancio event has none, so it is added.
GANCIO_FLYER = {
    "type": "Document", "mediaType": "image/jpeg", "url": "https://demo.gancio.org/media/d1ae5c2dc2a33c7b.jpg",
    "name": "Poster: the Colosseo at dusk with the event's date", "focalPoint": [0, 0],
}


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def gps_photo() -> bytes:
    """A phone-like JPEG: camera make, GPS position, orientation "rotate 90", an XMP packet, a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: the camera was held upright, the pixels lie on their side
    exif[0x8825] = {1: "N", 2: (37.0, 46.0, 29.0), 3: "W", 4: (122.0, 25.0, 9.0)}  # GPSInfo
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GPSLatitude="37,46.48N"/>'
           b"</rdf:RDF></x:xmpmeta>")
    source = Image.new("RGB", (300, 200), (200, 40, 40))
    return encode(source, "JPEG", exif=exif.tobytes(), xmp=xmp, comment=b"home address")


def test_gps_and_every_other_metadata_is_gone_and_the_photo_stands_upright() -> None:
    upload = gps_photo()
    assert b"PhoneMaker" in upload and b"GPSLatitude" in upload

    banner = build_banner(upload)

    for output in (banner.data, banner.thumbnail):
        assert b"PhoneMaker" not in output and b"GPSLatitude" not in output and b"home address" not in output
        image = decoded(output)
        assert image.getexif() == {}  # no EXIF block at all, so no GPS IFD
        for key in ("exif", "xmp", "icc_profile", "comment"):
            assert key not in image.info, key
    # Orientation 6 applied before the metadata went: 300 × 200 lying down is 200 × 300 standing.
    assert (banner.width, banner.height) == (200, 300)
    assert banner.content_type == "image/jpeg"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_each_accepted_format_is_re_encoded(fmt: str) -> None:
    banner = build_banner(encode(Image.new("RGB", (160, 90), (10, 120, 60)), fmt))
    assert decoded(banner.data).format == "JPEG"
    assert decoded(banner.data).size == (160, 90)  # never enlarged


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (40, 40), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    red, green, blue = decoded(build_banner(out.getvalue()).data).getpixel((20, 20))  # type: ignore[misc]
    assert red > 200 and blue < 60


def test_a_big_photo_becomes_a_banner_and_a_thumbnail_that_keep_its_shape() -> None:
    banner = build_banner(encode(Image.new("RGB", (4000, 2000), "white"), "JPEG"))
    assert decoded(banner.data).size == (BANNER_BOX[0], 600)
    assert decoded(banner.thumbnail).size == (THUMBNAIL_BOX[0], 200)


def test_transparency_is_kept_as_png() -> None:
    banner = build_banner(encode(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), "PNG"))
    assert banner.content_type == "image/png" and banner.extension == "png"
    assert decoded(banner.data).getpixel((1, 1))[3] == 0  # type: ignore[index]


def test_the_url_name_is_the_content_hash() -> None:
    one = build_banner(encode(Image.new("RGB", (30, 30), "red"), "PNG"))
    assert one.digest == build_banner(encode(Image.new("RGB", (30, 30), "red"), "PNG")).digest
    assert one.digest != build_banner(encode(Image.new("RGB", (30, 30), "blue"), "PNG")).digest


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: a decompression bomb's first bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(9_000, 9_000), (60_000, 60_000)])
def test_decompression_bombs_are_refused_from_the_header(size: tuple[int, int]) -> None:
    bomb = png_header_only(*size)
    assert len(bomb) < 200

    with pytest.raises(InvalidInput) as refused:
        build_banner(bomb)
    assert refused.value.field == "image"
    assert "pixels" in refused.value.public_message


@pytest.mark.parametrize("data", [
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    b"GIF89a<html><script>alert(1)</script></html>",  # a polyglot that only claims to be a GIF
])
def test_anything_but_the_four_formats_is_refused_by_its_content(data: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        build_banner(data)
    assert refused.value.status_code in (400, 415)


def test_other_image_formats_are_refused_as_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        build_banner(encode(Image.new("RGB", (20, 20)), "BMP"))
    assert refused.value.status_code == 415
    assert refused.value.public_message == "this file is not a JPEG, PNG, WebP or GIF image"


def test_too_large_a_file_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        build_banner(b"\xff\xd8" + b"\0" * MAX_UPLOAD_BYTES)


def test_a_truncated_image_is_refused() -> None:
    data = encode(Image.new("RGB", (400, 400), "green"), "PNG")
    with pytest.raises(InvalidInput, match="damaged"):
        build_banner(data[: len(data) // 2])


def test_alt_text_is_required_and_bounded() -> None:
    assert check_alt("  A crowd  with\nbanners ") == "A crowd with banners"
    with pytest.raises(InvalidInput) as missing:
        check_alt("   ")
    assert missing.value.field == "image_alt"
    with pytest.raises(InvalidInput):
        check_alt("x" * 1501)


def fixture(path: str) -> dict[str, Any]:
    data = load_fixture(path)
    return data["object"] if isinstance(data.get("object"), dict) else data


def gancio_event_with_flyer() -> dict[str, Any]:
    return {**fixture("gancio/event.json"), "attachment": [GANCIO_FLYER]}


def test_a_mobilizon_events_banner_is_its_first_attachment_and_its_label_is_not_alt_text() -> None:
    found = read_event_image(fixture("mobilizon/event.json"))
    assert found is not None
    assert found.url.startswith("https://rendezvous.nomagic.uk/media/cd75bf2f")
    assert found.media_type == "image/jpeg"
    assert found.alt == ""  # Mobilizon names it "Banner": a label, not a description


def test_a_gancio_events_flyer_and_its_description_are_read() -> None:
    found = read_event_image(gancio_event_with_flyer())
    assert found is not None
    assert found.url == GANCIO_FLYER["url"]
    assert found.alt == "Poster: the Colosseo at dusk with the event's date"


def test_link_attachments_and_events_without_a_picture_give_none() -> None:
    assert read_event_image(fixture("gancio/event.json")) is None
    assert read_event_image({"attachment": [
        {"type": "Link", "name": "Website", "mediaType": "text/html", "href": "https://meet.example/x"},
        {"type": "Document", "mediaType": "application/pdf", "url": "https://x.example/flyer.pdf"},
    ]}) is None
    assert read_event_image({"attachment": [{"type": "Image", "url": "javascript:alert(1)"}]}) is None


def test_a_mobilizon_groups_header_is_read_even_without_a_media_type() -> None:
    found = read_actor_image(fixture("mobilizon/group.json"))
    assert found is not None and found.url.startswith("https://mobilizon.fr/media/7fe251dd")
