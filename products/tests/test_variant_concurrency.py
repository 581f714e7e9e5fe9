"""Concurrent edits of one product's variant options, with real threads on PostgreSQL: an
option combination is checked against the siblings and taken under the product's row lock, so
it cannot end up on two variants."""

from decimal import Decimal

import pytest

from ally360.exceptions import ValidationFailed
from ally360.tenancy import tenant_context
from inventory.tests.test_stock_concurrency import run_in_threads
from products.models import Variant
from products.services import product_create, variant_create, variant_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def shirt(company, sizes):
    with tenant_context(company):
        product, variants = product_create(
            name="Camiseta",
            variants=[
                {"options": {"talla": size}, "sku": f"CAM-{size}", "price": Decimal("20000")}
                for size in sizes
            ],
        )
    return product, variants


def same_options_errors(errors):
    return all(isinstance(error, ValidationFailed) for error in errors.values())


def test_racing_new_variants_with_the_same_options_create_one(company_a):
    product, _ = shirt(company_a, ["S"])

    def create(index):
        with tenant_context(company_a):
            return variant_create(
                product=product,
                sku=f"CAM-M-{index}",
                price=Decimal("20000"),
                options={"talla": "M"},
            )

    results, errors = run_in_threads(THREADS, create)
    assert len(results) == 1 and len(errors) == THREADS - 1
    assert same_options_errors(errors)
    with tenant_context(company_a):
        sizes = sorted(v.options["talla"] for v in Variant.objects.filter(product=product))
    assert sizes == ["M", "S"]


def test_racing_edits_to_the_same_options_change_one_variant(company_a):
    sizes = [f"T{index}" for index in range(THREADS)]
    product, variants = shirt(company_a, sizes)

    def rename(index):
        with tenant_context(company_a):
            variant = Variant.objects.get(pk=variants[index].pk)
            return variant_update(variant=variant, data={"options": {"talla": "XL"}})

    results, errors = run_in_threads(THREADS, rename)
    assert len(results) == 1 and len(errors) == THREADS - 1
    assert same_options_errors(errors)
    with tenant_context(company_a):
        taken = [v.options["talla"] for v in Variant.objects.filter(product=product)]
    assert taken.count("XL") == 1 and len(set(taken)) == THREADS


def test_two_price_lists_made_default_at_once_leave_one_default(company_a, monkeypatch):
    """Each switch finds the old default and clears it; the second waited on the first's lock
    and found it gone, then collided with the first's new default (an error page). Switches
    now queue on the company: both answer, and one list is the default."""
    import time

    from accounts.models import Membership
    from ally360.roles import Role
    from conftest import client_for
    from products import services as product_services
    from products.models import PriceList

    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    clients = [client_for(owner, company_a), client_for(owner, company_a)]
    ids = [
        clients[0]
        .post("/api/v1/price-lists/", {"name": name, "percentage": "5"}, format="json")
        .json()["id"]
        for name in ("Uno", "Dos")
    ]
    make_default = product_services._make_default

    def make_default_slowly(price_list):
        make_default(price_list)
        time.sleep(0.5)  # the other request reaches the lock meanwhile

    monkeypatch.setattr(product_services, "_make_default", make_default_slowly)

    def switch(index):
        url = f"/api/v1/price-lists/{ids[index]}/"
        return clients[index].patch(url, {"is_default": True}, format="json").status_code

    results, errors = run_in_threads(2, switch)
    assert errors == {} and sorted(results.values()) == [200, 200], (results, errors)
    with tenant_context(company_a):
        assert PriceList.objects.filter(is_default=True).count() == 1


def test_a_list_made_default_after_the_request_read_it_is_not_deactivated(company_a):
    """The request read the list before another made it the default: the rules are checked
    on the list as it is now, under the lock the default's switches take."""
    from django.db import transaction

    from ally360.exceptions import Conflict
    from products.models import PriceList
    from products.services import price_list_create, price_list_update

    with tenant_context(company_a):
        listed = price_list_create(name="Mayoristas", percentage=Decimal("10"))
        stale = PriceList.objects.get(pk=listed.pk)
        price_list_update(price_list=PriceList.objects.get(pk=listed.pk), data={"is_default": True})
        with pytest.raises(Conflict), transaction.atomic():
            price_list_update(price_list=stale, data={"is_active": False})
        assert PriceList.objects.get(pk=listed.pk).is_active
