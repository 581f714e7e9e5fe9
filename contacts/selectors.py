"""Contact reads shared by the documents that show a customer or supplier."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Contact


def contact_refs() -> QuerySet[Contact]:
    """Contacts as shown inside a document (`ContactRefSerializer`): just the columns it reads,
    not the addresses, phones and fiscal responsibilities every full row would decode."""
    return Contact.objects.only("id", "name", "id_number", "check_digit")
