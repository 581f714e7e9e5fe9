"""Points of sale and sellers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Company, Membership
from ally360.db import serialize_in_tenant
from ally360.exceptions import Conflict, NotFound, PermissionDeniedError, ValidationFailed
from ally360.formatting import shown_amount, shown_quantity
from ally360.money import DRAWER_CASH, money
from ally360.roles import has_permission
from ally360.services import delete_unless_used, model_update, unique_or_conflict
from ally360.tenancy import require_tenant_id

from .models import PDV, CashMovement, CashRegister, PDVAccess, Seller, Shift

PDV_FIELDS = ("name", "code", "address", "city", "phone", "is_active")
SELLER_FIELDS = ("name", "identification", "email", "phone", "commission_pct", "user", "is_active")


def pdv_create_main(*, company: Company) -> PDV:
    """Company set-up step: every company starts with its main point of sale."""
    return PDV.objects.create(name="Principal", code="PRINCIPAL", city=company.city, is_main=True)


def _normalized_code(code: str) -> str:
    """The code as stored: upper-cased, which may lengthen it ("ß" → "SS")."""
    code = code.strip().upper()
    limit = PDV._meta.get_field("code").max_length
    if len(code) > limit:
        message = _("A code has at most %(limit)s characters.") % {"limit": limit}
        raise ValidationFailed(message, fields={"code": [message]})
    return code


def _code_taken(code: str, exclude_id=None) -> bool:
    return PDV.objects.filter(code__iexact=code).exclude(id=exclude_id).exists()


def require_pdv_moves_stock(pdv: PDV, message: str) -> None:
    """`active_pdvs_taking_stock` for one point of sale whose stock a document moves: a closed
    one is a 409 `pdv_inactive` saying `message`."""
    if not active_pdvs_taking_stock([pdv.pk]).get(pdv.pk, False):
        raise Conflict(message, code="pdv_inactive")


def active_pdvs_taking_stock(pdv_ids) -> dict:
    """{id: is_active} of these points of sale, read under a shared row lock (FOR SHARE, in
    key order) until the transaction ends: for a document bringing stock in (a receipt, a
    transfer, a count, a return, initial stock) or opening a shift there. Such documents run
    side by side; closing a point of sale (`pdv_update`, which locks the row exclusively)
    waits for them and then sees their stock and shifts, or they wait for it and see it closed.
    A point of sale deleted meanwhile is missing from the answer. SQLite writes one
    transaction at a time: a plain read."""
    ids = sorted(set(pdv_ids))
    if not ids:
        return {}
    connection = connections[PDV.objects.db]
    if connection.vendor != "postgresql":
        return dict(PDV.objects.filter(pk__in=ids).values_list("pk", "is_active"))
    with connection.cursor() as cursor:
        # Raw SQL for FOR SHARE (Django's select_for_update has no shared mode); row-level
        # security keeps it to the current company.
        cursor.execute(
            "SELECT id, is_active FROM pos_pdv WHERE id = ANY(%s) ORDER BY id FOR SHARE", [ids]
        )
        return {row[0]: row[1] for row in cursor.fetchall()}


def _switches_take_turns() -> None:
    """Changes to which point of sale is main or open take turns first, so the main one a
    change locks is still the main one when it writes: two switches never lock past each
    other."""
    serialize_in_tenant("points_of_sale")


def _lock_for_switch(pdv: PDV) -> PDV:
    """This point of sale and the current main one, locked exclusively in key order (the order
    documents take their shared locks in), and this one read as it is now."""
    _switches_take_turns()
    rows = {
        row.pk: row
        for row in PDV.objects.select_for_update(no_key=True)
        .filter(Q(pk=pdv.pk) | Q(is_main=True))
        .order_by("pk")
    }
    if pdv.pk not in rows:
        raise NotFound(_("Point of sale not found."), code="not_found")
    return rows[pdv.pk]


def _make_main(pdv: PDV) -> None:
    # The current main was locked with this one (`_lock_for_switch`), so two concurrent
    # switches cannot both win.
    for current in PDV.objects.filter(is_main=True).exclude(id=pdv.id):
        current.is_main = False
        current.save(update_fields=["is_main", "updated_at"])
    pdv.is_main = True
    pdv.is_active = True
    pdv.save(update_fields=["is_main", "is_active", "updated_at"])


@transaction.atomic
def pdv_create(
    *, name: str, code: str, is_main: bool = False, allowed_users: list | None = None, **fields
) -> PDV:
    if allowed_users is not None:
        _require_members(allowed_users)
    code = _normalized_code(code)
    message = _("A point of sale with code %(code)s already exists.") % {"code": code}
    if _code_taken(code):
        raise Conflict(message, code="duplicate", fields={"code": [message]})
    _switches_take_turns()
    with unique_or_conflict(message, field="code"):
        pdv = PDV.objects.create(name=name, code=code, **fields)
    if is_main or not PDV.objects.filter(is_main=True).exists():
        _lock_for_switch(pdv)  # the current main, in key order
        _make_main(pdv)
    if allowed_users is not None:
        _replace_access(pdv, allowed_users)
    return pdv


@transaction.atomic
def pdv_update(*, pdv: PDV, data: dict) -> PDV:
    data = dict(data)
    allowed_users = data.pop("allowed_users", None)
    if allowed_users is not None:
        _require_members(allowed_users)  # a bad input is a 400 before any business rule
    if "code" in data:
        data["code"] = _normalized_code(data["code"])
        message = _("A point of sale with code %(code)s already exists.") % {"code": data["code"]}
        if _code_taken(data["code"], exclude_id=pdv.id):
            raise Conflict(message, code="duplicate", fields={"code": [message]})
    is_main = data.pop("is_main", None)
    if is_main is not None or data.get("is_active") is False:
        # Which point of sale is main, and which are open, is decided on the rows as they are
        # now: locked exclusively, so documents bringing stock in (shared locks) finish first
        # and are counted below, or wait and then find it closed.
        pdv = _lock_for_switch(pdv)
    if pdv.is_main and (is_main is False or data.get("is_active") is False):
        raise Conflict(
            _("This is the main point of sale: make another one main first."), code="main_pdv"
        )
    if data.get("is_active") is False and pdv.is_active:
        if Shift.objects.filter(register__pdv=pdv, status=Shift.Status.OPEN).exists():
            raise Conflict(
                _("A shift is open at %(pdv)s: close it before closing the point of sale.")
                % {"pdv": pdv.name},
                code="shift_open",
            )
        # An inactive point of sale takes no transfers or counts: stock left there could
        # never be moved or counted out, yet would still count in the catalog's totals.
        held = pdv.stock_levels.exclude(quantity=0).count()
        if held:
            raise Conflict(
                _(
                    "%(pdv)s still holds stock of %(count)s items: transfer it out or count it "
                    "out before closing it."
                )
                % {"pdv": pdv.name, "count": shown_quantity(held)},
                code="pdv_has_stock",
            )
    with unique_or_conflict(_("A point of sale with this code already exists."), field="code"):
        model_update(pdv, data, PDV_FIELDS)
    if is_main and not pdv.is_main:
        _make_main(pdv)
    if allowed_users is not None:
        _replace_access(pdv, allowed_users)
    return pdv


@transaction.atomic
def pdv_delete(*, pdv: PDV) -> None:
    pdv = _lock_for_switch(pdv)  # made main meanwhile: it stays
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
    if not Membership.objects.filter(
        company_id=require_tenant_id(), user=user, is_active=True
    ).exists():
        message = _("This user is not an active member of the company.")

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


# --- who may sell where ------------------------------------------------------------------------


@transaction.atomic
def _require_members(users: list) -> None:
    members = set(
        Membership.objects.filter(
            company_id=require_tenant_id(), user__in=users, is_active=True
        ).values_list("user_id", flat=True)
    )
    if any(user.pk not in members for user in users):
        message = _("Only active members of the company can be allowed at a point of sale.")
        raise ValidationFailed(message, fields={"allowed_users": [message]})


def _replace_access(pdv: PDV, users: list) -> PDV:
    """Restrict a PDV to these users (an empty list opens it to every member again)."""
    users = list({user.pk: user for user in users}.values())  # a user named twice, once
    if users:
        _refuse_shutting_out_open_shifts(pdv, users)
    PDVAccess.objects.filter(pdv=pdv).exclude(user__in=users).delete()
    existing = set(PDVAccess.objects.filter(pdv=pdv).values_list("user_id", flat=True))

    PDVAccess.objects.bulk_create(
        [PDVAccess(pdv=pdv, user=user) for user in users if user.pk not in existing]
    )
    return pdv


def _refuse_shutting_out_open_shifts(pdv: PDV, users: list) -> None:
    """Access is checked when a shift opens: a cashier left out while their shift is open here
    would go on selling, so their shift is closed first (owners and admins are always in)."""
    managers = Membership.objects.filter(
        company_id=require_tenant_id(), is_active=True, role__in=("owner", "admin")
    ).values("user_id")
    members = Membership.objects.filter(company_id=require_tenant_id(), is_active=True).values(
        "user_id"
    )
    left_out = (
        Shift.objects.filter(register__pdv=pdv, status=Shift.Status.OPEN, user_id__in=members)
        .exclude(user__in=users)
        .exclude(user_id__in=managers)
        .select_related("user")
    )  # (a suspended member's open shift cannot sell anyway: it does not hold the list back)
    names = sorted(shift.user.email for shift in left_out)
    if names:
        raise Conflict(
            _("Close the open shifts of these cashiers before leaving them out: %(users)s.")
            % {"users": ", ".join(names)},
            code="shift_open",
        )


def check_sells_at(*, user, role: str, pdv: PDV) -> None:
    """A point of sale that names who sells there (`allowed_users`) is closed to the others:
    for shifts and for invoices alike (owners and admins sell anywhere)."""
    if has_permission(role, "shifts", "manage_any"):
        return
    access = PDVAccess.objects.filter(pdv=pdv)
    if access.exists() and not access.filter(user=user).exists():
        raise PermissionDeniedError(
            _("You are not allowed to sell at %(pdv)s.") % {"pdv": pdv.name},
            code="pdv_not_allowed",
        )


# --- cash registers ----------------------------------------------------------------------------


@transaction.atomic
def cash_register_create(*, pdv: PDV, name: str, is_active: bool = True) -> CashRegister:
    from ally360.services import ensure_tenant

    ensure_tenant(pdv, field="pdv")
    message = _("This point of sale already has a register named %(name)s.") % {"name": name}
    if CashRegister.objects.filter(pdv=pdv, name__iexact=name).exists():
        raise Conflict(message, code="duplicate", fields={"name": [message]})
    with unique_or_conflict(message, field="name"):
        return CashRegister.objects.create(pdv=pdv, name=name, is_active=is_active)


@transaction.atomic
def cash_register_update(*, register: CashRegister, data: dict) -> CashRegister:
    # Locked, as opening a shift locks it: a shift opened meanwhile is seen (or sees it closed).
    register = CashRegister.objects.select_for_update(no_key=True).get(pk=register.pk)
    if data.get("is_active") is False and register.shifts.filter(status=Shift.Status.OPEN).exists():
        raise Conflict(
            _("Close the open shift before deactivating the register."), code="shift_open"
        )
    with unique_or_conflict(
        _("This point of sale already has a register with this name."), field="name"
    ):
        model_update(register, data, ("name", "is_active"))
    return register


def cash_register_delete(*, register: CashRegister) -> None:
    delete_unless_used(
        register, message=_("This register has shifts: deactivate it instead of deleting it.")
    )


# --- shifts ------------------------------------------------------------------------------------


def shift_open_for_user(user) -> Shift | None:
    """The user's open shift, its row locked until the transaction ends: money recorded in it
    (a sale, a cash payment, a refund) waits for a close in progress and then finds the shift
    closed, instead of landing in a drawer already counted."""
    return (
        Shift.objects.select_related("register", "register__pdv")
        .select_for_update(of=("self",))
        .filter(user=user, status=Shift.Status.OPEN)
        .first()
    )


def shift_open_for_money(user) -> Shift | None:
    """`shift_open_for_user` for money taken outside a sale (a cash payment, a cash refund),
    which goes on without a shift when the user has none: a shift that a close finished while
    this waited for its lock is refused (`no_open_shift`), not taken for no shift at all (its
    cash would then be in no drawer's count)."""
    seen = (
        Shift.objects.filter(user=user, status=Shift.Status.OPEN)
        .values_list("pk", flat=True)
        .first()
    )
    if seen is None:
        return None
    shift = (
        Shift.objects.select_related("register", "register__pdv")
        .select_for_update(of=("self",))
        .get(pk=seen)
    )
    if shift.status != Shift.Status.OPEN:
        raise Conflict(
            _("Your shift was closed meanwhile: open a new one to take money."),
            code="no_open_shift",
        )
    return shift


def shift_check_actor(*, shift: Shift, user, role: str) -> None:
    """Sellers act on their own shift; owners and admins on any."""
    if shift.user_id != user.pk and not has_permission(role, "shifts", "manage_any"):
        raise PermissionDeniedError(_("This is another cashier's shift."), code="not_your_shift")


@transaction.atomic
def shift_open(*, register: CashRegister, user, role: str, opening_cash, notes: str = "") -> Shift:
    from ally360.services import ensure_tenant

    ensure_tenant(register, field="register")
    register = (
        CashRegister.objects.select_related("pdv")
        .select_for_update(no_key=True, of=("self",))
        .get(pk=register.pk)
    )
    # Under the shared lock a closing of the point of sale waits for (and then sees this shift).
    pdv_open = active_pdvs_taking_stock([register.pdv_id]).get(register.pdv_id, False)
    if not (register.is_active and pdv_open):
        message = _("This register or its point of sale is inactive.")
        raise ValidationFailed(message, fields={"register": [message]})
    check_sells_at(user=user, role=role, pdv=register.pdv)
    _check_drawer_amount(opening_cash, "opening_cash")
    if Shift.objects.filter(register=register, status=Shift.Status.OPEN).exists():
        raise Conflict(_("This register already has an open shift."), code="shift_already_open")
    if Shift.objects.filter(user=user, status=Shift.Status.OPEN).exists():
        raise Conflict(_("You already have an open shift: close it first."), code="user_shift_open")
    with unique_or_conflict(
        _("This register or cashier already has an open shift."), code="shift_already_open"
    ):
        return Shift.objects.create(
            register=register, user=user, opening_cash=money(opening_cash), notes=notes
        )


# What a drawer takes in at once (`DRAWER_CASH`): the shift's expected cash must hold the sum.
DRAWER_LIMIT = Decimal(10) ** (DRAWER_CASH["max_digits"] - DRAWER_CASH["decimal_places"])


def _check_drawer_amount(amount: Decimal, field: str) -> None:
    if money(amount) >= DRAWER_LIMIT:
        message = _("At most %(digits)s digits before the decimals.") % {
            "digits": DRAWER_CASH["max_digits"] - DRAWER_CASH["decimal_places"]
        }
        raise ValidationFailed(message, fields={field: [message]})


def check_drawer_holds(amount: Decimal, in_drawer: Decimal) -> None:
    """Cash taken out of a drawer (a cash out, a cash refund) is at most what it holds."""
    if amount > in_drawer:
        raise Conflict(
            _("The drawer holds %(cash)s in cash: %(amount)s cannot come out of it.")
            % {"cash": shown_amount(in_drawer), "amount": shown_amount(amount)},
            code="not_enough_cash",
            extra={"in_drawer": str(in_drawer)},
        )


@transaction.atomic
def shift_cash_movement(
    *,
    shift: Shift,
    user,
    role: str,
    kind: str,
    amount,
    reason: str,
    cash_in_drawer: Callable[[Shift], Decimal],
) -> CashMovement:
    """Cash put into or taken out of an open shift's drawer, with a reason. `cash_in_drawer`
    tells what the drawer holds (sales are the invoices app's, above this one); a cash out is
    at most that, counted under the shift's lock."""
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    shift_check_actor(shift=shift, user=user, role=role)
    if shift.status != Shift.Status.OPEN:
        raise Conflict(_("This shift is closed."), code="shift_closed")
    if not reason.strip():
        raise ValidationFailed(
            _("Give the reason."), fields={"reason": [_("This field is required.")]}
        )
    _check_drawer_amount(amount, "amount")
    if kind == CashMovement.Kind.OUT:
        check_drawer_holds(money(amount), cash_in_drawer(shift))
    return CashMovement.objects.create(
        shift=shift, kind=kind, amount=money(amount), reason=reason.strip(), user=user
    )


def shift_get(*, pk) -> Shift:
    shift = Shift.objects.filter(pk=pk).first()
    if shift is None:
        raise NotFound(_("Shift not found."))
    return shift
