"""Names and codes unique without regard to case hold under a race, not only in the services'
check: two spellings of one name created at the same instant both pass the check (neither sees
the other's uncommitted row), so the database's own constraint must compare them in upper case."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from ally360.exceptions import ServiceError
from ally360.tenancy import tenant_context
from conftest import start_thread


def _brand(name):
    from products.services import brand_create

    return brand_create(name=name)


def _category(name):
    from products.services import category_create

    return category_create(name=name)


def _price_list(name):
    from products.services import price_list_create

    return price_list_create(name=name)


def _sku(name):
    from products.services import product_create

    # Two products: variants of one product take turns on its row and would not race.
    return product_create(name=f"Camiseta {name}", sku=name, price=Decimal("1000"))


def _register(name):
    from pos.models import PDV
    from pos.services import cash_register_create

    return cash_register_create(pdv=PDV.objects.get(is_main=True), name=name)


CREATES = {
    "brand": (_brand, "products.Brand", "name"),
    "category": (_category, "products.Category", "name"),
    "price list": (_price_list, "products.PriceList", "name"),
    "SKU": (_sku, "products.Variant", "sku"),
    "cash register": (_register, "pos.CashRegister", "name"),
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", list(CREATES))
def test_two_spellings_created_at_once_make_one_row_and_a_clear_conflict(
    kind, company_a, make_shop
):
    from django.apps import apps

    create, model_label, field = CREATES[kind]
    model = apps.get_model(model_label)
    make_shop(company_a)
    inserted, box = threading.Event(), {}

    def first():
        with tenant_context(company_a), transaction.atomic():
            create("Bodega-Uno")
            inserted.set()
            time.sleep(1.0)  # the second checks, finds nothing committed, and inserts
        return "created"

    def second():
        inserted.wait(10)
        with tenant_context(company_a):
            return create("BODEGA-uno")

    one = start_thread(first, box, "first")
    two = start_thread(second, box, "second")
    one.join(30)
    two.join(30)
    assert box["first"] == "created", repr(box["first"])
    assert isinstance(box["second"], ServiceError), repr(box["second"])
    assert box["second"].status_code == 409 and box["second"].code == "duplicate"
    with tenant_context(company_a):
        assert model.objects.filter(**{f"{field}__iexact": "bodega-uno"}).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_a_second_spelling_of_a_sku(company_a, make_shop):
    """Whatever writes the row (a service, an import, a back-office form)."""
    from products.models import Variant
    from products.services import product_create

    make_shop(company_a)
    with tenant_context(company_a):
        product, _variants = product_create(name="Camiseta", sku="CAM-S", price=Decimal("1000"))
        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.create(product=product, sku="cam-s", price=Decimal("1000"))
