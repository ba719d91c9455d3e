"""WebFinger (RFC 7033) and host-meta: JRD documents and looking actors up by handle (spec §1.1)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

import anyio
import httpx

from fedihub.errors import InvalidInput, RemoteInvalid, RemoteNotFound, RemoteUnavailable
from fedihub.i18n.active import gettext
from fedihub.protocol.fetch import (
    check_fetchable_url,
    decode_json_object,
    raise_for_status,
    read_limited,
    unreachable,
)
from fedihub.protocol.handles import format_handle as format_handle  # where callers have always found it
from fedihub.protocol.handles import parse_handle as parse_handle
from fedihub.protocol.http import ResponseTooLarge
from fedihub.protocol.media_types import ACTIVITY_JSON, is_activitypub_media_type
from fedihub.protocol.urls import has_http_scheme

JRD_CONTENT_TYPE = "application/jrd+json"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
SERVICE_ACTOR_REL = "https://www.w3.org/ns/activitystreams#Service"  # FEP-d556
WEBFINGER_ACCEPT = "application/jrd+json, application/json"  # what Mastodon sends (§1.1)
HOST_META_ACCEPT = "application/xrd+xml, application/xml, text/xml"
MAX_JRD_BYTES = 100_000
TOTAL_TIMEOUT = 30.0

def parse_resource(resource: str) -> tuple[str, str] | str:
    """The ``resource`` of a WebFinger query: (name, host) for an account, or the URL string."""
    text = resource.strip()
    if has_http_scheme(text):
        check_fetchable_url(text)
        return text
    # Some clients percent-encode the whole resource (acct%3Aname%40host) or encode it twice.
    decoded = unquote(text)
    if has_http_scheme(decoded):
        check_fetchable_url(decoded)
        return decoded
    if "@" not in decoded:
        raise InvalidInput(f"{resource!r} is neither acct:name@host nor an http(s) URL")
    return parse_handle(decoded)


def build_jrd(
    *,
    subject: str,
    actor_id: str,
    profile_url: str | None,
    aliases: Sequence[str] = (),
    subscribe_template: str | None = None,
) -> dict[str, Any]:
    """The JRD for one actor, with exactly one ``self`` link (P10)."""
    links: list[dict[str, str]] = []
    if profile_url is not None:
        links.append({"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url})
    links.append({"rel": "self", "type": ACTIVITY_JSON, "href": actor_id})
    if subscribe_template is not None:
        links.append({"rel": SUBSCRIBE_REL, "template": subscribe_template})
    jrd: dict[str, Any] = {"subject": subject}
    if aliases:
        jrd["aliases"] = list(dict.fromkeys(aliases))
    jrd["links"] = links
    return jrd


def build_instance_jrd(*, base_url: str, actor_id: str) -> dict[str, Any]:
    """The answer to ``resource=https://host/``: where the server actor is (FEP-d556)."""
    return {
        "subject": base_url.rstrip("/") + "/",
        "links": [{"rel": SERVICE_ACTOR_REL, "type": ACTIVITY_JSON, "href": actor_id}],
    }


def build_host_meta(base_url: str) -> str:
    """The XRD served at ``/.well-known/host-meta`` for clients that look there first."""
    template = f"{base_url.rstrip('/')}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )


async def _get(client: httpx.AsyncClient, url: str, accept: str, max_bytes: int) -> bytes:
    """Unsigned GET of a discovery document; redirects allowed (domain delegation), guard applies."""
    try:
        with anyio.fail_after(TOTAL_TIMEOUT):
            async with client.stream(
                "GET", url, headers={"Accept": accept}, follow_redirects=True
            ) as response:
                raise_for_status(response)
                return await read_limited(response, max_bytes)
    except TimeoutError as exc:
        raise RemoteUnavailable(f"{url} took longer than {TOTAL_TIMEOUT} s", public_message=gettext(
            "%(url)s took longer than %(seconds)s s to answer", url=url, seconds=TOTAL_TIMEOUT)) from exc
    except httpx.TooManyRedirects as exc:
        raise RemoteInvalid(f"{url} redirects too often") from exc
    except httpx.DecodingError as exc:
        raise RemoteInvalid(f"{url} sent a body that cannot be decoded") from exc
    except ResponseTooLarge as exc:
        raise RemoteInvalid(str(exc)) from exc
    except httpx.TransportError as exc:
        raise unreachable(url, exc) from exc


