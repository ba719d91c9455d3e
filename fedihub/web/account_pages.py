"""Pages for accounts: first-run setup, log in and out, invites, instance admin, coalition members."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts import invites
from fedihub.accounts import service as accounts
from fedihub.accounts.site import check_site_info, find_site_info, save_site_info
from fedihub.coalitions import Actor
from fedihub.coalitions import service as coalitions
from fedihub.errors import FedihubError, FieldErrors, Gone, InvalidForm, InvalidInput, NotFound, TooManyAttempts
from fedihub.federation import blocks
from fedihub.federation.actors import local_handle
from fedihub.i18n.active import gettext
from fedihub.web.auth import (
    log_in,
    log_out,
    require_account,
    require_coalition_role,
    require_instance_admin,
    safe_next,
)
from fedihub.web.forms import PostedForm, form_errors, read_form
from fedihub.web.state import runtime_of


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
    # Personal pages carrying CSRF tokens or invite links: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def error_for(exc: FedihubError) -> dict[str, str]:
    """Every error keyed by its form field ("" for the whole form), each as a sentence."""
    return {field: text[:1].upper() + text[1:] for field, text in form_errors(exc).items()}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- Log in and out -------------------------------------------------------------------------


async def login(request: Request) -> Response:
    runtime = runtime_of(request)
    if request.method == "GET":
        next_url = safe_next(request.query_params.get("next"))
        if request.state.account is not None:
            return redirect(next_url)
        return render(request, "auth/login.html", {"next": next_url})
    form = await read_form(request)
    username = form.text("username").lower()
    password = form.text("password", strip=False)
    context: dict[str, Any] = {"next": safe_next(form.text("next")), "values": {"username": username}}
    limiter = request.app.state.login_limiter
    now = runtime.ctx.clock()
    address = client_address(request)
    try:
        limiter.check(address, username, now)
    except TooManyAttempts as exc:
        return render(request, "auth/login.html", {**context, "errors": error_for(exc)}, status_code=429)
    async with runtime.ctx.sessions.begin() as session:
        account = await accounts.authenticate(session, username, password, now=now)
    if account is None:
        limiter.record_failure(address, username, now)
        errors = {"password": gettext("Wrong username or password.")}
        return render(request, "auth/login.html", {**context, "errors": errors}, status_code=400)
    if account.disabled_at is not None:
        errors = {"": gettext("This account has been disabled by an administrator of this server.")}
        return render(request, "auth/login.html", {**context, "errors": errors}, status_code=403)
    limiter.record_success(address, username)
    log_in(request, account)
    return redirect(context["next"])


async def logout(request: Request) -> Response:
    await read_form(request)
    await log_out(request)
    return redirect("/")


# --- New accounts: first-run setup and invites ---------------------------------------------


def new_account_values(form: PostedForm) -> tuple[dict[str, str], str]:
    """The form's visible values, and the password once every field checks out (InvalidForm names each bad one)."""
    values = {"username": form.text("username"), "display_name": form.text("display_name")}
    password = form.text("password", strip=False)
    accounts.check_new_account(
        values["username"], password, values["display_name"], confirm=form.text("password_confirm", strip=False)
    )
    return values, password


def _site_name(text: str) -> str:
    """The server's name as the setup form's own field (site_name) reports it."""
    try:
        return check_site_info(text, None).name
    except InvalidForm as exc:
        raise InvalidInput(exc.errors.get("name", exc.public_message), field="site_name") from None


async def setup(request: Request) -> Response:
    """First run: the one-time link printed by `fedihub serve` or `fedihub admin create`."""
    runtime = runtime_of(request)
    ctx = runtime.ctx
    token = request.path_params["token"]
    async with ctx.reading() as session:
        await invites.get_usable_invite(session, token, now=ctx.clock(), setup=True)
        # The first administrator names the server here; a later one finds it named already.
        names_site = await find_site_info(session) is None
    context: dict[str, Any] = {"token": token, "names_site": names_site}
    if request.method == "GET":
        values = {"username": request.query_params.get("username", "")}
        return render(request, "auth/setup.html", {**context, "values": values})
    form = await read_form(request)
    values = {"username": form.text("username"), "display_name": form.text("display_name"),
              "site_name": form.text("site_name")}
    try:
        errors = FieldErrors()
        checked = errors.check(new_account_values, form)
        if names_site and values["site_name"]:
            errors.check(_site_name, values["site_name"])
        errors.raise_if_any()
        assert checked is not None
        password = checked[1]
        async with ctx.sessions.begin() as session:
            invite = await invites.get_usable_invite(session, token, now=ctx.clock(), setup=True)
            account = await accounts.create_account(
                session, values["username"], password, now=ctx.clock(), is_admin=True,
                display_name=values["display_name"],
            )
            await invites.mark_used(session, invite, account.id, now=ctx.clock())
            if names_site and values["site_name"]:
                request.app.state.site.set(await save_site_info(ctx, session, values["site_name"], None))
    except FedihubError as exc:
        if exc.status_code in (404, 410):
            raise
        return render(request, "auth/setup.html", {**context, "values": values, "errors": error_for(exc)},
                      status_code=exc.status_code)
    log_in(request, account)
    return redirect("/admin")


