"""Reading a list of coalitions from a CSV file as spreadsheets export it: address, movement, region, note."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from fedihub.coalitions.movements import normalise_tag
from fedihub.errors import InvalidInput, PayloadTooLarge
from fedihub.i18n.active import gettext
from fedihub.protocol.limits import MAX_REGION
from fedihub.protocol.movements import MAX_MOVEMENTS, unique_movements

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_NOTE = 2_000
COLUMNS = ("address", "movement", "region", "note")
# Other spellings people use for the same columns.
ALIASES = {"movements": "movement", "handle": "address", "notes": "note"}
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class ImportRow:
    line: int  # where the row ends in the file (as a text editor counts lines), for messages
    address: str
    movements: tuple[str, ...] = ()
    region: str | None = None
    note: str | None = None


def _decode(data: bytes) -> str:
    # Excel's "Unicode text" is UTF-16 with a BOM; "CSV UTF-8" has a UTF-8 BOM; older exports are cp1252.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    # The header row alone decides: column names hold no delimiters, while a data row's movement
    # cell ("Tenants;Housing") would tempt the sniffer towards ";" in a comma file.
    header = next((line for line in text[:SNIFF_BYTES].splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t")
    except csv.Error:
        # One column: any delimiter reads it; a comma file is what spreadsheets write.
        return csv.excel


def _one_line(value: str, limit: int) -> str | None:
    # Control characters and newlines never reach a page, a header or a later CSV.
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return text[:limit] or None


def parse_movements(cell: str) -> tuple[str, ...]:
    """Movements separated by ";" (or ","), as the hashtags a coalition's profile would carry."""
    found: list[str] = []
    for piece in re.split(r"[;,]", cell):
        try:
            tag = normalise_tag(piece)
        except InvalidInput:
            continue  # "15" alone is not a hashtag; the rest of the row still counts
        if tag:
            found.append(tag)
    return tuple(unique_movements(found)[:MAX_MOVEMENTS])


def _header(cells: list[str]) -> dict[str, int]:
    names = [cell.strip().lstrip("\ufeff").strip().casefold() for cell in cells]
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        name = ALIASES.get(name, name)
        if name in COLUMNS and name not in columns:
            columns[name] = index
    if "address" not in columns:
        shown = ", ".join(n for n in names if n)[:200]
        raise InvalidInput(
            gettext("the first row must name the columns, one of them address (and optionally movement, region, "
                    "note); it has %(columns)s", columns=shown) if shown
            else gettext("the first row must name the columns, one of them address (and optionally movement, "
                         "region, note); it has nothing"),
            field="file",
        )
    return columns


def _row(cells: list[str], columns: dict[str, int], line: int) -> ImportRow:
    # A short row (a spreadsheet drops trailing empty cells) reads as empty in the columns it lacks.
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    return ImportRow(
        line=line, address=cell("address").strip(), movements=parse_movements(cell("movement")),
        region=_one_line(cell("region"), MAX_REGION), note=_one_line(cell("note"), MAX_NOTE),
    )


def read_rows(data: bytes) -> list[ImportRow]:
    """The rows of a CSV file; blank lines and unknown columns are skipped, too large a file is refused.

    A row with an empty or malformed address is still returned: the import reports it as refused.
    """
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(gettext("the file is larger than 1 MB; split it into smaller files"), field="file")
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    columns: dict[str, int] | None = None
    rows: list[ImportRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _header(cells)
                continue
            if len(rows) >= MAX_ROWS:
                raise PayloadTooLarge(
                    gettext("the file has more than %(max)s rows; split it into smaller files", max=f"{MAX_ROWS:,}"),
                    field="file",
                )
            rows.append(_row(cells, columns, reader.line_num))
    except csv.Error as exc:
        raise InvalidInput(
            gettext("line %(line)d of the file cannot be read as CSV: %(error)s", line=reader.line_num, error=exc),
            field="file",
        ) from None
    if columns is None:
        raise InvalidInput(
            gettext("the file is empty: it needs a first row naming the columns, then one row per coalition"),
            field="file",
        )
    return rows
