"""A page checks and uses an upload in one step, locking in the API's order: what the service
locks first (the product, the logo's turn), then the file. Confirming the file before calling
the service locked them the other way round, and a page and an API call on the same file
deadlocked (PostgreSQL ends one of them: a 503 for nothing)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from ally360.db import serialize_in_tenant
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.locks import while_blocked
from files.models import FileObject
from files.services import company_logo
from files.tests.test_company_page import sent_logo
from inventory.tests.test_adjustment_page import pages_as
from inventory.tests.test_image_pages import attach, sent
from products.models import ProductImage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def file_lockable_now(company, file_id) -> bool:
    """What the API's call would do next while holding its first lock: lock the file."""
    try:
        with tenant_context(company), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM files_fileobject WHERE id = %s FOR UPDATE NOWAIT", [file_id]
            )
        return True
    except OperationalError:  # 55P03: lock not available
        return False


def test_the_image_page_locks_the_product_before_the_upload(company_a, make_product):
    owner = pages_as(company_a, Role.OWNER)
    product = make_product(company_a)
    file_id = sent(owner, product.pk)

    def lock_product():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM products_product WHERE id = %s FOR UPDATE", [product.pk])

    free, answer = while_blocked(
        company_a,
        lock_product,
        blocked=lambda: attach(owner, product.pk, file_id),
        probe=lambda: file_lockable_now(company_a, file_id),
    )
    assert free, "the page held the file while waiting for the product"
    assert answer.status_code == 302
    with tenant_context(company_a):
        attached = ProductImage.objects.get(product=product)
        assert str(attached.file_id) == file_id and attached.is_main
        assert FileObject.objects.get(pk=file_id).status == FileObject.Status.READY


def test_the_logo_page_takes_its_turn_before_locking_the_upload(company_a):
    owner = pages_as(company_a, Role.OWNER)
    file_id = sent_logo(owner)
    free, answer = while_blocked(
        company_a,
        lambda: serialize_in_tenant("company_logo"),
        blocked=lambda: owner.post("/settings/logo/", {"file": file_id}),
        probe=lambda: file_lockable_now(company_a, file_id),
    )
    assert free, "the page held the file while waiting for the logo's turn"
    assert answer.status_code == 302
    with tenant_context(company_a):
        assert str(company_logo().pk) == file_id