async def _invite_coalition(request: Request, token: str) -> tuple[int, Actor, str]:
    ctx = runtime_of(request).ctx
    async with ctx.reading() as session:
        invite = await invites.get_usable_invite(session, token, now=ctx.clock())
        actor = await invites.invited_coalition(session, invite)
    if actor is None or actor.deleted_at is not None:
        raise Gone(gettext("The coalition of this invite no longer exists."))
    return invite.id, actor, invite.role


async def invite(request: Request) -> Response:
    """Accept an invite: create an account, or join with the logged-in one."""
    ctx = runtime_of(request).ctx
    token = request.path_params["token"]
    _, actor, role = await _invite_coalition(request, token)
    context: dict[str, Any] = {
        "token": token, "coalition": actor, "role": role, "role_label": accounts.ROLE_LABELS.get(role, ""),
    }
    if request.method == "GET":
        return render(request, "auth/invite.html", context)
    form = await read_form(request)
    current = request.state.account
    if current is not None:
        async with ctx.sessions.begin() as session:
            invite_row = await invites.get_usable_invite(session, token, now=ctx.clock())
            await accounts.add_member(session, current.id, actor.id, role, now=ctx.clock())
            await invites.mark_used(session, invite_row, current.id, now=ctx.clock())
        return redirect(f"/manage/{actor.username}")
    values = {"username": form.text("username"), "display_name": form.text("display_name")}
    try:
        values, password = new_account_values(form)
        async with ctx.sessions.begin() as session:
            invite_row = await invites.get_usable_invite(session, token, now=ctx.clock())
            account = await accounts.create_account(
                session, values["username"], password, now=ctx.clock(), display_name=values["display_name"]
            )
            await accounts.add_member(session, account.id, actor.id, role, now=ctx.clock())
            await invites.mark_used(session, invite_row, account.id, now=ctx.clock())
    except FedihubError as exc:
        if exc.status_code in (404, 410):
            raise
        return render(request, "auth/invite.html", {**context, "values": values, "errors": error_for(exc)},
                      status_code=exc.status_code)
    log_in(request, account)
    return redirect(f"/manage/{actor.username}")


# --- Instance administration ------------------------------------------------------------------


async def admin_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    ctx = runtime_of(request).ctx
    async with ctx.reading() as session:
        account_rows = await accounts.list_accounts(session)
        block_rows = await blocks.list_blocks(session)
        coalition_rows = await coalitions.list_coalitions(session)
    context = {
        "coalitions": coalition_rows, "accounts": account_rows, "blocks": block_rows,
        "domain": runtime_of(request).settings.host, **extra,
    }
    return render(request, "admin/index.html", context, status_code=status_code)


async def admin_index(request: Request) -> Response:
    await require_instance_admin(request)
    return await admin_page(request)


async def admin_create_coalition(request: Request) -> Response:
    account = await require_instance_admin(request)
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    values = {"handle": form.text("handle").lower(), "name": form.text("name"), "summary": form.text("summary")}
    try:
        errors = FieldErrors()
        if errors.check(form.required, "handle", gettext("give the coalition a handle")):
            errors.check(local_handle, values["handle"], ctx.host)
        errors.check(form.required, "name", gettext("give the coalition a display name"))
        errors.raise_if_any()
        # The coalition and its first owner together: never a coalition nobody can manage.
        async with ctx.sessions.begin() as session:
            actor = await coalitions.create_coalition(
                ctx, session, values["handle"], name=values["name"], summary=values["summary"] or None
            )
            await accounts.add_member(session, account.id, actor.id, "owner", now=ctx.clock())
    except FedihubError as exc:
        exc.field = exc.field or "handle"
        return await admin_page(request, exc.status_code, forms="coalition", values=values, errors=error_for(exc))
    return redirect(f"/manage/{actor.username}")


async def admin_set_disabled(request: Request) -> Response:
    account = await require_instance_admin(request)
    await read_form(request)
    ctx = runtime_of(request).ctx
    target = int(request.path_params["account_id"])
    if request.path_params["action"] not in ("disable", "enable"):
        raise NotFound(gettext("there is nothing at this address"))
    disable = request.path_params["action"] == "disable"
    if target == account.id and disable:
        error = InvalidInput(gettext("you cannot disable your own account"))
        return await admin_page(request, 400, forms="account", errors=error_for(error))
    async with ctx.sessions.begin() as session:
        changed = await accounts.set_disabled(session, target, disable, now=ctx.clock())
    notice = (gettext("The account %(username)s is disabled.", username=changed.username) if disable
              else gettext("The account %(username)s is enabled again.", username=changed.username))
    return await admin_page(request, notice=notice)


async def admin_setup_link(request: Request) -> Response:
    await require_instance_admin(request)
    await read_form(request)
    runtime = runtime_of(request)
    async with runtime.ctx.sessions.begin() as session:
        link = await invites.get_setup_link(
            session, base_url=runtime.settings.base_url, secret_key=runtime.settings.secret_key,
            now=runtime.ctx.clock(),
        )
    return await admin_page(request, setup_link=link)


