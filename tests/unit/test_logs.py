"""Log lines carry their structured fields as key=value pairs after the message."""

from __future__ import annotations

import logging

from fedihub.logs import FieldsFormatter


def _line(message: str, **fields: object) -> str:
    record = logging.LogRecord("fedihub.worker", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(fields)
    return FieldsFormatter("%(levelname)s %(message)s").format(record)


def test_fields_follow_the_message_in_a_fixed_order() -> None:
    line = _line("inbound Follow handled", outcome="handled", activity_id="https://m.example/1", attempt=1)
    assert line == "INFO inbound Follow handled activity_id=https://m.example/1 attempt=1 outcome=handled"


def test_values_with_spaces_or_quotes_are_quoted_and_unknown_extras_are_not_rendered() -> None:
    line = _line("delivery", outcome='dead: "gone"', private_key_pem="-----BEGIN", status=None)
    assert line == 'INFO delivery outcome="dead: \\"gone\\""'


def test_a_line_without_fields_is_unchanged() -> None:
    assert _line("worker started") == "INFO worker started"
