"""A DIAN range deleted while a sale takes its first number (threads on PostgreSQL)."""

import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from ally360.exceptions import Conflict
from ally360.tenancy import tenant_context
from conftest import start_thread
from invoices.models import NumberingRange
from invoices.services import number_take, numbering_range_delete


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_range_whose_first_number_a_sale_takes_meanwhile_is_not_deleted(shop_a):
    """The deletion read the range unused; the sale commits its first number first: the
    deletion waits for it, sees the number taken and refuses (409 `in_use`)."""
    company, pdv = shop_a.company, shop_a.pdv
    with tenant_context(company):
        stale = NumberingRange.objects.get(pdv=pdv, document_type="pos", is_active=True)
    assert stale.next_number == stale.range_from
    taken, box = threading.Event(), {}

    def sell():
        with tenant_context(company), transaction.atomic():
            number = number_take(pdv=pdv, document_type="pos", on_date=timezone.localdate())
            taken.set()
            time.sleep(1.5)
        return number.number

    def delete():
        assert taken.wait(10)
        with tenant_context(company), transaction.atomic():
            numbering_range_delete(numbering=stale)
        return "deleted"

    first, second = start_thread(sell, box, "sell"), start_thread(delete, box, "delete")
    first.join(30)
    second.join(30)
    assert box["sell"] == stale.range_from, box
    assert isinstance(box["delete"], Conflict) and box["delete"].code == "in_use", box
    with tenant_context(company):
        assert NumberingRange.objects.filter(pk=stale.pk).exists()
