"""Every text the interface shows is in the Spanish and French catalogues, translated.

The texts are extracted here with Babel and babel.cfg, exactly as `make messages` does, so a template
string added without a translation fails this test with the entries to add; and a translated
template that gains plain English outside `{% trans %}` fails with the file, line and text to wrap.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from fedihub.i18n.catalogues import Catalogues, po_path
from fedihub.settings import Settings
from fedihub.web.app import build_templates

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("es", "fr")


def _extracted() -> dict[str, str | tuple[str, ...]]:
    """msgid (or the singular of a plural) → the message as extracted, from fedihub/ by babel.cfg."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str | tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, strip_comment_tags=True
    ):
        key = message if isinstance(message, str) else message[0]
        if key:
            found[key] = message
    return found


def _entry(message: str | tuple[str, ...]) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    if isinstance(message, str):
        return f"msgid {quoted(message)}\nmsgstr \"\""
    return f"msgid {quoted(message[0])}\nmsgid_plural {quoted(message[1])}\nmsgstr[0] \"\"\nmsgstr[1] \"\""


def test_extraction_finds_the_interface() -> None:
    found = _extracted()
    assert "Skip to content" in found and "Call to action" in found, "babel.cfg reaches templates and Python"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated(language: str) -> None:
    with po_path(language).open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    missing = []
    for key, message in sorted(_extracted().items()):
        entry = catalogue.get(key)
        strings = (entry.string,) if entry is not None and isinstance(entry.string, str) else (
            tuple(entry.string) if entry is not None else ()
        )
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(_entry(message))
    assert not missing, (
        f"{len(missing)} interface texts are missing or untranslated in {po_path(language).relative_to(ROOT)}; "
        "run `make messages` and translate these entries:\n\n" + "\n\n".join(missing)
    )


def test_catalogues_compile_and_translate() -> None:
    catalogues = Catalogues()
    assert catalogues.get("es").gettext("Skip to content") != "Skip to content"
    assert catalogues.get("fr").gettext("Skip to content") != "Skip to content"
    assert catalogues.get("en").gettext("Skip to content") == "Skip to content"


# Templates whose every text is wrapped for translation. The rest of fedihub/web/templates is still
# English only; add a template here once it is wrapped and translated.
TRANSLATED_TEMPLATES = (
    "base.html", "home.html", "error.html", "call.html", "coalition.html", "directory.html", "map.html",
    "object.html", "account.html", "subscribe.html", "subscription_confirm.html", "unsubscribe.html",
    "pledge_form.html", "pledge_report.html", "_call.html", "_call_meta.html", "_rollup_line.html", "_post.html",
    "_replies.html", "_subscribe.html", "_mail_subscribe.html", "_directory_filters.html", "_hub_calls.html",
    "_pledges.html", "_pledge_decision.html", "_pledge_fields.html", "_icons.html",
    "auth/_forms.html", "auth/login.html", "auth/setup.html", "auth/invite.html", "auth/new_account_fields.html",
    "manage/_form.html", "manage/_layout.html", "manage/call_form.html", "manage/dashboard.html",
    "manage/_open_call.html", "manage/_actor.html", "manage/call_replies.html", "manage/profile.html",
    "manage/announce.html", "manage/news.html", "admin/movements.html", "_map.html", "_day_map.html",
    "_member_tree.html", "manage/_image_field.html",
    "admin/_import_row.html", "admin/_import_summary.html", "admin/import.html", "admin/import_run.html",
    "admin/index.html", "admin/moderation.html", "admin/subscriptions.html", "admin/site.html", "lookup.html",
    "members.html", "moderation/_parts.html",
    "mail/_footer.html", "mail/_footer.txt", "mail/_groups.html", "mail/_groups.txt", "mail/digest.html",
    "mail/digest.txt", "mail/notice.html", "mail/notice.txt",
    "manage/_held_posts.html", "manage/deliveries.html", "manage/fediverse_members.html", "manage/followers.html",
    "manage/following.html", "manage/hub_members.html", "manage/hub_membership.html", "manage/hub_review.html",
    "manage/hub_rules.html", "manage/moderation.html", "manage/overview.html", "manage/requests.html",
)
TEMPLATES = ROOT / "fedihub" / "web" / "templates"
_HOLE = "\u2063"  # stands for a Jinja expression or block: never a letter
_MARKUP = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]*>", re.S | re.I)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,.:;!?-]+[A-Za-z'’]+)*")
# Not text: og:type values and attribute names a macro writes without their tag around them.
_NOT_TEXT = {"article", "profile", "website", "true"}


def _outside_trans(source: str) -> str:
    """The template's literal text outside {% trans %} blocks, expressions replaced by a hole."""
    env = build_templates(Settings(secret_key="x")).env
    depth, parts, previous, in_tag = 0, [], None, False
    for _line, kind, value in env.lex(source):
        if kind in ("block_begin", "variable_begin"):
            in_tag = True
        if kind == "name" and previous == "block_begin" and value in ("trans", "endtrans"):
            depth += 1 if value == "trans" else -1
        if kind == "data":
            parts.append(value if depth == 0 else _HOLE + "\n" * value.count("\n"))
        elif kind in ("block_end", "variable_end"):
            parts.append(_HOLE)
            in_tag = False
        elif in_tag:
            parts.append("\n" * str(value).count("\n"))
        if kind != "whitespace":
            previous = kind
    return "".join(parts)


def bare_text(name: str) -> list[str]:
    text = _MARKUP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), _outside_trans((TEMPLATES / name).read_text()))
    text = re.sub(r"&[a-zA-Z#0-9]+;", " ", text)
    found = []
    for match in _WORDS.finditer(text):
        before, after = text[match.start() - 1:match.start()], text[match.end():match.end() + 1]
        if match.group(0) in _NOT_TEXT or after == "=" or before in ("/", "-"):
            continue
        found.append(f"{name}:{text[:match.start()].count(chr(10)) + 1}: {match.group(0)}")
    return found


def test_translated_templates_have_no_plain_english_left() -> None:
    found = [line for name in TRANSLATED_TEMPLATES for line in bare_text(name)]
    assert not found, (
        "text outside {% trans %} in a translated template; wrap it ({% trans %}…{% endtrans %} or _(\"…\")), "
        "run `make messages` and translate it:\n" + "\n".join(found)
    )
