"""Points of sale and sellers."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Company, Membership
from ally360.exceptions import Conflict, ValidationFailed
from ally360.services import delete_unless_used, model_update, unique_or_conflict
from ally360.tenancy import require_tenant_id

from .models import PDV, Seller

PDV_FIELDS = ("name", "code", "address", "city", "phone", "is_active")
SELLER_FIELDS = ("name", "identification", "email", "phone", "commission_pct", "user", "is_active")


def pdv_create_main(*, company: Company) -> PDV:
    """Company set-up step: every company starts with its main point of sale."""
    return PDV.objects.create(name="Principal", code="PRINCIPAL", city=company.city, is_main=True)


def _code_taken(code: str, exclude_id=None) -> bool:
    return PDV.objects.filter(code__iexact=code).exclude(id=exclude_id).exists()


def _make_main(pdv: PDV) -> None:
    # Lock the current main first so two concurrent switches cannot both win.
    for current in PDV.objects.select_for_update().filter(is_main=True).exclude(id=pdv.id):
        current.is_main = False
        current.save(update_fields=["is_main", "updated_at"])
    pdv.is_main = True
    pdv.is_active = True
    pdv.save(update_fields=["is_main", "is_active", "updated_at"])


@transaction.atomic
def pdv_create(*, name: str, code: str, is_main: bool = False, **fields) -> PDV:
    code = code.strip().upper()
    message = _("A point of sale with code %(code)s already exists.") % {"code": code}
    if _code_taken(code):
        raise Conflict(message, code="duplicate", fields={"code": [message]})
    with unique_or_conflict(message, field="code"):
        pdv = PDV.objects.create(name=name, code=code, **fields)
    if is_main or not PDV.objects.filter(is_main=True).exists():
        _make_main(pdv)
    return pdv


@transaction.atomic
def pdv_update(*, pdv: PDV, data: dict) -> PDV:
    data = dict(data)
    if "code" in data:
        data["code"] = data["code"].strip().upper()
        message = _("A point of sale with code %(code)s already exists.") % {"code": data["code"]}
        if _code_taken(data["code"], exclude_id=pdv.id):
            raise Conflict(message, code="duplicate", fields={"code": [message]})
    is_main = data.pop("is_main", None)
    if pdv.is_main and (is_main is False or data.get("is_active") is False):
        raise Conflict(
            _("This is the main point of sale: make another one main first."), code="main_pdv"
        )
    with unique_or_conflict(_("A point of sale with this code already exists."), field="code"):
        model_update(pdv, data, PDV_FIELDS)
    if is_main and not pdv.is_main:
        _make_main(pdv)
    return pdv


@transaction.atomic
def pdv_delete(*, pdv: PDV) -> None:
    if pdv.is_main:
        raise Conflict(
            _("The main point of sale cannot be deleted: make another one main first."),
            code="main_pdv",
        )
    delete_unless_used(
        pdv,
        message=_(
            "This point of sale holds stock or documents: deactivate it instead of deleting it."
        ),
    )


def _check_seller_user(user) -> None:
    if user is None:
        return
    if not Membership.objects.filter(company_id=require_tenant_id(), user=user).exists():
        message = _("This user is not a member of the company.")
        raise ValidationFailed(message, fields={"user": [message]})


@transaction.atomic
def seller_create(*, name: str, user=None, **fields) -> Seller:
    _check_seller_user(user)
    with unique_or_conflict(_("This user is already linked to a seller."), field="user"):
        return Seller.objects.create(name=name, user=user, **fields)


@transaction.atomic
def seller_update(*, seller: Seller, data: dict) -> Seller:
    if "user" in data:
        _check_seller_user(data["user"])
    with unique_or_conflict(_("This user is already linked to a seller."), field="user"):
        model_update(seller, data, SELLER_FIELDS)
    return seller


@transaction.atomic
def seller_delete(*, seller: Seller) -> None:
    delete_unless_used(
        seller, message=_("This seller appears on documents: deactivate it instead of deleting it.")
    )
