"""Price lists deleted twice at once (threads on PostgreSQL)."""

import threading
import time

import pytest
from django.db import transaction

from ally360.exceptions import ServiceError
from ally360.tenancy import tenant_context
from conftest import start_thread
from products.models import PriceList


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_price_list_deleted_twice_at_once_is_a_404_not_a_500(company_a):
    """Two DELETEs of one list at once (a double click): the second finds it gone, a 404."""
    from products.services import price_list_create, price_list_delete

    with tenant_context(company_a):
        plist = price_list_create(name="Mayorista")
    deleting, box = threading.Event(), {}

    def first():
        with tenant_context(company_a), transaction.atomic():
            price_list_delete(price_list=PriceList.objects.get(pk=plist.pk))
            deleting.set()
            time.sleep(1.0)
        return "deleted"

    def second():
        deleting.wait(10)
        with tenant_context(company_a), transaction.atomic():
            price_list_delete(price_list=plist)  # loaded by the view before the first commit
        return "deleted"

    one = start_thread(first, box, "first")
    two = start_thread(second, box, "second")
    one.join(30)
    two.join(30)
    assert box["first"] == "deleted"
    assert box["second"] == "deleted" or isinstance(box["second"], ServiceError), repr(
        box["second"]
    )
