"""Contact reads."""

from __future__ import annotations

import uuid

from django.db.models import Q

from .models import Contact


def customer_by_reference(value: str) -> Contact | None | list[Contact]:
    """The active customer a cashier names by id (UUID) or by identification number (the
    NIT's check digit, dots and spaces ignored). None when there is none; a list when the
    number names several (one per identification type)."""
    value = (value or "").strip()
    if not value:
        return None
    customers = Contact.objects.filter(is_customer=True, is_active=True)
    try:
        return customers.filter(pk=uuid.UUID(value)).first()
    except ValueError:
        pass
    number = value.replace(".", "").replace(" ", "").upper()
    if "-" in number:
        number = number.split("-", 1)[0]
    found = list(customers.filter(Q(id_number=number)).order_by("name", "id")[:5])
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def customer_search(query: str = ""):
    """The company's customers by name, the final consumer first: `query` matches the name or
    trade name (in part) or the identification number (whole, dots and check digit ignored)."""
    customers = _matching(Contact.objects.filter(is_customer=True), query)
    return customers.order_by("-is_final_consumer", "name", "id")


def supplier_search(query: str = ""):
    """The company's suppliers by name, searched as `customer_search` searches customers."""
    return _matching(Contact.objects.filter(is_supplier=True), query).order_by("name", "id")


def _matching(contacts, query: str):
    query = query.strip()
    if not query:
        return contacts
    number = query.replace(".", "").replace(" ", "").split("-", 1)[0].upper()
    return contacts.filter(
        Q(name__icontains=query) | Q(trade_name__icontains=query) | Q(id_number=number)
    )
