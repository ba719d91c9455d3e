"""Well-known documents: WebFinger, host-meta and NodeInfo."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedihub import __version__
from fedihub.coalitions.queries import count_coalitions, count_local_posts
from fedihub.errors import Gone, InvalidInput, NotFound
from fedihub.federation.actors import find_actor, find_local_actor
from fedihub.protocol import nodeinfo as nodeinfo_docs
from fedihub.protocol import webfinger as wf
from fedihub.protocol.hosts import normalise_host
from fedihub.web.site_info import site_info_of
from fedihub.web.state import runtime_of

CORS = {"Access-Control-Allow-Origin": "*"}


def _our_hosts(request: Request) -> set[str]:
    base = runtime_of(request).ctx.base_url
    parts = urlsplit(base)
    return {normalise_host(parts.netloc, strict=False), normalise_host(parts.hostname or "", strict=False)}


async def webfinger(request: Request) -> Response:
    # Peer servers read these answers (WebFinger, NodeInfo): their error texts stay English, unmarked.
    runtime = runtime_of(request)
    ctx = runtime.ctx
    resource = request.query_params.get("resource")
    if not resource:
        raise InvalidInput("the resource parameter is required, e.g. ?resource=acct:name@host")
    try:
        parsed = wf.parse_resource(resource)
    except InvalidInput as exc:
        raise InvalidInput(str(exc)) from None  # the English detail, whatever language the instance defaults to
    async with ctx.reading() as session:
        if isinstance(parsed, str):
            if parsed.rstrip("/") == ctx.base_url:
                # FEP-d556: the server itself resolves to the instance actor.
                doc = wf.build_instance_jrd(base_url=ctx.base_url, actor_id=ctx.urls.instance_actor())
                return JSONResponse(doc, media_type="application/jrd+json", headers=CORS)
            actor = await find_actor(session, parsed)
            if actor is not None and not actor.is_local:
                actor = None
        else:
            name, host = parsed
            if host not in _our_hosts(request):  # parse_resource gives it normalised
                raise NotFound("that account is not on this server")
            actor = await find_local_actor(session, name)
    if actor is None:
        raise NotFound("no such account on this server")
    if actor.deleted_at is not None:
        raise Gone("that account was deleted")
    doc = wf.build_jrd(
        # The same host as the handle pages show (port included when it has one): the subject is what
        # Mastodon keeps as the handle and looks up again (spec §1.1).
        subject=f"acct:{actor.username}@{ctx.host}",
        actor_id=actor.uri,
        profile_url=actor.url or actor.uri,
        aliases=[actor.uri],
    )
    return JSONResponse(doc, media_type="application/jrd+json", headers=CORS)


async def host_meta(request: Request) -> Response:
    base = runtime_of(request).ctx.base_url
    return Response(wf.build_host_meta(base), media_type="application/xrd+xml", headers=CORS)


async def nodeinfo_links(request: Request) -> Response:
    ctx = runtime_of(request).ctx
    return JSONResponse(nodeinfo_docs.build_nodeinfo_links(ctx.base_url, ctx.urls.instance_actor()), headers=CORS)


async def nodeinfo(request: Request) -> Response:
    version = request.path_params["version"]
    if version not in ("2.0", "2.1"):
        raise NotFound("NodeInfo is served as 2.0 and 2.1")
    runtime = runtime_of(request)
    site = site_info_of(request)
    async with runtime.ctx.reading() as session:
        coalitions = await count_coalitions(session)
        posts = await count_local_posts(session)
    doc = nodeinfo_docs.build_nodeinfo(
        version=version,
        software_version=__version__,
        users_total=coalitions,
        users_active_month=coalitions,
        users_active_halfyear=coalitions,
        local_posts=posts,
        open_registrations=False,
        node_name=site.name,
        # nodeDescription sits beside nodeName, where Misskey and the server directories read it.
        metadata={"coalitions": coalitions, **({"nodeDescription": site.description} if site.description else {})},
    )
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return JSONResponse(doc, media_type=f'application/json; profile="{profile}"', headers=CORS)
