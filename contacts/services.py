"""Customers and suppliers."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Company
from ally360.exceptions import Conflict, PermissionDeniedError, ValidationFailed
from ally360.fiscal import FINAL_CONSUMER_ID, normalize_nit
from ally360.roles import SELLER
from ally360.services import delete_unless_used, ensure_tenant, model_update, unique_or_conflict
from files.services import record_attachments_forget

from .models import Contact, IdType, PersonType

NUMERIC_ID_TYPES = {IdType.CC, IdType.TI, IdType.RC, IdType.NUIP, IdType.NIT}
CONTACT_FIELDS = (
    "is_customer",
    "is_supplier",
    "person_type",
    "id_type",
    "id_number",
    "check_digit",
    "name",
    "trade_name",
    "email",
    "phones",
    "fiscal_responsibilities",
    "tax_regime",
    "addresses",
    "city",
    "payment_term_days",
    "credit_limit",
    "default_seller",
    "default_price_list",
    "notes",
    "is_active",
)


def contact_create_final_consumer(*, company: Company) -> Contact:
    """Company set-up step: the final consumer (222222222222) every POS sale defaults to."""
    return Contact.objects.create(
        id_type=IdType.CC,
        id_number=FINAL_CONSUMER_ID,
        name="Consumidor final",
        is_customer=True,
        is_final_consumer=True,
    )


def final_consumer() -> Contact:
    return Contact.objects.get(is_final_consumer=True)


def _normalized_identification(data: dict) -> dict:
    """Clean the number per type; compute or verify a NIT's check digit (python-stdnum)."""
    id_type = data["id_type"]
    number = (data.get("id_number") or "").strip().upper()
    if id_type == IdType.NIT:
        digits, check_digit = normalize_nit(number, data.get("check_digit"), field="id_number")
        return {"id_number": digits, "check_digit": check_digit}
    if data.get("check_digit"):
        message = _("Only a NIT has a check digit.")
        raise ValidationFailed(message, fields={"check_digit": [message]})
    number = number.replace(".", "").replace(" ", "").replace("-", "")
    if id_type in NUMERIC_ID_TYPES and not (number.isascii() and number.isdigit()):
        message = _("This identification type has digits only.")
        raise ValidationFailed(message, fields={"id_number": [message]})
    if id_type in NUMERIC_ID_TYPES:
        # A cédula has no leading zeros: a padded one (an import, a form) is the same person.
        number = number.lstrip("0")
    # ASCII only: "１２３４５６" (full-width digits) is alphanumeric too, and another number.
    if not (number.isascii() and number.isalnum()) or not 3 <= len(number) <= 20:
        message = _("Identification numbers have 3 to 20 letters or digits.")
        raise ValidationFailed(message, fields={"id_number": [message]})
    return {"id_number": number, "check_digit": ""}


def _validate(data: dict, *, final_consumer: bool = False) -> dict:
    data = dict(data)
    ensure_tenant(data.get("default_seller"), field="default_seller")
    ensure_tenant(data.get("default_price_list"), field="default_price_list")
    data.update(_normalized_identification(data))
    if data["id_number"] == FINAL_CONSUMER_ID and not final_consumer:
        message = _("222222222222 is reserved for the final consumer.")
        raise ValidationFailed(message, fields={"id_number": [message]})
    if data.get("person_type") == PersonType.LEGAL and data["id_type"] not in (
        IdType.NIT,
        IdType.FOREIGN_NIT,
    ):
        message = _("A legal entity is identified by a NIT.")
        raise ValidationFailed(message, fields={"id_type": [message]})
    if not (data.get("is_customer", True) or data.get("is_supplier", False)):
        message = _("A contact is a customer, a supplier or both.")
        raise ValidationFailed(message, fields={"is_customer": [message]})
    if "fiscal_responsibilities" in data:
        data["fiscal_responsibilities"] = sorted(set(data["fiscal_responsibilities"]))
    if "addresses" in data:
        data["city"] = data["addresses"][0].get("city", "") if data["addresses"] else ""
    return data


def _duplicate_check(data: dict, exclude_id=None) -> str:
    label = IdType(data["id_type"]).label
    message = _("A contact with %(type)s %(number)s already exists.") % {
        "type": label,
        "number": data["id_number"],
    }
    exists = Contact.objects.filter(id_type=data["id_type"], id_number=data["id_number"]).exclude(
        pk=exclude_id
    )
    if exists.exists():
        raise Conflict(message, code="duplicate", fields={"id_number": [message]})
    return message


# A customer's commercial terms: what a seller may not grant (credit_limit 0 means no limit).
CREDIT_TERMS = ("payment_term_days", "credit_limit", "default_price_list")


def _check_credit_terms(role: str, data: dict, current: dict) -> None:
    """Sellers keep customers' terms as they are (a new customer's are the defaults): credit
    and price lists are for owners, admins and accountants. Nor do they deactivate a contact:
    that is the office's, as deleting one (the pages give them no such field)."""
    if role != SELLER:
        return
    changed = [field for field in CREDIT_TERMS if field in data and data[field] != current[field]]
    if changed:
        message = _("Sellers do not change a customer's credit, payment term or price list.")
        raise PermissionDeniedError(
            message, code="credit_terms_not_allowed", fields={f: [message] for f in changed}
        )
    if "is_active" in data and data["is_active"] != current["is_active"]:
        message = _("Sellers do not deactivate or reactivate contacts.")
        raise PermissionDeniedError(
            message, code="activation_not_allowed", fields={"is_active": [message]}
        )


@transaction.atomic
def contact_create(*, role: str, **data) -> Contact:
    _check_credit_terms(
        role,
        data,
        {
            field: Contact._meta.get_field(field).get_default()
            for field in (*CREDIT_TERMS, "is_active")
        },
    )
    data = _validate(data)
    message = _duplicate_check(data)
    with unique_or_conflict(message, field="id_number"):
        return Contact.objects.create(**data)


@transaction.atomic
def contact_update(*, contact: Contact, role: str, data: dict) -> Contact:
    merged = {field: getattr(contact, field) for field in CONTACT_FIELDS}
    _check_credit_terms(role, data, merged)
    if "id_type" in data or "id_number" in data:
        merged["check_digit"] = ""  # computed again for the new number unless given
    merged.update(data)
    if contact.is_final_consumer:
        locked = (
            "id_type",
            "id_number",
            "check_digit",
            "is_active",
            "is_customer",
            "is_supplier",
            "person_type",
        )
        if any(merged[field] != getattr(contact, field) for field in locked):
            raise Conflict(
                _(
                    "The final consumer keeps its identification, stays an active customer "
                    "(not a supplier) and a natural person."
                ),
                code="final_consumer",
            )
        merged = _validate(merged, final_consumer=True)  # the rest as any contact's
    else:
        merged = _validate(merged)
        _duplicate_check(merged, exclude_id=contact.pk)
    with unique_or_conflict(
        _("A contact with this identification already exists."), field="id_number"
    ):
        model_update(contact, merged, CONTACT_FIELDS)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    if contact.is_final_consumer:
        raise Conflict(_("The final consumer cannot be deleted."), code="final_consumer")
    record_id = contact.pk  # delete() empties it
    delete_unless_used(
        contact,
        message=_(
            "This contact appears on documents and cannot be deleted: deactivate it instead "
            "(is_active: false)."
        ),
    )
    record_attachments_forget(module="contacts", record_id=record_id)
