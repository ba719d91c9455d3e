"""The dashboard's bounds: an instance admin organizes every coalition, so the calls and pledges of a
few are worked out per page and each of the others has a dashboard of its own."""

from __future__ import annotations

import pytest

from fedihub.coalitions import service
from fedihub.web.dashboard import DETAILED
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


async def test_an_admin_of_many_coalitions_gets_the_details_of_the_first_few_and_a_link_to_the_rest(
    a: Instance,
) -> None:
    handles = [f"coalition-{n:02d}" for n in range(DETAILED + 2)]
    for handle in handles:
        await committed(a.ctx, service.create_coalition, handle, name=handle.replace("-", " ").title())
    admin = await organizer(a, "root", is_admin=True)
    try:
        page = (await admin.get("/dashboard")).text
        for handle in handles[:DETAILED]:
            assert f'id="calls-{handle}"' in page and f'id="pledges-{handle}"' in page
        for handle in handles[DETAILED:]:
            assert f'id="calls-{handle}"' not in page
            assert f'href="/dashboard?coalition={handle}#coalition-{handle}"' in page

        last = handles[-1]
        page = (await admin.get(f"/dashboard?coalition={last}")).text
        assert f'id="calls-{last}"' in page and f'id="calls-{handles[0]}"' not in page
        assert (await admin.get("/dashboard?coalition=nobody")).status_code == 404
    finally:
        await admin.client.aclose()


async def test_an_organizer_cannot_open_the_dashboard_of_a_coalition_of_others(a: Instance) -> None:
    ours = await committed(a.ctx, service.create_coalition, "ours", name="Ours")
    await committed(a.ctx, service.create_coalition, "theirs", name="Theirs")
    editor = await organizer(a, "eve", ours, "editor")
    try:
        page = (await editor.get("/dashboard")).text
        assert 'id="calls-ours"' in page and "Theirs" not in page
        assert (await editor.get("/dashboard?coalition=theirs")).status_code == 404
    finally:
        await editor.client.aclose()
