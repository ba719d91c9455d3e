"""Log lines with structured fields: what happened to an activity or a delivery, as key=value pairs.

Inbound processing and delivery pass their facts as ``extra`` fields (FIELDS); the formatter appends
the ones a record carries to the message, so a line reads naturally and still greps and parses:
``inbound Follow handled activity_id=https://… actor=https://… remote_host=masto.example attempt=1``.
Only these names are ever rendered: keys, signatures and request headers are never log fields.
"""

from __future__ import annotations

import logging

FIELDS = ("activity_id", "activity_type", "actor", "inbox", "remote_host", "attempt", "outcome", "status")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _quoted(value: object) -> str:
    text = str(value)
    if not text or any(ch.isspace() or ch in '"=' for ch in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class FieldsFormatter(logging.Formatter):
    """The usual format, followed by the record's structured fields that are set."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={_quoted(getattr(record, name))}"
            for name in FIELDS if getattr(record, name, None) is not None
        ]
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the fields
        return f"{head} {' '.join(fields)}{newline}{rest}"
