"""Notices as e-mail: one notice, or a digest of several, in plain text and HTML (templates/mail/)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fedihub.i18n import dates
from fedihub.i18n.active import ngettext, using
from fedihub.i18n.catalogues import Catalogues
from fedihub.i18n.jinja import install_i18n
from fedihub.i18n.languages import DEFAULT_LANGUAGE, known_language
from fedihub.mail.outbox import Letter
from fedihub.notices.kinds import Part, plain, sentence
from fedihub.storage.models import Notice

MAX_SUBJECT = 200
# RFC 3834: automatic mail, so vacation responders and mailing lists leave it alone.
HEADERS = {"Auto-Submitted": "auto-generated"}


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """Names come from other servers: no line breaks may reach a header, and the subject stays short."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class Letters:
    def __init__(
        self, base_url: str, catalogues: Catalogues | None = None, default_language: str = DEFAULT_LANGUAGE
    ) -> None:
        self.base_url = base_url
        self.catalogues = catalogues or Catalogues()
        self.default_language = default_language
        self.env = Environment(
            loader=PackageLoader("fedihub.web", "templates"), autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
        install_i18n(self.env)

    @contextmanager
    def _in(self, language: str | None) -> Iterator[None]:
        """Write in the recipient's language when known, else in the instance's."""
        chosen = known_language(language) or self.default_language
        with using(chosen, self.catalogues.get(chosen)):
            yield

    def _absolute(self, parts: list[Part]) -> list[Part]:
        return [Part(p.text, self.base_url + p.href if p.href and p.href.startswith("/") else p.href)
                for p in parts]

    def _item(self, notice: Notice) -> dict[str, object]:
        return {"parts": self._absolute(sentence(notice)), "when": f"{dates.date_time(notice.created_at)} UTC"}

    def _group(self, notices: Sequence[Notice]) -> list[dict[str, object]]:
        """Per coalition or hub, its name, the link to its list, and its notices."""
        groups: list[dict[str, object]] = []
        for _, rows in groupby(notices, key=lambda n: n.actor_id):
            items = list(rows)
            actor = items[0].actor
            groups.append({
                "name": one_line(actor.name or actor.username or ""),
                "list_url": f"{self.base_url}/manage/{actor.username}/news",
                "items": [self._item(n) for n in items],
            })
        return groups

    def _render(self, name: str, **context: object) -> tuple[str, str]:
        context = {**context, "preferences_url": f"{self.base_url}/account#email"}
        return (self.env.get_template(f"mail/{name}.txt").render(context),
                self.env.get_template(f"mail/{name}.html").render(context))

    def one(self, notice: Notice, language: str | None = None) -> Letter:
        with self._in(language):
            text, html = self._render("notice", groups=self._group([notice]))
            return Letter(one_line(plain(sentence(notice))), text, html, dict(HEADERS))

    def digest(self, notices: Sequence[Notice], language: str | None = None) -> Letter:
        with self._in(language):
            ordered = sorted(notices, key=lambda n: (n.actor_id, -n.id))
            groups = self._group(ordered)
            count = len(ordered)
            names = ", ".join(str(g["name"]) for g in groups)
            subject = one_line(ngettext("What's new: %(num)d notice for %(names)s",
                                        "What's new: %(num)d notices for %(names)s", count, names=names))
            text, html = self._render("digest", groups=groups, count=count)
            return Letter(subject, text, html, dict(HEADERS))