_LINK_TAG = re.compile(r"<(?:\w+:)?Link\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""(\w+)\s*=\s*("[^"]*"|'[^']*')""")


def lrdd_template(xrd: str) -> str | None:
    """The lrdd template of a host-meta XRD (a regex, not an XML parser: no entity tricks)."""
    for tag in _LINK_TAG.findall(xrd):
        attrs = {k.lower(): v[1:-1] for k, v in _ATTR.findall(tag)}
        if attrs.get("rel") == "lrdd" and "{uri}" in attrs.get("template", ""):
            return attrs["template"].replace("&amp;", "&")
    return None


async def _webfinger_body(client: httpx.AsyncClient, url: str, base: str, resource: str) -> bytes:
    try:
        return await _get(client, url, WEBFINGER_ACCEPT, MAX_JRD_BYTES)
    except RemoteNotFound:
        # Mastodon falls back to host-meta once on 404 (§1.1): some servers serve WebFinger
        # under another path and only say so there.
        try:
            xrd = await _get(client, f"{base}/.well-known/host-meta", HOST_META_ACCEPT, MAX_JRD_BYTES)
        except RemoteNotFound:
            xrd = b""
        template = lrdd_template(xrd.decode("utf-8", "replace"))
        fallback = template.replace("{uri}", quote(resource, safe="")) if template else None
        if fallback is None or fallback == url or not has_http_scheme(fallback):
            raise
        return await _get(client, fallback, WEBFINGER_ACCEPT, MAX_JRD_BYTES)


def actor_url_from_jrd(jrd: dict[str, Any], where: str) -> str:
    """The ``href`` of the ActivityPub ``self`` link of a JRD."""
    subject = jrd.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise RemoteInvalid(f"{where}: WebFinger answer has no subject",
                            public_message=gettext("%(where)s: its WebFinger answer has no subject", where=where))
    links = jrd.get("links")
    href = None
    for link in links if isinstance(links, list) else []:
        # Mastodon keeps only the last self link and fails if it is not ActivityPub (P10); we
        # accept the last ActivityPub-typed self link, which finds the same actor when it works.
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and is_activitypub_media_type(link.get("type"))
            and isinstance(link.get("href"), str)
        ):
            href = link["href"]
    if href is None:
        raise RemoteInvalid(f"{where}: WebFinger answer has no ActivityPub self link", public_message=gettext(
            "%(where)s: its WebFinger answer has no ActivityPub link", where=where))
    try:
        check_fetchable_url(href)
    except InvalidInput as exc:
        raise RemoteInvalid(f"{where}: WebFinger self link {href!r} is not an http(s) URL") from exc
    return href


async def fetch_jrd(client: httpx.AsyncClient, handle: str, *, scheme: str = "https") -> tuple[dict[str, Any], str]:
    """The WebFinger document of ``name@host`` (unsigned, like Mastodon) and the URL it came from."""
    if scheme not in ("http", "https"):
        raise InvalidInput(f"WebFinger scheme must be http or https, not {scheme!r}")
    name, host = parse_handle(handle)
    resource = f"acct:{name}@{host}"
    base = f"{scheme}://{host}"
    # Mastodon puts the acct: URI into the query as is (":" and "@" are legal there, §1.1).
    url = f"{base}/.well-known/webfinger?resource={resource}"
    body = await _webfinger_body(client, url, base, resource)
    if not body.strip():
        raise RemoteInvalid(f"{url} returned an empty body",
                            public_message=gettext("%(url)s returned an empty answer", url=url))
    # Parsed as JSON whatever the Content-Type, as Mastodon does.
    return decode_json_object(body, url), url


async def fetch_actor_url(client: httpx.AsyncClient, handle: str, *, scheme: str = "https") -> str:
    """Resolve ``name@host`` to its actor id through WebFinger."""
    jrd, url = await fetch_jrd(client, handle, scheme=scheme)
    return actor_url_from_jrd(jrd, url)


def subscribe_template_from_jrd(jrd: dict[str, Any]) -> str | None:
    """The OStatus ``subscribe`` template (``…?uri={uri}``) of a JRD, when it has a usable one."""
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == SUBSCRIBE_REL:
            template = link.get("template")
            if isinstance(template, str) and "{uri}" in template and has_http_scheme(template):
                return template
    return None


async def fetch_subscribe_template(client: httpx.AsyncClient, handle: str, *, scheme: str = "https") -> str | None:
    """Where ``name@host``'s server lets its user follow someone (remote follow): Mastodon, Pleroma,
    Misskey and Friendica publish it in WebFinger; None when the server does not."""
    jrd, _url = await fetch_jrd(client, handle, scheme=scheme)
    return subscribe_template_from_jrd(jrd)


def subject_handle(jrd: dict[str, Any]) -> str | None:
    """``name@host`` of a JRD's ``acct:`` subject, or None when the subject is not an acct: URI."""
    subject = jrd.get("subject")
    if not isinstance(subject, str) or subject[:5].lower() != "acct:":
        return None
    try:
        name, host = parse_handle(subject)
    except InvalidInput:
        return None
    return f"{name}@{host}"


async def fetch_confirmed_handle(
    client: httpx.AsyncClient, actor_id: str, preferred_username: str | None, host: str, *, scheme: str = "https"
) -> str | None:
    """The handle WebFinger confirms for ``actor_id``, or None: Mastodon's reverse check.

    A handle typed on one server may point at another server's actor; it is that actor's handle only
    if the actor's own server agrees. So ask ``acct:<preferredUsername>@<host>`` (``host``: the
    actor's own) and require its self link to be ``actor_id``; when its subject names another domain
    (Mastodon's split LOCAL_DOMAIN/WEB_DOMAIN), ask that domain too and require the same answer there
    (Mastodon ActivityPub::FetchRemoteAccountService#check_webfinger!). Raises the fetch errors.
    """
    if not preferred_username:
        return None
    handle = f"{preferred_username}@{host}"
    jrd, url = await fetch_jrd(client, handle, scheme=scheme)
    if actor_url_from_jrd(jrd, url) != actor_id:
        return None
    subject = subject_handle(jrd) or handle
    if subject.lower() == handle.lower():
        return subject
    again, again_url = await fetch_jrd(client, subject, scheme=scheme)
    if actor_url_from_jrd(again, again_url) != actor_id or (subject_handle(again) or "").lower() != subject.lower():
        return None
    return subject
