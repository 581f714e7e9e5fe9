"""Amounts, prices and dates in the services' messages as the pages show them, in the reader's
language: "11.900,00" and "18/10/2026" in Spanish, "11,900.00" and "10/18/2026" in English, never
the raw "11900.00", "10000.000000" or "2026-10-18"."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone, translation

from ally360.formatting import shown_amount, shown_date, shown_price, shown_quantity
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import error_code
from invoices.models import Invoice
from invoices.tests.fixtures import issue_invoice
from invoices.tests.test_pages import open_shift, pages_as, sale_data, shop  # noqa: F401
from invoices.tests.test_pos_api import open_shift as open_shift_by_api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es-co", ["23.800,00", "1.000,01", "10.000,00", "333,335", "1.250", "2,5", "18/10/2026"]),
        ("en", ["23,800.00", "1,000.01", "10,000.00", "333.335", "1,250", "2.5", "10/18/2026"]),
    ],
)
def test_the_helpers_follow_the_active_language(language, expected):
    with translation.override(language):
        shown = [
            shown_amount(Decimal("23800")),
            shown_amount(Decimal("1000.005")),  # rounded half up, as the pages' floatformat
            shown_price(Decimal("10000.000000")),  # two places unless it has more
            shown_price(Decimal("333.335000")),
            shown_quantity(Decimal("1250.000")),
            shown_quantity(Decimal("2.500")),
            shown_date(date(2026, 10, 18)),
        ]
    assert shown == expected


def api_message(response) -> str:
    return response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("language", "short", "above_price"),
    [
        (
            "es-co",
            "Lo entregado (11.899,99) no cubre el total 11.900,00.",
            "por encima de su precio facturado 10.000,00.",
        ),
        (
            "en",
            "The tenders (11,899.99) do not cover the total 11,900.00.",
            "above its invoiced 10,000.00.",
        ),
    ],
)
def test_api_messages_show_money_in_the_request_s_language(
    owner_a, shop_a, language, short, above_price
):
    open_shift_by_api(owner_a, shop_a)
    lines = [{"variant": shop_a.v("iva19"), "quantity": "1"}]  # 10,000 + IVA 19 %: 11,900
    refused = owner_a.post(
        "/api/v1/pos/sales/",
        {"lines": lines, "tenders": [{"method": "cash", "amount": "11899.99"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert refused.status_code == 400 and error_code(refused) == "tenders_short"
    assert api_message(refused) == short
    assert refused.json()["error"]["fields"]["tenders"] == [short]

    invoice = issue_invoice(owner_a, shop_a)  # its line's price is stored as 10000.000000
    line = {"invoice_line": invoice["lines"][0]["id"], "quantity": "1", "unit_price": "10000.01"}
    above = owner_a.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice["id"], "concept": "4", "reason": "Devolución", "lines": [line]},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert above.status_code == 400 and error_code(above) == "above_invoiced"
    assert above_price in api_message(above), api_message(above)


@pytest.mark.parametrize(("language", "day_format"), [("es-co", "%d/%m/%Y"), ("en", "%m/%d/%Y")])
def test_api_messages_show_dates_in_the_request_s_language(owner_a, shop_a, language, day_format):
    invoice = issue_invoice(owner_a, shop_a)
    issued = timezone.localdate() - timedelta(days=10)
    with tenant_context(shop_a.company):
        Invoice.objects.filter(pk=invoice["id"]).update(issue_date=issued)
    early = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "cash", "amount": "100", "date": str(issued - timedelta(days=1))},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert early.status_code == 400 and error_code(early) == "payment_date"
    assert f"({issued:{day_format}})" in api_message(early), api_message(early)
    assert str(issued) not in api_message(early)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es-co", "Lo entregado (1.000,00) no cubre el total 11.900,00."),
        ("en", "The tenders (1,000.00) do not cover the total 11,900.00."),
    ],
)
def test_a_page_shows_the_service_s_money_as_it_shows_its_own(shop, language, expected):  # noqa: F811
    client = pages_as(shop.company, Role.SELLER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # the footer's choice
    open_shift(client, shop)
    response = client.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="1000"))
    assert response.status_code == 400
    assert response.context["form"].errors["cash"] == [expected]
    assert expected in response.content.decode()
