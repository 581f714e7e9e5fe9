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
    # Read (and cached) while the worker works, most likely with the original image.
    assert owner_a.get("/api/v1/products/").json()["results"][0]["image"]

    def thumbnail():
        with tenant_context(company_a):
            return ProductImage.objects.select_related("thumbnail").get().thumbnail

    made = wait_for(thumbnail)
    assert made.content_type == "image/webp" and made.purpose == "thumbnail"
    assert made.key.startswith(f"ally360/{company_a.id}/products/")
    listed = owner_a.get(f"/api/v1/products/{product.id}/images").json()
    assert listed[0]["thumbnail_url"]
    # The worker's write renewed the catalog's cached pages: the list shows the thumbnail.
    shown = owner_a.get("/api/v1/products/").json()["results"][0]["image"]
    assert shown_file(shown) == shown_file(listed[0]["thumbnail_url"])


def shown_file(url: str) -> str:
    """The file a URL serves: an S3 URL's path, a local download token's payload (its signing
    time and signature change by the second, so two reads of one file can differ)."""
    path = url.split("?")[0]
    if "/files/local/download/" in path:
        path = path.rsplit(":", 2)[0]
    return path


def test_the_worker_retries_the_thumbnail_while_the_object_store_is_down(
    celery_worker_redis,
    company_a,
    owner_a,
    make_product,
    s3_storage,
    object_store_outage,
    task_retries,
):
    """S3 goes away after the image is attached: the task cannot read the image or store the
    thumbnail, backs off and retries, and makes it once the object store answers again."""
    from files.services import file_read

    product = make_product(company_a)
    file_id = uploaded(owner_a, png_bytes((900, 300)), s3=True)

    def thumbnail():
        with tenant_context(company_a):
            return ProductImage.objects.select_related("thumbnail").get().thumbnail

    with object_store_outage():
        attached = owner_a.post(
            f"/api/v1/products/{product.id}/images", {"file": file_id}, format="json"
        )
        assert attached.status_code == 201, attached.json()
        wait_for(lambda: task_retries)  # an attempt failed while the store is down
        assert thumbnail() is None
    made = wait_for(thumbnail, timeout=60)
    assert task_retries[0] == ("products.tasks.product_image_thumbnail", "StorageUnavailable")
    with tenant_context(company_a):
        assert made.content_type == "image/webp"
        assert file_read(file=made).startswith(b"RIFF")  # a WebP image, stored after the outage
