"""The instance admin's suggested movements: add, relabel per language, and remove them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.coalitions.movement_list import load_movements, remove_movement, save_movement
from fedihub.errors import FedihubError
from fedihub.i18n.active import gettext
from fedihub.i18n.languages import LANGUAGES, NATIVE_NAMES
from fedihub.web.auth import require_instance_admin
from fedihub.web.forms import read_form
from fedihub.web.pages import render
from fedihub.web.state import runtime_of

PATH = "/admin/movements"
FIELDS = ("tag", *(f"label_{code}" for code in LANGUAGES))


async def _page(
    request: Request, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
    editing: str | None = None, status_code: int = 200,
) -> Response:
    async with runtime_of(request).ctx.reading() as session:
        movements = await load_movements(session)
    notice = {"saved": gettext("The movement was saved."), "removed": gettext("The movement was removed.")}.get(
        request.query_params.get("done", "")
    )
    return render(request, "admin/movements.html", {
        "movements": movements.choices, "languages": [(code, NATIVE_NAMES[code]) for code in LANGUAGES],
        "values": values or {}, "errors": errors or {}, "editing": editing, "notice": notice,
    }, status_code=status_code)


async def movements_page(request: Request) -> Response:
    """GET: the list with a form per movement, and one to add a movement."""
    await require_instance_admin(request)
    return await _page(request)


async def save(request: Request) -> Response:
    """POST: add a movement, or change one (`replacing` names its current tag)."""
    await require_instance_admin(request)
    form = await read_form(request)
    replacing = form.text("replacing") or None
    labels = {code: form.text(f"label_{code}") for code in LANGUAGES}
    try:
        async with runtime_of(request).ctx.sessions.begin() as session:
            await save_movement(session, form.text("tag"), labels, replacing=replacing)
    except FedihubError as exc:
        if exc.status_code >= 500:
            raise
        values = {"tag": form.text("tag"), **{f"label_{code}": text for code, text in labels.items()}}
        return await _page(request, values=values, errors={exc.field or "tag": exc.public_message},
                           editing=replacing or "", status_code=exc.status_code)
    request.app.state.movement_cache.invalidate()
    return RedirectResponse(f"{PATH}?done=saved", status_code=303)


async def remove(request: Request) -> Response:
    """POST: stop suggesting a movement; what already has the tag keeps it as a free tag."""
    await require_instance_admin(request)
    form = await read_form(request)
    async with runtime_of(request).ctx.sessions.begin() as session:
        await remove_movement(session, form.text("replacing") or form.text("tag"))
    request.app.state.movement_cache.invalidate()
    return RedirectResponse(f"{PATH}?done=removed", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route(PATH, movements_page, name="admin_movements"),
        Route(PATH, save, methods=["POST"], name="admin_movements_save"),
        Route(f"{PATH}/remove", remove, methods=["POST"], name="admin_movements_remove"),
    ]
