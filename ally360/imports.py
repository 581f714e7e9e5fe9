"""CSV imports for operators (`manage.py import_contacts`, `import_products`).

A row is read as the API reads a request body — by the same input serializer, after a mapper
turns its cells into that shape — and written by the same service, so an import keeps every rule
the API keeps. The whole file is one transaction in the company's tenant context: every bad row
is reported with its line number, and nothing is written unless every row is good (`dry_run`
checks a file and writes nothing).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DataError, transaction
from rest_framework import serializers

from ally360.exceptions import ServiceError
from ally360.tenancy import tenant_context

LIST_SEPARATOR = "|"  # inside a cell: "300 1234567|601 2345678"
# Spanish spreadsheets (Excel in Spanish writes VERDADERO/FALSO); DRF reads true/yes/1 itself.
TRUE_WORDS = {"si", "sí", "s", "x", "verdadero"}
FALSE_WORDS = {"no", "n", "falso"}


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header): no row was tried."""


class RowInvalid(Exception):
    """A mapper's complaint about one row: `{column: [message]}`."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(fields)
        self.fields = fields


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    rows: int = 0
    created: list = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)


def read_csv(path: str | Path, *, columns: Iterable[str], required: Iterable[str]):
    """The rows of a CSV as (line number, {column: cell}) with blank cells left out.

    Comma, semicolon (what a Spanish-locale spreadsheet writes) and tab are recognised; a BOM is
    skipped. Unknown or missing columns are an error before any row is read: a misspelt header
    would otherwise drop a column silently.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text (save it as CSV UTF-8).") from None
    header_line = text.partition("\n")[0]
    if not header_line.strip():
        raise ImportFileError("The file is empty: the first line names the columns.")
    # Only the delimiter is taken from the header: sniffing one line finds no "" in it and
    # would turn off quote doubling (RFC 4180, what spreadsheets write: "Tubo 1/2""").
    try:
        delimiter = csv.Sniffer().sniff(header_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    # Strict: a quote opened and never closed is an error, where the lenient reader took every
    # line after it into that one cell and reported the rows before it as the whole file.
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise ImportFileError(f"Line 1: {exc}.") from None
    known = set(columns)
    unknown = [name for name in header if name not in known and not _is_pattern(name, known)]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. Columns: {', '.join(sorted(known))}."
        )
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileError(f"Missing columns: {', '.join(missing)}.")
    if len(set(header)) != len(header):
        raise ImportFileError("A column is named twice.")
    reader.fieldnames = header

    def rows():
        # A row's own first line (a quoted cell may span lines; line_num is the last read).
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(
                    f"Line {start}: {exc}. A quoted cell is closed by its quote, and a quote "
                    'inside it is written twice ("Tubo 1/2"""). Nothing was imported.'
                ) from None
            line, start = start, reader.line_num + 1
            if None in row:
                yield line, None  # more cells than columns
                continue
            cells = {name: (value or "").strip() for name, value in row.items()}
            if any(cells.values()):
                yield line, {name: value for name, value in cells.items() if value}

    return rows()


def _is_pattern(name: str, known: set[str]) -> bool:
    """`stock:<PDV code>` style columns: the prefix is known, the suffix is data."""
    prefix, sep, suffix = name.partition(":")
    return bool(sep and suffix and f"{prefix}:*" in known)


def yes_no(value: str) -> str:
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return "true"
    if lowered in FALSE_WORDS:
        return "false"
    return value


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def _flatten(detail, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in _flatten(
                value, f"{prefix}{key}: " if key != "non_field_errors" else prefix
            )
        ]
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


def import_rows(
    *,
    company,
    rows,
    to_payload: Callable[[dict, Callable[[str], None]], dict],
    serializer_class: type[serializers.Serializer],
    create: Callable[[dict], object],
    dry_run: bool = False,
) -> ImportResult:
    """Map, validate and create each row in one transaction; roll it all back on any error
    (or on `dry_run`). Each row runs in a savepoint, so a refused row leaves the transaction
    usable and the rows after it are still checked — the operator gets every error at once.
    `to_payload(cells, warn)` may note what it changed with `warn(message)`."""
    result = ImportResult()
    with tenant_context(company), transaction.atomic():
        for line, cells in rows:
            result.rows += 1
            if cells is None:
                result.errors.append(RowError(line, "more cells than columns"))
                continue
            try:
                with transaction.atomic():
                    payload = to_payload(
                        cells,
                        lambda message, line=line: result.warnings.append(RowError(line, message)),
                    )
                    serializer = serializer_class(data=payload)
                    if not serializer.is_valid():
                        raise RowInvalid(serializer.errors)
                    result.created.append(create(serializer.validated_data))
            except RowInvalid as exc:
                result.errors.append(RowError(line, "; ".join(_flatten(exc.fields))))
            except ServiceError as exc:
                details = _flatten(exc.fields) if exc.fields else [exc.message]
                result.errors.append(RowError(line, "; ".join(details)))
            except DataError as exc:  # a value no check caught (the row's savepoint rolled back)
                result.errors.append(RowError(line, str(exc).splitlines()[0]))
        if result.errors or dry_run:
            transaction.set_rollback(True)
    return result


class ImportCommand(BaseCommand):
    """`manage.py import_<what> --company <id> FILE.csv [--dry-run]`: the shared command line.
    Subclasses give `import_file(company, path, dry_run) -> ImportResult`."""

    noun = "rows"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8; comma, semicolon or tab separated).")
        parser.add_argument("--company", required=True, help="The company's id.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row; write nothing."
        )

    def import_file(self, company, path: str, dry_run: bool) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, file, company, dry_run=False, **options):
        company = company_for_command(company)
        try:
            result = self.import_file(company, file, dry_run)
        except (ImportFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(str(warning)))
        for error in result.errors:
            self.stderr.write(str(error))

        if result.errors:
            raise CommandError(
                f"{len(result.errors)} of {result.rows} rows refused: nothing was imported."
            )
        if dry_run:
            self.stdout.write(f"{result.rows} {self.noun} are valid (dry run: nothing written).")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{len(result.created)} {self.noun} imported into {company}.")
            )


def company_for_command(value: str):
    """An operator's `--company <id>`: a clear error for a malformed or unknown id."""
    company_model = apps.get_model("accounts", "Company")
    try:
        company_id = uuid.UUID(str(value))
    except ValueError:
        raise CommandError(f"--company: not a company id: {value!r}") from None
    company = company_model.objects.filter(pk=company_id).first()
    if company is None:
        raise CommandError(f"No company {company_id}.")
    return company
