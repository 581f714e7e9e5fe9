"""Catalog rules two requests at once could slip past, with real threads on PostgreSQL: a
category moved under its own subcategory, and a tax that changes kind while a product is given
it (two IVAs on one product). Each test widens the window between the check and the write."""

import time
from decimal import Decimal

import pytest

from ally360.tenancy import tenant_context
from inventory.tests.test_stock_concurrency import run_in_threads
from products import services as product_services
from products.models import Category, Product, ProductTax, Tax

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_categories_moved_under_each_other_at_once_store_no_cycle(company_a, monkeypatch):
    with tenant_context(company_a):
        a = product_services.category_create(name="A")
        b = product_services.category_create(name="B")
    check = product_services._check_category_parent

    def check_slowly(category, parent):
        check(category, parent)
        time.sleep(0.5)  # the other move checks meanwhile

    monkeypatch.setattr(product_services, "_check_category_parent", check_slowly)
    moves = [(a.pk, b.pk), (b.pk, a.pk)]

    def move(index):
        child, parent = moves[index]
        with tenant_context(company_a):
            return product_services.category_update(
                category=Category.objects.get(pk=child),
                data={"parent": Category.objects.get(pk=parent)},
            )

    results, errors = run_in_threads(2, move)
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    with tenant_context(company_a):
        parents = dict(Category.objects.values_list("pk", "parent_id"))
    assert None in (parents[a.pk], parents[b.pk])  # one of them still at the top: no cycle


def test_a_tax_turned_iva_while_given_to_a_product_leaves_one_iva(
    company_a, make_product, monkeypatch
):
    with tenant_context(company_a):
        iva = Tax.objects.get(name="IVA 19%")
        inc4 = product_services.tax_create(name="INC 4%", kind="inc", rate=Decimal("4"))
    product = make_product(company_a, taxes=[iva])
    validate = product_services.validate_taxes

    def validate_slowly(*args, **kwargs):
        validate(*args, **kwargs)
        time.sleep(0.5)  # the tax's change comes meanwhile

    monkeypatch.setattr(product_services, "validate_taxes", validate_slowly)

    def work(index):
        with tenant_context(company_a):
            if index == 0:
                return product_services.product_update(
                    product=Product.objects.get(pk=product.pk),
                    data={"taxes": [Tax.objects.get(pk=iva.pk), Tax.objects.get(pk=inc4.pk)]},
                )
            time.sleep(0.2)
            tax = Tax.objects.get(pk=inc4.pk)
            return product_services.tax_update(tax=tax, data={"kind": "iva"})

    results, errors = run_in_threads(2, work)
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    with tenant_context(company_a):
        kinds = sorted(
            ProductTax.objects.filter(product=product).values_list("tax__kind", flat=True)
        )
    assert kinds.count("iva") == 1, kinds
