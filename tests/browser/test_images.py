"""An organizer adds an image with alt text to a call in Chromium; a mistake does not lose the chosen file."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from tests.browser.conftest import first_admin, screenshot
from tests.support.browser_steps import create_coalition_as_admin

PASSWORD = "correct horse battery staple"
ALT = "Tenants with a red banner reading Rent Control Now on the City Hall steps"


def _flyer(path: Path) -> Path:
    out = io.BytesIO()
    image = Image.new("RGB", (1600, 900), (190, 30, 45))
    for x in range(200, 1400):
        for y in range(380, 520, 7):
            image.putpixel((x, y), (255, 255, 255))
    image.save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return path


async def test_an_image_with_alt_text_is_uploaded_kept_after_a_mistake_and_shown(  # type: ignore[no-untyped-def]
    start_server, browser, tmp_path: Path
) -> None:
    server = await start_server()
    admin = await first_admin(browser, server, "ada", PASSWORD)
    await create_coalition_as_admin(admin, server.base_url)

    await admin.goto(server.base_url + "/manage/tenants/calls/new")
    await admin.fill("#call-title", "Rally for rent control")
    await admin.fill("#call-start", "2031-03-14T11:00")
    await admin.fill("#call-place_name", "City Hall steps")
    await admin.select_option("#call-timezone", "America/Chicago")
    await admin.set_input_files("#call-image", str(_flyer(tmp_path / "rally flyer.jpg")))
    await admin.get_by_role("button", name="Publish the call to action").click()
    await admin.wait_for_load_state()

    # No alt text: the error is next to that field, and the file chosen is still there.
    assert "describe the image" in await admin.inner_text("#call-image_alt-error")
    assert "Image kept: rally flyer.jpg (choose another to replace)" in await admin.inner_text("#call-image-kept")
    await screenshot(admin, "images-kept-after-a-mistake")
    await admin.fill("#call-image_alt", ALT)
    await admin.get_by_role("button", name="Publish the call to action").click()
    await admin.wait_for_load_state()

    [(uri,)] = server.query("SELECT uri FROM objects WHERE type = 'Event'")
    for width in (1280, 390):
        await admin.set_viewport_size({"width": width, "height": 900})
        await admin.goto(server.base_url + urlsplit(uri).path)
        banner = admin.locator("figure.banner img")
        assert await banner.get_attribute("alt") == ALT
        assert await banner.evaluate("img => img.complete && img.naturalWidth") == 1200  # loaded from our origin
        box = await banner.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert int(await admin.evaluate("document.documentElement.scrollWidth")) <= width
    await screenshot(admin, "images-call-page-phone")
    await admin.set_viewport_size({"width": 1280, "height": 900})
    await admin.goto(server.base_url + urlsplit(uri).path)
    await screenshot(admin, "images-call-page")


async def test_a_coalition_banner_fits_a_phone_screen(start_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = await start_server()
    admin = await first_admin(browser, server, "ada", PASSWORD)
    await create_coalition_as_admin(admin, server.base_url)
    await admin.goto(server.base_url + "/manage/tenants/profile")
    await admin.set_input_files("#profile-image", str(_flyer(tmp_path / "assembly.jpg")))
    await admin.fill("#profile-image_alt", "Members of the Tenants Union at the spring assembly")
    await admin.get_by_role("button", name="Save the profile").click()
    await admin.wait_for_load_state()

    await admin.set_viewport_size({"width": 390, "height": 900})
    await admin.goto(server.base_url + "/g/tenants")
    banner = admin.locator("figure.banner img")
    assert await banner.get_attribute("alt") == "Members of the Tenants Union at the spring assembly"
    assert await banner.evaluate("img => img.complete && img.naturalWidth") == 1200
    assert int(await admin.evaluate("document.documentElement.scrollWidth")) <= 390
    await screenshot(admin, "images-coalition-page-phone")
