"""The receivables and payables pages: what customers owe and what the company owes its
suppliers, per party in aging buckets at the end of a day (today, or a past day rebuilt), as
`receivables/` and `payables/`; roles as the API's; another company's documents never show."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from bills.tests.test_bills_api import buy_a, receive  # noqa: F401 - fixture
from inventory.tests.test_adjustment_page import pages_as
from invoices.models import Invoice
from invoices.tests.fixtures import issue_invoice

pytestmark = pytest.mark.django_db


def test_what_customers_owe_per_age(owner_a, shop_a, company_a):
    fresh = issue_invoice(owner_a, shop_a)
    late = issue_invoice(owner_a, shop_a, [{"variant": shop_a.v("iva19"), "quantity": "2"}])
    today = timezone.localdate()
    with tenant_context(company_a):
        Invoice.objects.filter(pk=late["id"]).update(due_date=today - timedelta(days=45))
    page = pages_as(company_a, Role.SELLER).get("/receivables/")
    assert page.status_code == 200
    (row,) = page.context["page_obj"]
    assert row["name"] == shop_a.customer.name and row["documents"] == 2
    assert row["days_31_60"] == Decimal(late["balance"])
    assert row["open_balance"] == Decimal(fresh["balance"]) + Decimal(late["balance"])
    text = page.content.decode()
    assert f"/invoices/?customer={shop_a.customer.id}" in text and "31–60 días" in text
    theirs = pages_as(company_a, Role.SELLER).get(f"/invoices/?customer={shop_a.customer.id}")
    assert {invoice.pk for invoice in theirs.context["page_obj"]} == {
        UUID(fresh["id"]),
        UUID(late["id"]),
    }
    assert shop_a.customer.name in theirs.content.decode()
    before = pages_as(company_a, Role.VIEWER).get(
        "/receivables/", {"as_of": (today - timedelta(days=1)).isoformat()}
    )
    assert list(before.context["page_obj"]) == []  # nothing was owed yesterday
    assert "No se debe nada." in before.content.decode()
    assert pages_as(company_a).get("/receivables/", {"as_of": "2026-13-01"}).status_code == 400


def test_what_the_company_owes_its_suppliers(company_a, owner_a, buy_a):  # noqa: F811
    bill = receive(owner_a, buy_a)
    for role in (Role.OWNER, Role.ACCOUNTANT):
        page = pages_as(company_a, role).get("/payables/")
        assert page.status_code == 200
        (row,) = page.context["page_obj"]
        assert (row["name"], row["documents"]) == (buy_a.supplier.name, 1)
        assert row["open_balance"] == Decimal(bill["balance"])
        assert f"/suppliers/{buy_a.supplier.id}/payment/" in page.content.decode()
    for role in (Role.SELLER, Role.VIEWER):  # purchases are the back office's
        assert pages_as(company_a, role).get("/payables/").status_code == 403


def test_another_company_s_documents_never_show(owner_a, shop_a, company_b):
    issue_invoice(owner_a, shop_a)
    other = pages_as(company_b, Role.OWNER)
    assert list(other.get("/receivables/").context["page_obj"]) == []
    assert list(other.get("/payables/").context["page_obj"]) == []


def test_the_page_reads_the_same_statements_whatever_it_holds(owner_a, shop_a, company_a):
    client = pages_as(company_a, Role.OWNER)
    client.get("/")  # the membership's lookup cached, as for any later page
    counts = []
    for number in range(3):
        customer = owner_a.post(
            "/api/v1/contacts/",
            {
                "name": f"Cliente {number}",
                "id_type": "13",
                "id_number": f"1020{number}3040",
                "is_customer": True,
            },
            format="json",
        )
        assert customer.status_code == 201, customer.json()
        invoice = owner_a.post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop_a.pdv.id),
                "customer": customer.json()["id"],
                "issue": True,
                "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
            },
            format="json",
        )
        assert invoice.status_code == 201, invoice.json()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/receivables/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts
