"""Assembling the Starlette application: routes, middleware, error pages, templates, static files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from fedihub import __version__
from fedihub.accounts.site import SiteInfo, SiteInfoCache
from fedihub.coalitions.movements import movement_label
from fedihub.coalitions.upload_limits import UploadRateLimiter
from fedihub.i18n.catalogues import Catalogues
from fedihub.i18n.jinja import install_i18n
from fedihub.i18n.middleware import LanguageMiddleware
from fedihub.metrics import Metrics
from fedihub.places.online import build_geocoder
from fedihub.settings import Settings
from fedihub.subscriptions.limits import SubscribeRateLimiter
from fedihub.web import (
    account_pages,
    activitypub,
    conversation_pages,
    directory_pages,
    feed_pages,
    healthcheck,
    images,
    language_pages,
    lookup_pages,
    manage,
    manage_hubs,
    metrics_endpoint,
    moderation_pages,
    movement_admin,
    notice_pages,
    pages,
    pledge_pages,
    remote_calls,
    site_admin,
    subscription_admin,
    subscription_pages,
    wellknown,
)
from fedihub.web.auth import build_login_limiter, install_template_globals, session_middleware
from fedihub.web.conditional import ConditionalGetMiddleware
from fedihub.web.errors import CrashPageMiddleware, exception_handlers
from fedihub.web.inbox_path import InboxPathMiddleware
from fedihub.web.metrics_endpoint import RequestTimingMiddleware
from fedihub.web.movement_middleware import MovementCache, MovementListMiddleware
from fedihub.web.people_first import PeopleFirstMiddleware
from fedihub.web.read_cache import ReadCache, ReadCacheMiddleware
from fedihub.web.security import SecurityHeadersMiddleware
from fedihub.web.site_info import SiteInfoMiddleware, site_context
from fedihub.web.views import handle_of, hub_scope_name

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def build_templates(settings: Settings) -> Jinja2Templates:
    # The instance's name and description come per request (the admins may change them; site_info.py).
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[site_context])
    templates.env.globals.update(
        instance_name=settings.display_name, base_url=settings.base_url, version=__version__,
        # E-mail subscription forms are shown only when this server sends mail.
        mail_enabled=settings.mail is not None,
    )
    install_template_globals(templates)
    install_i18n(templates.env)
    # `{{ tag | movement }}`: a suggested movement's label in the reader's language, any other tag as #tag.
    templates.env.filters["movement"] = movement_label
    # `{{ actor | handle }}`: @name@host, the one way a handle is shown (views.handle_of).
    templates.env.filters["handle"] = handle_of
    templates.env.filters["hub_scope_name"] = hub_scope_name
    return templates


def inbox_routes() -> list[Route]:
    """Also served past the page middleware (inbox_path.py); listed here too for ``url_for`` and 405s."""
    return [
        Route("/inbox", activitypub.shared_inbox, methods=["POST"], name="shared_inbox"),
        Route("/actor/inbox", activitypub.shared_inbox, methods=["POST"], name="instance_inbox"),
        Route("/g/{username:str}/inbox", activitypub.actor_inbox, methods=["POST"], name="actor_inbox"),
    ]


def build_routes() -> list[Any]:
    return [
        Route("/", pages.home, name="home"),
        *pages.routes(),
        *pledge_pages.routes(),
        *remote_calls.routes(),
        *conversation_pages.routes(),
        *feed_pages.routes(),
        *subscription_pages.routes(),
        *directory_pages.routes(),
        Route("/.well-known/webfinger", wellknown.webfinger, name="webfinger"),
        Route("/.well-known/host-meta", wellknown.host_meta, name="host_meta"),
        Route("/.well-known/nodeinfo", wellknown.nodeinfo_links, name="nodeinfo_links"),
        Route("/nodeinfo/{version:str}", wellknown.nodeinfo, name="nodeinfo"),
        Route("/actor", activitypub.instance_actor, name="instance_actor"),
        *inbox_routes(),
        Route("/actor/{collection:str}", activitypub.instance_collection, name="instance_collection"),
        Route("/g/{username:str}", activitypub.actor, name="actor"),
        Route("/g/{username:str}/outbox", activitypub.outbox, name="outbox"),
        Route("/g/{username:str}/followers", activitypub.followers, name="followers"),
        Route("/g/{username:str}/following", activitypub.following, name="following"),
        Route("/g/{username:str}/featured", activitypub.featured, name="featured"),
        Route("/g/{username:str}/members", activitypub.hub_members, name="hub_members"),
        Route("/o/{object_id:str}", activitypub.stored_object, name="object"),
        Route("/o/{object_id:str}/activity", activitypub.object_activity, name="object_activity"),
        Route("/a/{activity_id:str}", activitypub.activity, name="activity"),
        *account_pages.routes(),
        *manage.routes(),
        *images.routes(),
        *notice_pages.routes(),
        *manage_hubs.routes(),
        *moderation_pages.routes(),
        *subscription_admin.routes(),
        *site_admin.routes(),
        *movement_admin.routes(),
        *lookup_pages.routes(),
        *healthcheck.routes(),
        *metrics_endpoint.routes(),
        *language_pages.routes(),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]


def build_web_app(
    settings: Settings, lifespan: Callable[[Starlette], Any], *, metrics: Metrics | None = None
) -> Starlette:
    timing = [Middleware(RequestTimingMiddleware, metrics=metrics)] if metrics is not None else []
    catalogues = Catalogues()
    movement_cache = MovementCache()
    read_cache = ReadCache()
    app = Starlette(
        routes=build_routes(),
        middleware=[
            *timing, Middleware(ConditionalGetMiddleware), Middleware(SecurityHeadersMiddleware),
            Middleware(InboxPathMiddleware, inbox_routes=inbox_routes()),
            Middleware(PeopleFirstMiddleware),
            Middleware(LanguageMiddleware, catalogues=catalogues, default=settings.language),
            *session_middleware(settings),
            Middleware(ReadCacheMiddleware, cache=read_cache),
            Middleware(CrashPageMiddleware),
            Middleware(SiteInfoMiddleware),
            Middleware(MovementListMiddleware, cache=movement_cache),
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.templates = build_templates(settings)
    app.state.site = SiteInfoCache(SiteInfo(settings.display_name))
    app.state.catalogues = catalogues
    app.state.movement_cache = movement_cache
    app.state.read_cache = read_cache
    app.state.login_limiter = build_login_limiter()
    app.state.subscribe_limiter = SubscribeRateLimiter()
    app.state.geocoder = build_geocoder(settings.geocoder_url, settings.base_url)
    app.state.upload_limiter = UploadRateLimiter()
    return app
