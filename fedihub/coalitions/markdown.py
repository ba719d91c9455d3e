"""Organizer Markdown rendered to safe HTML (raw HTML in the input is not passed through)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from fedihub.protocol.html import sanitize_html

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _renderer() -> MarkdownIt:
    # Built on first use: an idle server (and every command that renders nothing) skips markdown-it.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def render_markdown(text: str) -> str:
    return sanitize_html(_renderer().render(text or "").strip())
