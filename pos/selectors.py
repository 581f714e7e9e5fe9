"""Point-of-sale reads for the pages: the cashier's open shift, registers free to open, the
shifts a role may read."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from ally360.roles import Role

from .models import CashRegister, Shift


def open_shift_of(user) -> Shift | None:
    """The user's open shift, read without a lock (a page shows it; the services lock it when
    money moves)."""
    return (
        Shift.objects.select_related("register", "register__pdv")
        .filter(user=user, status=Shift.Status.OPEN)
        .first()
    )


def registers_to_open() -> QuerySet[CashRegister]:
    """Active registers of active points of sale with no open shift; the shift-open service
    still decides (who may sell where, races)."""
    busy = Shift.objects.filter(register=OuterRef("pk"), status=Shift.Status.OPEN)
    return (
        CashRegister.objects.filter(is_active=True, pdv__is_active=True)
        .exclude(Exists(busy))
        .select_related("pdv")
        .order_by("pdv__name", "name", "id")
    )


def shifts_visible_to(user, role: str) -> QuerySet[Shift]:
    """Sellers read their own shifts; every other role every shift (owners and admins manage
    them, accountants and viewers read them): the API's and the pages' one rule."""
    shifts = Shift.objects.all()
    if role == Role.SELLER:
        shifts = shifts.filter(user=user)
    return shifts
