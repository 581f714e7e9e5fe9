"""The thumbnail flow with a real Celery worker on the Redis broker."""

import pytest

from ally360.tenancy import tenant_context
from conftest import png_bytes, wait_for
from files.tests.test_uses import uploaded
from products.models import ProductImage

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_worker_makes_the_thumbnail_after_commit(
    celery_worker_redis, company_a, owner_a, make_product
):
    product = make_product(company_a)
    response = owner_a.post(
        f"/api/v1/products/{product.id}/images",
        {"file": uploaded(owner_a, png_bytes((900, 300)))},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["thumbnail_url"] is None  # made in the background

    def thumbnail():
        with tenant_context(company_a):
            return ProductImage.objects.select_related("thumbnail").get().thumbnail

    made = wait_for(thumbnail)
    assert made.content_type == "image/webp" and made.purpose == "thumbnail"
    assert made.key.startswith(f"ally360/{company_a.id}/products/")
    listed = owner_a.get(f"/api/v1/products/{product.id}/images").json()
    assert listed[0]["thumbnail_url"]
