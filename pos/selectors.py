"""Point-of-sale reads for the pages: the cashier's open shift, registers free to open, the
shifts a role may read."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from ally360.roles import has_permission

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
    """Sellers (any role without `shifts.manage_any`) read their own shifts; owners and admins
    every shift."""
    shifts = Shift.objects.all()
    if not has_permission(role, "shifts", "manage_any"):
        shifts = shifts.filter(user=user)
    return shifts
