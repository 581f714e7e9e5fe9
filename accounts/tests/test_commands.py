"""Operator commands."""

import pytest
from django.core.management import call_command

from accounts.models import Company, User

pytestmark = pytest.mark.django_db


def test_bootstrap_demo_runs_twice_with_an_e_mail_typed_in_capitals():
    """Users are stored lowercased: a second run with the same --email finds the user (and
    its company) instead of failing on the unique e-mail."""
    for _run in range(2):
        call_command("bootstrap_demo", email="Dueno@Tienda.co", password="Clave-segura-2026")
    assert User.objects.filter(email="dueno@tienda.co").count() == 1
    assert Company.objects.filter(memberships__user__email="dueno@tienda.co").count() == 1


def test_check_stock_names_a_bad_company_instead_of_a_traceback(company_a):
    import uuid

    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a company id"):
        call_command("check_stock", company="abc")
    with pytest.raises(CommandError, match="No company"):
        call_command("check_stock", company=str(uuid.uuid4()))
    call_command("check_stock", company=str(company_a.pk))


def test_the_demo_company_can_sell_at_once():
    """`make run`'s demo: numbering, a register, products in stock and a customer, so the
    counter works on the first visit. A sale by barcode through the API proves it."""
    from ally360.tenancy import tenant_context
    from conftest import client_for
    from invoices.demo import DEMO_PRODUCTS
    from pos.models import CashRegister
    from products.models import Variant

    call_command("bootstrap_demo", email="demo@tienda.co", password="Clave-segura-2026")
    user = User.objects.get(email="demo@tienda.co")
    company = Company.objects.get(memberships__user=user)
    owner = client_for(user, company)
    with tenant_context(company):
        register = CashRegister.objects.get()
        gaseosa = Variant.objects.get(barcode=DEMO_PRODUCTS[0][2])
    opened = owner.post(
        "/api/v1/shifts/", {"register": str(register.pk), "opening_cash": "50000"}, format="json"
    )
    assert opened.status_code == 201, opened.json()
    sold = owner.post(
        "/api/v1/pos/sales/",
        {
            "lines": [{"variant": str(gaseosa.pk), "quantity": "2"}],
            "tenders": [{"method": "cash", "amount": "10000"}],
        },
        format="json",
    )
    assert sold.status_code == 201, sold.json()
    # The shelf price of 3,000 with IVA is what the till charges.
    assert (sold.json()["invoice"]["total"], sold.json()["change"]) == ("6000.00", "4000.00")
    products = owner.get("/api/v1/products/", {"limit": 50}).json()
    assert products["count"] == len(DEMO_PRODUCTS)
