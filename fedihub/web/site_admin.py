"""The instance admin's page for the instance's own name and description (GET and POST /admin/site)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts.site import MAX_SITE_DESCRIPTION, MAX_SITE_NAME, save_site_info
from fedihub.errors import InvalidInput
from fedihub.web.auth import require_instance_admin
from fedihub.web.forms import form_errors, read_form
from fedihub.web.manage_common import render
from fedihub.web.site_info import site_info_of
from fedihub.web.state import runtime_of

SITE_FIELDS = ("name", "description")


def _page(request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    saved = request.query_params.get("done") == "saved" and not errors
    return render(request, "admin/site.html", {
        "values": values, "errors": errors, "saved": saved, "host": runtime_of(request).settings.host,
        "max_name": MAX_SITE_NAME, "max_description": MAX_SITE_DESCRIPTION,
    }, status_code=status_code)


async def site_settings(request: Request) -> Response:
    await require_instance_admin(request)
    if request.method == "GET":
        info = site_info_of(request)
        return _page(request, {"name": info.name, "description": info.description or ""}, {})
    form = await read_form(request)
    values = {"name": form.text("name"), "description": form.text("description")}
    ctx = runtime_of(request).ctx
    try:
        async with ctx.sessions.begin() as session:
            info = await save_site_info(ctx, session, values["name"], values["description"])
    except InvalidInput as exc:
        return _page(request, values, form_errors(exc, SITE_FIELDS), exc.status_code)
    request.app.state.site.set(info)  # this process shows it at once; the others within seconds
    return RedirectResponse("/admin/site?done=saved", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route("/admin/site", site_settings, methods=["GET", "POST"], name="admin_site")]