async def admin_block(request: Request) -> Response:
    await require_instance_admin(request)
    form = await read_form(request)
    values = {"domain": form.text("domain"), "reason": form.text("reason")}
    try:
        async with runtime_of(request).ctx.sessions.begin() as session:
            added = await blocks.block_domain(
                runtime_of(request).ctx, session, values["domain"], values["reason"] or None
            )
    except InvalidInput as exc:
        exc.field = exc.field or "domain"
        return await admin_page(request, exc.status_code, forms="block", values=values, errors=error_for(exc))
    domain = blocks.normalise_domain(values["domain"])
    notice = (gettext("%(domain)s is blocked.", domain=domain) if added
              else gettext("%(domain)s was already blocked.", domain=domain))
    return await admin_page(request, notice=notice)


async def admin_unblock(request: Request) -> Response:
    await require_instance_admin(request)
    form = await read_form(request)
    domain = form.text("domain")
    async with runtime_of(request).ctx.sessions.begin() as session:
        removed = await blocks.unblock_domain(runtime_of(request).ctx, session, domain)
    notice = (gettext("%(domain)s is no longer blocked.", domain=domain) if removed
              else gettext("%(domain)s was not blocked.", domain=domain))
    return await admin_page(request, notice=notice)


# --- Coalition members and invites ------------------------------------------------------------


async def members_page(request: Request, actor: Actor, my_role: str, status_code: int = 200, **extra: Any) -> Response:
    ctx = runtime_of(request).ctx
    viewer = await require_account(request)
    async with ctx.reading() as session:
        members = await accounts.members_of(session, actor.id)
    context = {
        "coalition": actor, "my_role": my_role, "members": members, "roles": accounts.ROLES,
        # Instance admins manage every coalition with an owner's rights without being one of its members.
        "as_instance_admin": not any(m.account_id == viewer.id for m in members),
        "role_labels": accounts.ROLE_LABELS,
        "owner_count": sum(1 for m in members if m.role == "owner"),
        "invitable_roles": [r for r in accounts.ROLES if accounts.can_invite(my_role, r)],
        "removable_roles": [r for r in accounts.ROLES if accounts.can_remove(my_role, r)],
        **extra,
    }
    return render(request, "members.html", context, status_code=status_code)


async def members(request: Request) -> Response:
    _, actor, role = await require_coalition_role(request, request.path_params["username"], "admin")
    return await members_page(request, actor, role)


async def members_invite(request: Request) -> Response:
    account, actor, my_role = await require_coalition_role(request, request.path_params["username"], "admin")
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    role = form.text("role")
    try:
        accounts.role_rank(role)
        if not accounts.can_invite(my_role, role):
            raise InvalidInput(gettext(accounts.ONLY_OWNERS_INVITE[role]), field="role")
        async with ctx.sessions.begin() as session:
            _, token = await invites.create_invite(
                session, actor_id=actor.id, role=role, created_by_id=account.id, now=ctx.clock()
            )
    except InvalidInput as exc:
        # Asking for a role above your own is refused, not merely hidden from the list.
        status = 403 if role in accounts.ROLES else exc.status_code
        return await members_page(request, actor, my_role, status, forms="invite", errors=error_for(exc))
    link = invites.invite_url(runtime_of(request).settings.base_url, token)
    return await members_page(request, actor, my_role, invite_link=link, invite_role=role)


async def members_remove(request: Request) -> Response:
    _, actor, my_role = await require_coalition_role(request, request.path_params["username"], "admin")
    await read_form(request)
    ctx = runtime_of(request).ctx
    try:
        async with ctx.sessions.begin() as session:
            await accounts.remove_member(
                session, actor.id, int(request.path_params["account_id"]), remover_role=my_role
            )
    except FedihubError as exc:
        if exc.status_code == 404:
            raise
        return await members_page(request, actor, my_role, exc.status_code, forms="members", errors=error_for(exc))
    return redirect(f"/manage/{actor.username}/members")


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login, methods=["GET", "POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/setup/{token:str}", setup, methods=["GET", "POST"], name="setup"),
        Route("/invite/{token:str}", invite, methods=["GET", "POST"], name="invite"),
        Route("/admin", admin_index, name="admin"),
        Route("/admin/coalitions", admin_create_coalition, methods=["POST"], name="admin_create_coalition"),
        Route("/admin/accounts/{account_id:int}/{action:str}", admin_set_disabled, methods=["POST"],
              name="admin_set_disabled"),
        Route("/admin/setup-link", admin_setup_link, methods=["POST"], name="admin_setup_link"),
        Route("/admin/blocks", admin_block, methods=["POST"], name="admin_block"),
        Route("/admin/blocks/remove", admin_unblock, methods=["POST"], name="admin_unblock"),
        Route("/manage/{username:str}/members", members, name="members"),
        Route("/manage/{username:str}/members/invite", members_invite, methods=["POST"], name="members_invite"),
        Route("/manage/{username:str}/members/{account_id:int}/remove", members_remove, methods=["POST"],
              name="members_remove"),
    ]
