"""Customers and suppliers from a spreadsheet (`manage.py import_contacts`)."""

from django.utils.translation import gettext as _

from ally360.imports import ImportResult, RowInvalid, import_rows, read_csv, split_list, yes_no
from ally360.roles import OWNER

from . import services
from .api import ContactInputSerializer
from .models import IdType

COLUMNS = (
    "name",
    "id_type",
    "id_number",
    "check_digit",
    "person_type",
    "trade_name",
    "email",
    "phones",
    "is_customer",
    "is_supplier",
    "fiscal_responsibilities",
    "tax_regime",
    "address",
    "city",
    "department",
    "dane_code",
    "payment_term_days",
    "credit_limit",
    "notes",
)
REQUIRED = ("name", "id_type", "id_number")
ADDRESS_COLUMNS = {
    "address": "line",
    "city": "city",
    "department": "department",
    "dane_code": "dane_code",
}
# A spreadsheet says "NIT" or "CC"; the API takes the DIAN code ("31", "13"). Both are read.
ID_TYPES = {choice.name: choice.value for choice in IdType} | {"NIT_EXTRANJERO": IdType.FOREIGN_NIT}


def contact_payload(cells: dict, warn) -> dict:

    payload = {column: value for column, value in cells.items() if column not in ADDRESS_COLUMNS}
    if "id_type" in payload:
        id_type = payload["id_type"]
        payload["id_type"] = ID_TYPES.get(id_type.upper().replace(" ", "_"), id_type)

    for column in ("is_customer", "is_supplier"):
        if column in payload:
            payload[column] = yes_no(payload[column])
    for column in ("phones", "fiscal_responsibilities"):
        if column in payload:
            payload[column] = split_list(payload[column])
    address = {key: cells[column] for column, key in ADDRESS_COLUMNS.items() if column in cells}
    if address:
        # Named as the spreadsheet's columns: the API would say "addresses: 0: line".
        missing = [column for column in ("address", "city") if column not in cells]
        if missing:
            message = _("An address needs both its address and city columns.")
            raise RowInvalid({column: [message] for column in missing})
        payload["addresses"] = [address]
    return payload


def contacts_import(*, company, path: str, dry_run: bool = False) -> ImportResult:
    return import_rows(
        company=company,
        rows=read_csv(path, columns=COLUMNS, required=REQUIRED),
        to_payload=contact_payload,
        serializer_class=ContactInputSerializer,
        create=lambda data: services.contact_create(role=OWNER, **data),
        dry_run=dry_run,
    )
