"""Public HTML pages: the instance home, coalition pages and post pages."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from fedihub.storage.models import Actor, Follow, StoredObject
from fedihub.web.state import runtime_of

RECENT = 20


def render(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Vary"] = "Accept"
    return response


async def home(request: Request) -> Response:
    runtime = runtime_of(request)
    async with runtime.ctx.sessions() as session:
        coalitions = (
            await session.scalars(
                select(Actor).where(Actor.is_local.is_(True), Actor.type == "Group", Actor.deleted_at.is_(None))
                .order_by(Actor.name)
            )
        ).all()
        posts = (
            await session.scalars(
                select(StoredObject).where(
                    StoredObject.is_local.is_(True), StoredObject.deleted_at.is_(None),
                    StoredObject.visibility == "public",
                ).order_by(StoredObject.id.desc()).limit(RECENT)
            )
        ).all()
    return render(request, "home.html", {"coalitions": coalitions, "posts": posts})


async def coalition_page(request: Request, actor: Actor) -> Response:
    runtime = runtime_of(request)
    async with runtime.ctx.sessions() as session:
        followers = int(
            await session.scalar(
                select(func.count()).select_from(Follow).where(Follow.target_id == actor.id, Follow.state == "accepted")
            ) or 0
        )
        posts = (
            await session.scalars(
                select(StoredObject).where(
                    StoredObject.attributed_to_id == actor.id, StoredObject.deleted_at.is_(None),
                    StoredObject.visibility == "public",
                ).order_by(StoredObject.id.desc()).limit(RECENT)
            )
        ).all()
    handle = f"@{actor.username}@{runtime.settings.domain}"
    return render(request, "coalition.html", {"actor": actor, "followers": followers, "posts": posts, "handle": handle})


async def object_page(request: Request, row: StoredObject) -> Response:
    return render(request, "object.html", {"post": row, "actor": row.author})
