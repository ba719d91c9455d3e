"""Steps a person takes in Chromium that many browser tests begin with."""

from __future__ import annotations

from typing import Any


async def create_coalition_as_admin(page: Any, base_url: str, handle: str = "tenants",
                                    name: str = "Tenants Union") -> None:
    """On /admin, create a coalition (the admin becomes its owner) and wait for the answer."""
    await page.goto(base_url + "/admin")
    await page.fill("#coalition-handle", handle)
    await page.fill("#coalition-name", name)
    await page.get_by_role("button", name="Create the coalition").click()
    await page.wait_for_load_state()
