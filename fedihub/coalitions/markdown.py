"""Organizer Markdown rendered to safe HTML (raw HTML in the input is not passed through)."""

from __future__ import annotations

from markdown_it import MarkdownIt

from fedihub.protocol.html import sanitize_html

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def render_markdown(text: str) -> str:
    return sanitize_html(_renderer.render(text or "").strip())
