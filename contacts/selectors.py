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
    numbers = identification_numbers(value)
    found = list(customers.filter(id_number__in=numbers).order_by("name", "id")[:10])
    # A NIT typed with its check digit names the NIT before any other type's whole number.
    first = next((number for number in numbers if any(c.id_number == number for c in found)), "")
    found = [contact for contact in found if contact.id_number == first][:5]
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def identification_numbers(typed: str) -> list[str]:
    """The numbers an identification typed as people write it may be stored as, the likelier
    first, cleaned as `services._normalized_identification` cleans them: without dots and
    spaces, upper-cased; a NIT without its check digit after the last dash and without leading
    zeros; another type without dashes (`E-123456` is `E123456`), as typed and, when all
    digits, without leading zeros."""
    compact = typed.replace(".", "").replace(" ", "").upper()
    numbers = []
    before, dash, check_digit = compact.rpartition("-")
    if dash and len(check_digit) == 1:  # a NIT's check digit (typed in dash groups too)
        nit = before.replace("-", "")
        numbers.append(nit.lstrip("0") if nit.isdigit() else nit)
    whole = compact.replace("-", "")
    # Stored as typed for the alphanumeric types (a CE of "0123456"), without zeros for the
    # digits-only ones.
    numbers += [whole, whole.lstrip("0")] if whole.isdigit() else [whole]
    return [number for number in dict.fromkeys(numbers) if number]


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
    return contacts.filter(
        Q(name__icontains=query)
        | Q(trade_name__icontains=query)
        | Q(id_number__in=identification_numbers(query))
    )
