"""A product's images page: the upload URL the page's script asks for (`file_upload_start`),
the file sent straight to storage, then checked and attached (`file_upload_confirm`,
`product_image_attach`) once per file; the main image changed, an image removed with its
objects; refusals (a type or size the module does not take, nothing sent, a content that is not
what was declared, another company's file) leave nothing attached; every role sees the images,
owners and admins change them; another company's product or image is 404."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import row_counts
from conftest import png_bytes
from files.models import FileObject
from files.tests.test_files_api import local_put
from inventory.tests.test_adjustment_page import pages_as
from products.models import ProductImage

pytestmark = pytest.mark.django_db

WRITTEN = (ProductImage, FileObject, IdempotencyRecord)


def start(client, product_id, content, content_type="image/png", name="foto.png", size=None):
    return client.post(
        f"/products/{product_id}/images/upload/",
        {"name": name, "content_type": content_type, "size": size or len(content)},
    )


def sent(client, product_id, content=None, **declared) -> str:
    """The page's script: an upload URL, the file sent there; the file's id."""
    content = content or png_bytes()
    answer = start(client, product_id, content, **declared)
    assert answer.status_code == 201, answer.json()
    assert local_put(answer.json()["upload"], content).status_code == 201
    return answer.json()["file"]


def attach(client, product_id, file_id):
    return client.post(f"/products/{product_id}/images/attach/", {"file": file_id})


def images(shop, product_id) -> list:
    with tenant_context(shop.company):
        return list(
            ProductImage.objects.filter(product_id=product_id)
            .order_by("position")
            .values_list("file__original_name", "is_main")
        )


def shown(page) -> list[bytes]:
    """The bytes behind each image the page shows (signed, expiring URLs)."""
    found = []
    for url in re.findall(r'<img src="([^"]+)"', page.content.decode()):
        answer = Client().get(re.sub(r"^https?://[^/]+", "", url.replace("&amp;", "&")))
        assert answer.status_code == 200
        found.append(b"".join(answer.streaming_content))
    return found


def test_an_owner_adds_images_changes_the_main_one_and_removes_one(
    shop_a, django_capture_on_commit_callbacks
):
    owner = pages_as(shop_a.company, Role.OWNER)
    product = shop_a.variants["iva19"].product_id
    assert f'href="/products/{product}/images/"'.encode() in owner.get("/products/").content
    first = sent(owner, product, png_bytes((600, 400)), name="frente.png")
    with django_capture_on_commit_callbacks(execute=True):
        assert attach(owner, product, first).status_code == 302
    assert attach(owner, product, first).status_code == 302  # resent: one image
    second = sent(owner, product, png_bytes((40, 40), (0, 0, 255)), name="lado.png")
    with django_capture_on_commit_callbacks(execute=True):
        attach(owner, product, second)
    assert images(shop_a, product) == [("frente.png", True), ("lado.png", False)]
    page = owner.get(f"/products/{product}/images/")
    text = page.content.decode()
    assert "Imagen frente.png agregada" in text and "La imagen ya se había agregado" in text
    pictures = shown(page)
    assert len(pictures) == 2 and all(p[:4] == b"RIFF" for p in pictures)  # WebP thumbnails

    with tenant_context(shop_a.company):
        side = ProductImage.objects.get(file__original_name="lado.png")
        front = ProductImage.objects.select_related("file").get(file__original_name="frente.png")
    assert owner.post(f"/products/images/{side.pk}/main/").status_code == 302
    assert images(shop_a, product) == [("frente.png", False), ("lado.png", True)]
    removed = owner.post(f"/products/images/{front.pk}/delete/")
    assert "Imagen eliminada" in owner.get(removed["Location"]).content.decode()
    assert images(shop_a, product) == [("lado.png", True)]
    with tenant_context(shop_a.company):
        assert FileObject.objects.get(pk=front.file_id).status == FileObject.Status.DELETED


def test_refusals_attach_nothing(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    product = shop_a.variants["iva19"].product_id
    text = start(owner, product, b"hola", content_type="text/plain", name="nota.txt")
    assert text.status_code == 400 and text.json()["error"]
    huge = start(owner, product, b"x", size=6 * 1024 * 1024)
    assert huge.status_code == 400 and "MB" in huge.json()["error"]
    assert start(owner, product, b"", size="-1").status_code == 400
    before = row_counts(shop_a.company, ProductImage)

    # Declared, never sent: refused, and it can be sent and attached later.
    pending = start(owner, product, png_bytes()).json()["file"]
    answer = attach(owner, product, pending)
    assert "Aún no se ha cargado nada" in owner.get(answer["Location"]).content.decode()
    # A PNG declared, something else sent: refused and deleted.
    fake = sent(owner, product, b"not a picture at all, only text", name="falsa.png")
    answer = attach(owner, product, fake)
    assert "no coincide con lo declarado" in owner.get(answer["Location"]).content.decode()
    with tenant_context(shop_a.company):
        assert FileObject.objects.get(pk=fake).status != FileObject.Status.READY
    for unknown in (str(uuid.uuid4()), "no-es-un-id"):
        answer = attach(owner, product, unknown)
        assert owner.get(answer["Location"]).status_code == 200
    assert row_counts(shop_a.company, ProductImage) == before


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_every_role_sees_the_images_owners_and_admins_change_them(
    shop_a, role, django_capture_on_commit_callbacks
):
    admin = pages_as(shop_a.company, Role.ADMIN)
    product = shop_a.variants["iva19"].product_id
    with django_capture_on_commit_callbacks(execute=True):
        attach(admin, product, sent(admin, product))
    with tenant_context(shop_a.company):
        image = ProductImage.objects.get()
    before = row_counts(shop_a.company, *WRITTEN)
    client = pages_as(shop_a.company, role)
    page = client.get(f"/products/{product}/images/")
    assert page.status_code == 200 and len(shown(page)) == 1
    assert page.context["may_write"] is False and b"data-direct-upload" not in page.content
    for url, data in (
        (
            f"/products/{product}/images/upload/",
            {"name": "a.png", "content_type": "image/png", "size": 9},
        ),
        (f"/products/{product}/images/attach/", {"file": str(image.file_id)}),
        (f"/products/images/{image.pk}/main/", {}),
        (f"/products/images/{image.pk}/delete/", {}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert row_counts(shop_a.company, *WRITTEN) == before


def test_another_company_s_products_images_and_files_are_out_of_reach(
    shop_a, shop_b, django_capture_on_commit_callbacks
):
    owner_a = pages_as(shop_a.company, Role.OWNER)
    product_a = shop_a.variants["iva19"].product_id
    with django_capture_on_commit_callbacks(execute=True):
        attach(owner_a, product_a, sent(owner_a, product_a))
    spare = sent(owner_a, product_a)  # sent, not yet attached
    with tenant_context(shop_a.company):
        image = ProductImage.objects.get()
    before_a = row_counts(shop_a.company, *WRITTEN)
    other = pages_as(shop_b.company, Role.OWNER)
    product_b = shop_b.variants["iva19"].product_id
    assert other.get(f"/products/{product_a}/images/").status_code == 404
    for url, data in (
        (
            f"/products/{product_a}/images/upload/",
            {"name": "a.png", "content_type": "image/png", "size": 9},
        ),
        (f"/products/{product_a}/images/attach/", {"file": spare}),
        (f"/products/images/{image.pk}/main/", {}),
        (f"/products/images/{image.pk}/delete/", {}),
    ):
        assert other.post(url, data).status_code == 404, url
    # Company A's upload named on company B's product: not found there, nothing attached.
    answer = attach(other, product_b, spare)
    assert "No se encontró ese envío" in other.get(answer["Location"]).content.decode()
    assert row_counts(shop_a.company, *WRITTEN) == before_a
    assert images(shop_b, product_b) == []
    with tenant_context(shop_a.company):
        assert FileObject.objects.get(pk=spare).status == FileObject.Status.PENDING


def test_a_file_attached_to_one_product_is_refused_on_another(
    shop_a, django_capture_on_commit_callbacks
):
    owner = pages_as(shop_a.company, Role.OWNER)
    first = shop_a.variants["iva19"].product_id
    second = shop_a.variants["inc8"].product_id
    picture = sent(owner, first)
    with django_capture_on_commit_callbacks(execute=True):
        attach(owner, first, picture)
    answer = attach(owner, second, picture)
    assert "ya está asociado a un producto" in owner.get(answer["Location"]).content.decode()
    assert images(shop_a, second) == [] and len(images(shop_a, first)) == 1
