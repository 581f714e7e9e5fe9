"""A bill received against the close of its point of sale (threads on PostgreSQL)."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import transaction

from ally360.tenancy import tenant_context
from conftest import start_thread
from contacts.models import Contact
from inventory.models import Stock
from pos.models import PDV
from products.models import Variant


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bill_received_while_its_pdv_closes_leaves_no_stock_in_a_closed_pdv(
    owner_a, company_a, make_product
):
    """A bill received into Norte while Norte is closed: one waits for the other, so a closed
    point of sale never holds the goods."""
    from bills.services import bill_create, bill_issue
    from pos.services import pdv_create, pdv_update

    product = make_product(company_a, sku="BILL-RACE")
    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
        variant = Variant.objects.get(product=product)
        supplier = Contact.objects.create(
            id_type="31",
            id_number="800197268",
            check_digit="4",
            name="Proveedor",
            is_supplier=True,
            is_customer=False,
            person_type="legal",
        )
        bill = bill_create(
            user=owner_a.user,
            supplier=supplier,
            pdv=norte,
            supplier_invoice_number="F-1",
            lines=[{"variant": variant, "quantity": Decimal("4"), "unit_cost": Decimal("100")}],
        )
    received, box = threading.Event(), {}

    def receive():
        with tenant_context(company_a), transaction.atomic():
            bill_issue(bill=bill, user=owner_a.user)
            received.set()
            time.sleep(1.5)
        return "received"

    def close():
        received.wait(10)
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=norte.pk), data={"is_active": False})
        return "closed"

    first = start_thread(receive, box, "receive")
    second = start_thread(close, box, "close")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        closed = not PDV.objects.get(pk=norte.pk).is_active
        held = sum(s.quantity for s in Stock.objects.filter(pdv=norte))
    assert not (closed and held), f"closed PDV holds {held}: {box}"
