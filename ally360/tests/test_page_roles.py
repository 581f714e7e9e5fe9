"""What a page shows depends on the role: links to pages the role is refused, and members'
e-mails (shown, as in the API, to the roles that read the team and to each member their own)."""

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import page_client
from conftest import _member
from invoices.models import Invoice
from invoices.tests.test_pages import open_shift, sale_data
from pos.models import Shift

pytestmark = pytest.mark.django_db


def test_the_counter_s_links_are_shown_only_to_those_who_sell(shop_a):
    seller = page_client(_member(shop_a.company, Role.SELLER), shop_a.company)
    open_shift(seller, shop_a)
    sold = seller.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    assert sold.status_code == 302, sold.content.decode()[:1000]
    with tenant_context(shop_a.company):
        receipt = f"/pos/receipts/{Invoice.objects.get().pk}/"
        report = f"/pos/shifts/{Shift.objects.get().pk}/"
    for role, sells in [(Role.SELLER, True), (Role.ACCOUNTANT, False), (Role.VIEWER, False)]:
        client = (
            seller
            if role == Role.SELLER
            else page_client(_member(shop_a.company, role), shop_a.company)
        )
        for url in (receipt, report):
            page = client.get(url)
            assert page.status_code == 200, (role, url)
            assert ('href="/pos/"' in page.content.decode()) is sells, (role, url)
            if sells:
                assert client.get("/pos/").status_code == 200
            else:
                assert client.get("/pos/").status_code == 403


def test_members_e_mails_are_shown_to_the_roles_that_read_the_team(shop_a):
    from files.tests.test_pages import kept
    from pos.services import seller_create, shift_open

    company = shop_a.company
    cashier = _member(company, Role.SELLER, email="cajera.privada@example.co")
    clerk = _member(company, Role.ACCOUNTANT, email="contadora.privada@example.co")
    salesman = _member(company, Role.SELLER, email="vendedor.privado@example.co")
    with tenant_context(company):
        shift_open(register=shop_a.register, user=cashier, role="seller", opening_cash=0)
        seller_create(name="Vendedor", user=salesman)
    kept(page_client(clerk, company), name="rut.pdf")
    pages = {
        f"/points-of-sale/{shop_a.pdv.pk}/": cashier.email,
        "/files/": clerk.email,
        "/sellers/": salesman.email,
    }
    viewer = page_client(_member(company, Role.VIEWER), company)
    owner = page_client(_member(company, Role.OWNER), company)
    for url, email in pages.items():
        assert email not in viewer.get(url).content.decode(), url
        assert email in owner.get(url).content.decode(), url
    # Each member sees their own.
    assert clerk.email in page_client(clerk, company).get("/files/").content.decode()
