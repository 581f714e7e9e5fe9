"""Stock documents against a point of sale being closed or deleted, and option names."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import transaction

from ally360.exceptions import ServiceError
from ally360.tenancy import tenant_context
from conftest import start_thread
from pos.models import PDV
from products.models import Product, Variant


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_product_with_variants_stocked_at_two_pdvs_and_a_transfer_never_deadlock(
    company_a, make_product, main_pdv, monkeypatch
):
    """A product whose variants are stocked at two points of sale (in the order against their
    keys) and a transfer between them: every point of sale is locked at once, in key order."""
    from inventory import services
    from inventory.services import product_create_with_stock, transfer_create
    from pos.services import pdv_create

    seed = make_product(company_a, sku="SEED", stock={None: 10})
    main = main_pdv(company_a)
    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
        seed_variant = Variant.objects.get(product=seed)
    low, high = sorted([main, norte], key=lambda p: p.pk)
    real = services._require_active_pdvs
    creator, first_lock, box = {}, threading.Event(), {}

    def instrumented(pdvs):
        real(pdvs)
        # Instrumentation only: pause after the creating thread's first PDV lock.
        if threading.get_ident() == creator.get("id") and not first_lock.is_set():
            first_lock.set()
            time.sleep(1.0)

    monkeypatch.setattr(services, "_require_active_pdvs", instrumented)

    def create():
        creator["id"] = threading.get_ident()
        with tenant_context(company_a), transaction.atomic():
            product_create_with_stock(
                name="Camiseta",
                variants=[
                    {
                        "sku": "CAM-S",
                        "price": Decimal("1000"),
                        "options": {"talla": "S"},
                        "initial_stock": [
                            {"pdv": PDV.objects.get(pk=high.pk), "quantity": Decimal("1")}
                        ],
                    },
                    {
                        "sku": "CAM-M",
                        "price": Decimal("1000"),
                        "options": {"talla": "M"},
                        "initial_stock": [
                            {"pdv": PDV.objects.get(pk=low.pk), "quantity": Decimal("1")}
                        ],
                    },
                ],
            )
        return "created"

    def transfer():
        first_lock.wait(10)
        time.sleep(0.2)
        with tenant_context(company_a), transaction.atomic():
            transfer_create(
                origin=PDV.objects.get(pk=main.pk),
                destination=PDV.objects.get(pk=norte.pk),
                lines=[{"variant": seed_variant, "quantity": Decimal("4")}],
            )
        return "moved"

    first = start_thread(create, box, "create")
    second = start_thread(transfer, box, "transfer")
    first.join(30)
    second.join(30)
    assert box == {"create": "created", "transfer": "moved"}, box


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transfer_into_a_pdv_deleted_meanwhile_is_a_clear_error_not_a_key_error(
    company_a, make_product, main_pdv
):
    """A point of sale deleted while a transfer into it waits for it: a 400 naming it, not an
    error page."""
    from inventory.services import transfer_create
    from pos.services import pdv_create, pdv_delete

    product = make_product(company_a, sku="DEL-RACE", stock={None: 10})
    main = main_pdv(company_a)
    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
        variant = Variant.objects.get(product=product)
    deleted, box = threading.Event(), {}

    def delete():
        with tenant_context(company_a), transaction.atomic():
            pdv_delete(pdv=PDV.objects.get(pk=norte.pk))
            deleted.set()
            time.sleep(1.0)
        return "deleted"

    def transfer():
        deleted.wait(10)
        with tenant_context(company_a), transaction.atomic():
            transfer_create(
                origin=main,
                destination=norte,  # as the serializer loaded it before the delete committed
                lines=[{"variant": variant, "quantity": Decimal("4")}],
            )
        return "moved"

    first = start_thread(delete, box, "delete")
    second = start_thread(transfer, box, "transfer")
    first.join(30)
    second.join(30)
    assert box["delete"] == "deleted"
    assert isinstance(box["transfer"], ServiceError), repr(box["transfer"])


def test_option_names_equal_once_trimmed_are_refused_not_merged(owner_a, company_a):
    """Two option names that are one name once trimmed are a 400, not merged (one was dropped)."""
    response = owner_a.post(
        "/api/v1/products/",
        {
            "name": "Camiseta",
            "variants": [
                {"sku": "CAM-R", "price": "1", "options": {"color": "rojo", "color ": "azul"}},
                {"sku": "CAM-V", "price": "1", "options": {"color": "verde"}},
            ],
        },
        format="json",
    )
    with tenant_context(company_a):
        saved = list(Variant.objects.filter(sku="CAM-R").values_list("options", flat=True))
    assert response.status_code == 400, (response.status_code, saved)
    with tenant_context(company_a):
        assert not Product.objects.filter(name="Camiseta").exists()
