"""`--image PATH --image-alt TEXT` on `fedihub call create` and `fedihub coalition update`."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from pathlib import Path

from PIL import Image

from tests.integration.cli_helpers import Home, assert_one_error_line, home, migrated_template  # noqa: F401


def _row(home: Home, sql: str) -> tuple:  # type: ignore[type-arg]  # noqa: F811
    with contextlib.closing(sqlite3.connect(home.path / "data" / "fedihub.sqlite3")) as conn:
        return conn.execute(sql).fetchone()


def _photo(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (41.0, 52.0, 55.0)}
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (20, 90, 200)).save(out, format="JPEG", exif=exif.tobytes())
    path.write_bytes(out.getvalue())
    return path


def test_call_create_takes_an_image_with_its_alt_text(home: Home) -> None:  # noqa: F811
    flyer = _photo(home.path / "flyer.jpg")

    created = home.run(
        "call", "create", "tenants", "--title", "Rally", "--start", "2031-05-01T12:00", "--place", "Daley Plaza",
        "--image", str(flyer), "--image-alt", "A blue flyer with the date",
    )

    assert created.returncode == 0, created.stderr
    url, alt = _row(home, "SELECT image_url, image_alt FROM objects WHERE type = 'Event'")
    assert url.startswith("http://coalitions.test/images/") and url.endswith(".jpg")
    assert alt == "A blue flyer with the date"
    (data,) = _row(home, "SELECT data FROM media WHERE purpose = 'banner'")
    assert Image.open(io.BytesIO(data)).getexif() == {}


def test_an_image_without_alt_text_or_that_is_no_image_is_one_error_line(home: Home) -> None:  # noqa: F811
    flyer = _photo(home.path / "flyer.jpg")
    text = home.path / "notes.jpg"
    text.write_text("not a picture")
    call = ("call", "create", "tenants", "--title", "Rally", "--start", "2031-05-01T12:00", "--place", "Plaza",
            "--timezone", "America/Chicago")

    assert_one_error_line(home.run(*call, "--image", str(flyer)), "describe the image")
    assert_one_error_line(home.run(*call, "--image", str(text), "--image-alt", "x"), "not a JPEG, PNG, WebP or GIF")
    assert _row(home, "SELECT count(*) FROM objects") == (0,)


def test_coalition_update_sets_and_removes_the_banner(home: Home) -> None:  # noqa: F811
    flyer = _photo(home.path / "banner.jpg")

    updated = home.run("coalition", "update", "tenants", "--image", str(flyer), "--image-alt", "Our spring assembly")
    assert (updated.returncode, updated.stdout) == (0, "updated @tenants@coalitions.test\n"), updated.stderr
    assert _row(home, "SELECT image_alt FROM actors WHERE local_username = 'tenants'") == ("Our spring assembly",)

    removed = home.run("coalition", "update", "tenants", "--remove-image")
    assert (removed.returncode, removed.stdout) == (0, "updated @tenants@coalitions.test\n"), removed.stderr
    assert _row(home, "SELECT image_url FROM actors WHERE local_username = 'tenants'") == (None,)
    assert _row(home, "SELECT count(*) FROM media") == (0,)
