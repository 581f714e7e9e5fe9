"""Sales fixtures: numbering ranges, a register, products with every tax treatment."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from contacts.models import Contact
from invoices.services import numbering_range_create
from pos.models import PDV, CashRegister
from products.models import Tax, Unit, Variant


@dataclass
class Shop:
    company: object
    pdv: PDV
    register: CashRegister
    consumer: Contact
    customer: Contact
    variants: dict  # name -> Variant

    def v(self, name) -> str:
        return str(self.variants[name].id)


def make_ranges(pdv, *, prefix="FV", pos_prefix="POS", note_prefix="NC", size=1000, days=365):
    today = timezone.localdate()
    ranges = {}
    for document_type, code in (
        ("invoice", prefix),
        ("pos", pos_prefix),
        ("credit_note", note_prefix),
    ):
        ranges[document_type] = numbering_range_create(
            pdv=pdv,
            document_type=document_type,
            resolution_number=f"18760000{code}",
            prefix=code,
            range_from=1,
            range_to=size,
            valid_from=today - timedelta(days=30),
            valid_to=today + timedelta(days=days),
            technical_key="fc8eac422eba16e22ffd8c6f94b3f40a",
        )
    return ranges


@pytest.fixture
def make_shop(make_product):
    def factory(company, *, stock=100, prefix="FV"):
        with tenant_context(company):
            pdv = PDV.objects.get(is_main=True)
            make_ranges(
                pdv, prefix=prefix, pos_prefix=f"P{prefix[:2]}", note_prefix=f"N{prefix[:2]}"
            )
            register = CashRegister.objects.create(pdv=pdv, name="Caja 1")
            taxes = {tax.name: tax for tax in Tax.objects.all()}
            kg = Unit.objects.get(code="kg")
            consumer = Contact.objects.get(is_final_consumer=True)
            customer = Contact.objects.create(
                id_type="31",
                id_number="900123456",
                check_digit="8",
                name="Cliente SAS",
                person_type="legal",
                payment_term_days=30,
            )
        specs = {
            "iva19": dict(price="10000", cost="6000", taxes=[taxes["IVA 19%"]]),
            "iva5": dict(price="3333.333333", cost="2000", taxes=[taxes["IVA 5%"]]),
            "exento": dict(price="4999.99", cost="3000", taxes=[taxes["IVA exento 0%"]], unit=kg),
            "excluido": dict(price="12345.67", cost="8000", taxes=[taxes["IVA excluido"]]),
            "inc8": dict(price="8500", cost="4000", taxes=[taxes["INC 8%"]]),
            "rounding": dict(price="333.335", cost="100", taxes=[taxes["IVA 19%"]]),
        }
        variants = {}
        for name, spec in specs.items():
            product = make_product(
                company, name=name, sku=f"{prefix}-{name}", stock={pdv: stock}, **spec
            )
            with tenant_context(company):
                variants[name] = Variant.objects.get(product=product)
        return Shop(company, pdv, register, consumer, customer, variants)

    return factory


@pytest.fixture
def shop_a(company_a, make_shop):
    return make_shop(company_a)


@pytest.fixture
def shop_b(company_b, make_shop):
    return make_shop(company_b, prefix="FB")


@pytest.fixture
def seller_a(company_a, client_as):
    return client_as(company_a, Role.SELLER)


def dec(value) -> Decimal:
    return Decimal(str(value))


def issue_invoice(client, shop, lines=None) -> dict:
    """POST invoices/ with issue=true for the shop's customer; the answer's JSON."""
    response = client.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop.pdv.id),
            "customer": str(shop.customer.id),
            "issue": True,
            "lines": lines or [{"variant": shop.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()
