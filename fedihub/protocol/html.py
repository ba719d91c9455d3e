"""Sanitising remote HTML with an allow-list before it is stored or shown."""

from __future__ import annotations

import html as html_lib
import re

import nh3

# Mastodon's own allow-list for incoming statuses (docs spec/activitypub.md "HTML sanitization"),
# plus headings it turns into paragraphs: we keep them, they are harmless and help events read well.
ALLOWED_TAGS = {
    "p", "span", "br", "a", "del", "pre", "code", "em", "strong", "b", "i", "u",
    "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "class"}, "span": {"class"}, "ol": {"start", "reversed"}, "li": {"value"}}
ALLOWED_SCHEMES = {"http", "https", "mailto", "xmpp", "magnet", "gemini"}


def sanitize_html(html: str | None) -> str:
    """Return ``html`` with only safe tags, attributes and link schemes; links get rel=nofollow."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


# Where a block ends or a line breaks, text read aloud or in one line needs a space: without it
# "<p>Moved.</p><p>Bring food</p>" became "Moved.Bring food" in Atom titles and previews.
_BREAKS = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|pre|tr|dd|dt)\s*>", re.IGNORECASE)


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML fragment, for names, previews and logs; blocks and line breaks become newlines."""
    if not html:
        return ""
    broken = _BREAKS.sub(lambda m: m.group(0) + "\n", html)
    return html_lib.unescape(nh3.clean(broken, tags=set(), attributes={})).strip()
