"""A void against the close of its point of sale (threads on PostgreSQL)."""

import threading
import time

import pytest
from django.db import transaction

from ally360.tenancy import tenant_context
from conftest import start_thread
from contacts.models import Contact
from inventory.models import Stock
from invoices.models import Invoice
from pos.models import PDV

URL = "/api/v1/invoices/"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_void_racing_the_close_of_its_pdv_leaves_no_stock_in_a_closed_pdv(
    owner_a, company_a, make_product
):
    """A void bringing goods back to Norte while Norte is closed: the close sees the goods
    (409 `pdv_has_stock`) or the void sees Norte closed (409 `pdv_inactive`); never a closed
    PDV holding stock."""
    from invoices.services import invoice_void
    from invoices.tests.fixtures import make_ranges
    from pos.services import pdv_update

    with tenant_context(company_a):
        norte = PDV.objects.create(name="Norte", code="NTE")
        make_ranges(norte, prefix="FN", pos_prefix="PN", note_prefix="NN")
        consumer = Contact.objects.get(is_final_consumer=True)
    product = make_product(company_a, stock={norte: 5})
    with tenant_context(company_a):
        variant = str(product.variants.get().id)
    sold = owner_a.post(
        URL,
        {
            "pdv": str(norte.id),
            "customer": str(consumer.id),
            "issue": True,
            "lines": [{"variant": variant, "quantity": "5"}],
        },
        format="json",
    )
    assert sold.status_code == 201, sold.json()
    with tenant_context(company_a):
        assert Stock.objects.get(pdv=norte).quantity == 0
    voided, box = threading.Event(), {}

    def void():
        with tenant_context(company_a), transaction.atomic():
            invoice_void(
                invoice=Invoice.objects.get(pk=sold.json()["id"]), user=owner_a.user, reason="x"
            )
            voided.set()
            time.sleep(1.5)
        return "voided"

    def close():
        voided.wait(10)
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=norte.pk), data={"is_active": False})
        return "closed"

    first = start_thread(void, box, "void")
    second = start_thread(close, box, "close")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        closed = not PDV.objects.get(pk=norte.pk).is_active
        held = Stock.objects.get(pdv=norte).quantity
    assert not (closed and held), f"closed PDV holds {held}: {box}"
