"""What files are for: product images with thumbnails and the company logo."""

import re

import pytest
from django.test import Client

from ally360.tenancy import tenant_context
from conftest import error_code, png_bytes
from files.models import FileObject
from files.tests.test_files_api import local_put, request_upload, s3_put
from products.models import ProductImage

pytestmark = pytest.mark.django_db


def uploaded(
    client, content=None, module="products", content_type="image/png", name="foto.png", s3=False
):
    """A confirmed file: sent to local storage, or over HTTP to the S3 server with `s3=True`."""
    content = content or png_bytes()
    started = request_upload(
        client, content, module=module, content_type=content_type, name=name
    ).json()
    put = s3_put if s3 else local_put
    assert put(started["upload"], content, content_type).status_code in (201, 204)
    assert client.post(f"/api/v1/files/{started['file']['id']}/confirm").status_code == 200
    return started["file"]["id"]


def fetch(url):
    response = Client().get(re.sub(r"^https?://[^/]+", "", url))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_thumbnail_is_not_attached_as_another_products_image(
    owner_a, company_a, make_product, django_capture_on_commit_callbacks
):
    first, second = make_product(company_a), make_product(company_a)
    with django_capture_on_commit_callbacks(execute=True):
        image = owner_a.post(
            f"/api/v1/products/{first.id}/images", {"file": uploaded(owner_a)}, format="json"
        )
    assert image.status_code == 201
    with tenant_context(company_a):
        thumbnail = ProductImage.objects.get(pk=image.json()["id"]).thumbnail_id
    assert thumbnail is not None
    # Removing the first image deletes its thumbnail: it cannot be the second product's image.
    taken = owner_a.post(
        f"/api/v1/products/{second.id}/images", {"file": str(thumbnail)}, format="json"
    )
    assert taken.status_code == 409 and error_code(taken) == "duplicate"
    with tenant_context(company_a):
        assert not ProductImage.objects.filter(product_id=second.id).exists()


def test_product_images_with_thumbnails_main_and_order(
    owner_a, company_a, make_product, django_capture_on_commit_callbacks
):
    product = make_product(company_a)
    url = f"/api/v1/products/{product.id}/images"
    with django_capture_on_commit_callbacks(execute=True):
        first = owner_a.post(url, {"file": uploaded(owner_a, png_bytes((800, 600)))}, format="json")
        second = owner_a.post(
            url, {"file": uploaded(owner_a, png_bytes((40, 40), (0, 0, 255)))}, format="json"
        )
    assert first.status_code == second.status_code == 201, first.json()
    images = owner_a.get(url).json()
    assert [(i["is_main"], i["position"]) for i in images] == [(True, 0), (False, 1)]
    thumbnail = fetch(images[0]["thumbnail_url"])
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(thumbnail)) as picture:
        assert picture.format == "WEBP" and max(picture.size) == 320
    listed = owner_a.get("/api/v1/products/").json()["results"][0]
    # Signed URLs differ per call (signature, time): the list shows the main image's thumbnail.
    assert fetch(listed["image"]) == thumbnail

    with django_capture_on_commit_callbacks(execute=True):
        third = owner_a.post(url, {"file": uploaded(owner_a, png_bytes((30, 30)))}, format="json")
    assert third.json()["position"] == 2
    moved = owner_a.patch(f"{url}/{third.json()['id']}", {"position": 0}, format="json")
    assert moved.status_code == 200 and moved.json()["position"] == 0
    order = [i["id"] for i in owner_a.get(url).json()]
    assert order == [images[0]["id"], third.json()["id"], images[1]["id"]]  # main first
    assert (
        owner_a.patch(f"{url}/{third.json()['id']}", {"position": -1}, format="json").status_code
        == 400
    )
    assert owner_a.delete(f"{url}/{third.json()['id']}").status_code == 204

    switched = owner_a.patch(f"{url}/{images[1]['id']}", {"is_main": True}, format="json")
    assert switched.json()["is_main"] is True
    # Unset it without naming another: refused, not a 200 that changes nothing.
    unset = owner_a.patch(f"{url}/{images[1]['id']}", {"is_main": False}, format="json")
    assert unset.status_code == 409 and error_code(unset) == "main_image"
    assert [i["id"] for i in owner_a.get(url).json() if i["is_main"]] == [images[1]["id"]]
    assert owner_a.delete(f"{url}/{images[1]['id']}").status_code == 204
    remaining = owner_a.get(url).json()
    assert [(i["id"], i["is_main"]) for i in remaining] == [(images[0]["id"], True)]
    with tenant_context(company_a):
        # Two images removed, each with its thumbnail.
        assert FileObject.objects.filter(status="deleted").count() == 4


def test_product_images_refuse_unconfirmed_foreign_or_wrong_files(
    owner_a, owner_b, company_a, make_product
):
    product = make_product(company_a)
    url = f"/api/v1/products/{product.id}/images"
    pending = request_upload(owner_a, png_bytes()).json()["file"]["id"]
    assert owner_a.post(url, {"file": pending}, format="json").status_code == 400
    document = uploaded(
        owner_a, b"%PDF-1.4 x", module="documents", content_type="application/pdf", name="x.pdf"
    )
    assert owner_a.post(url, {"file": document}, format="json").status_code == 400
    foreign = uploaded(owner_b)
    refused = owner_a.post(url, {"file": foreign}, format="json")
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]
    product_b = make_product(owner_b.user.memberships.get().company)
    assert (
        owner_a.post(
            f"/api/v1/products/{product_b.id}/images", {"file": uploaded(owner_a)}, format="json"
        ).status_code
        == 404
    )
    with tenant_context(company_a):
        assert not ProductImage.objects.exists()


def test_company_logo(owner_a, company_a, client_as):
    from ally360.roles import Role

    assert owner_a.get("/api/v1/companies/current/logo").json() == {"file": None, "url": None}
    first = uploaded(owner_a, module="company", name="logo.png")
    set_logo = owner_a.put("/api/v1/companies/current/logo", {"file": first}, format="json")
    assert set_logo.status_code == 200 and set_logo.json()["file"]["purpose"] == "logo"
    assert fetch(set_logo.json()["url"]) == png_bytes()
    second = uploaded(owner_a, png_bytes(color=(0, 255, 0)), module="company", name="nuevo.png")
    owner_a.put("/api/v1/companies/current/logo", {"file": second}, format="json")
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=first).status == "deleted"
    seller = client_as(company_a, Role.SELLER)
    assert seller.get("/api/v1/companies/current/logo").status_code == 200
    assert seller.delete("/api/v1/companies/current/logo").status_code == 403
    product_image = uploaded(owner_a)
    assert (
        owner_a.put(
            "/api/v1/companies/current/logo", {"file": product_image}, format="json"
        ).status_code
        == 400
    )
    assert owner_a.delete("/api/v1/companies/current/logo").status_code == 204
    assert owner_a.get("/api/v1/companies/current/logo").json()["file"] is None


def test_a_file_in_use_is_never_deleted_from_under_its_owner(
    owner_a, company_a, shop_a, make_product, django_capture_on_commit_callbacks
):
    """A product image, its thumbnail, the logo and a document's PDF (a replaced one too)
    answer 409 on `DELETE files/{id}/`; they go through their owner (the image, the logo, a new
    PDF, the purge of replaced PDFs)."""
    from invoices.models import Invoice
    from invoices.tests.fixtures import issue_invoice

    product = make_product(company_a)
    image_file = uploaded(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        image = owner_a.post(
            f"/api/v1/products/{product.id}/images", {"file": image_file}, format="json"
        ).json()
    logo = uploaded(owner_a, module="company", name="logo.png")
    attached = owner_a.put("/api/v1/companies/current/logo", {"file": logo}, format="json")
    assert attached.status_code == 200
    invoice = issue_invoice(owner_a, shop_a)

    with django_capture_on_commit_callbacks(execute=True):
        owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    with tenant_context(company_a):
        thumbnail = ProductImage.objects.get(pk=image["id"]).thumbnail_id
        pdf = Invoice.objects.get(pk=invoice["id"]).pdf_id
    assert thumbnail and pdf
    for file_id in (image_file, thumbnail, logo, pdf):
        refused = owner_a.delete(f"/api/v1/files/{file_id}/")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "file_in_use"
    with tenant_context(company_a):
        assert not FileObject.objects.filter(status=FileObject.Status.DELETED).exists()
    assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 200
    # A PDF replaced since (kept while an e-mail waits to send it) is the purge job's to remove.
    with tenant_context(company_a):
        Invoice.objects.filter(pk=invoice["id"]).update(pdf=None)
    superseded = owner_a.delete(f"/api/v1/files/{pdf}/")
    assert superseded.status_code == 409 and superseded.json()["error"]["code"] == "file_in_use"
    # Through the owner: the image goes with its files, and the file is then gone.
    removed = owner_a.delete(f"/api/v1/products/{product.id}/images/{image['id']}")
    assert removed.status_code == 204
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=image_file).status == FileObject.Status.DELETED


def confirmed_upload(client, store, request):
    """A PNG uploaded to local storage or to the S3 server and confirmed: (the upload function,
    the content, the upload answer)."""
    if store == "s3":
        request.getfixturevalue("s3_storage")
    put = s3_put if store == "s3" else local_put
    content = png_bytes()
    started = request_upload(client, content).json()
    assert put(started["upload"], content).status_code in (201, 204)
    assert client.post(f"/api/v1/files/{started['file']['id']}/confirm").json()["status"] == "ready"
    return put, content, started


@pytest.mark.parametrize("store", ["local", "s3"])
def test_the_upload_url_cannot_replace_a_confirmed_file(owner_a, store, request):
    """The client uploads beside the file's key; confirming copies the bytes to the key and
    checks the copy, so a second upload to the same URL never reaches what is served."""
    put, content, started = confirmed_upload(owner_a, store, request)
    file_id = started["file"]["id"]
    forged = b"<html><script>alert(1)</script>" + b" " * (len(content) - 31)
    put(started["upload"], forged, "image/png")  # accepted by storage, or not: never served
    url = owner_a.get(f"/api/v1/files/{file_id}/download").json()["url"]
    if store == "s3":
        import requests

        served = requests.get(url, timeout=10).content
    else:
        served = fetch(url)
    assert served == content


@pytest.mark.parametrize("store", ["local", "s3"])
def test_a_second_upload_to_a_used_url_is_cleared_once_the_url_expires(
    owner_a, company_a, store, request, make_product, django_capture_on_commit_callbacks
):
    """What lands on a used upload URL is never served, and the beat job deletes it once the
    URL has expired (nothing can land there after); files written by the server had no URL."""
    from datetime import timedelta

    from django.utils import timezone

    from files.backends import backend
    from files.services import upload_key
    from files.tasks import purge_stale_uploads

    put, content, started = confirmed_upload(owner_a, store, request)
    file_id = started["file"]["id"]
    assert put(started["upload"], content).status_code in (201, 204)  # the URL is still valid
    # Uploaded, not confirmed yet when its URL expires: its upload must stay to be confirmed.
    waiting = request_upload(owner_a, content).json()
    assert put(waiting["upload"], content).status_code in (201, 204)
    with django_capture_on_commit_callbacks(execute=True):  # a thumbnail: written server-side
        owner_a.post(
            f"/api/v1/products/{make_product(company_a).id}/images",
            {"file": file_id},
            format="json",
        )
    with tenant_context(company_a):
        file = FileObject.objects.get(pk=file_id)
        thumbnail = FileObject.objects.get(purpose="thumbnail")
    staged = upload_key(file.key)
    assert backend().info(staged) is not None and thumbnail.upload_cleared

    assert purge_stale_uploads.delay().get() == 0  # the URL has not expired: it could be used
    assert backend().info(staged) is not None
    with tenant_context(company_a):
        FileObject.objects.filter(pk__in=[file_id, waiting["file"]["id"]]).update(
            created_at=timezone.now() - timedelta(hours=1)
        )
    with django_capture_on_commit_callbacks(execute=True):  # the keys go once it commits
        assert purge_stale_uploads.delay().get() == 1
    with tenant_context(company_a):
        file.refresh_from_db()
    assert file.upload_cleared and file.status == "ready"
    assert backend().info(staged) is None
    assert backend().read(file.key) == content
    assert purge_stale_uploads.delay().get() == 0  # cleared once, not looked at again
    confirmed = owner_a.post(f"/api/v1/files/{waiting['file']['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "ready"


def test_deleting_a_product_deletes_its_images_files(
    owner_a, company_a, make_product, django_capture_on_commit_callbacks
):
    product = make_product(company_a)  # no stock, on no document: it can be deleted
    image_file = uploaded(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        image = owner_a.post(
            f"/api/v1/products/{product.id}/images", {"file": image_file}, format="json"
        ).json()
    with tenant_context(company_a):
        thumbnail = ProductImage.objects.get(pk=image["id"]).thumbnail_id
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.delete(f"/api/v1/products/{product.id}/").status_code == 204
    with tenant_context(company_a):
        files = FileObject.objects.filter(pk__in=[image_file, thumbnail])
        assert sorted(files.values_list("status", flat=True)) == ["deleted", "deleted"]
        keys = list(files.values_list("key", flat=True))
    from files.backends import backend

    assert all(backend().info(key) is None for key in keys)


def test_deleting_a_product_does_not_depend_on_the_object_store(
    owner_a, company_a, make_product, monkeypatch, django_capture_on_commit_callbacks
):
    from files.backends import LocalBackend, StorageUnavailable

    product = make_product(company_a)
    image_file = uploaded(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        owner_a.post(f"/api/v1/products/{product.id}/images", {"file": image_file}, format="json")

    def down(self, key):
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(LocalBackend, "delete", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.delete(f"/api/v1/products/{product.id}/").status_code == 204
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=image_file).status == FileObject.Status.DELETED
        assert not ProductImage.objects.filter(file_id=image_file).exists()


def test_a_thumbnail_of_an_image_with_the_longest_name_is_made(
    owner_a, company_a, make_product, django_capture_on_commit_callbacks
):
    """Upload names take up to 255 characters; the thumbnail's "-thumb.webp" shortens the
    stem to fit instead of failing (and leaving its object in storage)."""
    product = make_product(company_a)
    file_id = uploaded(owner_a, png_bytes((400, 400)), name="c" * 251 + ".png")
    with django_capture_on_commit_callbacks(execute=True):
        attached = owner_a.post(
            f"/api/v1/products/{product.id}/images", {"file": file_id}, format="json"
        )
    assert attached.status_code == 201, attached.json()
    with tenant_context(company_a):
        image = ProductImage.objects.get(pk=attached.json()["id"])
        thumbnail = FileObject.objects.get(pk=image.thumbnail_id)
    assert thumbnail.status == "ready"
    assert thumbnail.original_name == "c" * 250 + ".webp"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_logos_set_at_once_leave_one(company_a, monkeypatch):
    """Both would find the same previous logo (none here), keep their own and leave two,
    the older one then stuck as in use; they take turns, and the second replaces the first."""
    import time

    from accounts.models import Membership
    from ally360.roles import Role
    from conftest import client_for
    from files import services as file_services
    from inventory.tests.test_stock_concurrency import run_in_threads

    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    clients = [client_for(owner, company_a), client_for(owner, company_a)]
    files = [
        uploaded(client, module="company", name=f"logo{i}.png") for i, client in enumerate(clients)
    ]
    find_logo = file_services.company_logo

    def find_logo_slowly():
        found = find_logo()
        time.sleep(0.5)  # the other request finds the same one meanwhile
        return found

    monkeypatch.setattr(file_services, "company_logo", find_logo_slowly)

    def set_logo(index):
        url = "/api/v1/companies/current/logo"
        return clients[index].put(url, {"file": files[index]}, format="json").status_code

    results, errors = run_in_threads(2, set_logo)
    assert errors == {} and sorted(results.values()) == [200, 200], (results, errors)
    with tenant_context(company_a):
        logos = FileObject.objects.filter(module="company", purpose="logo", status="ready")
        assert logos.count() == 1


def test_a_damaged_picture_is_kept_without_a_thumbnail(
    owner_a, company_a, make_product, django_capture_on_commit_callbacks
):
    """Right first bytes, broken body: the upload passes its type check, and the thumbnail
    cannot be made. The image stays without one (no retry mends it) instead of an error, which
    with inline tasks was the answer to the request that attached it."""
    from products.services import product_image_make_thumbnail

    product = make_product(company_a)
    # Not merely truncated: WeasyPrint, once imported, makes Pillow load truncated images.
    damaged = png_bytes((400, 400))[:16] + bytes(300)
    file_id = uploaded(owner_a, damaged, name="rota.png")
    with django_capture_on_commit_callbacks(execute=True):
        attached = owner_a.post(
            f"/api/v1/products/{product.id}/images", {"file": file_id}, format="json"
        )
    assert attached.status_code == 201, attached.json()
    with tenant_context(company_a):
        image = ProductImage.objects.get(pk=attached.json()["id"])
        assert image.thumbnail_id is None and image.file_id is not None
        # The task's work, again: it ends quietly (no retry mends a damaged picture).
        assert product_image_make_thumbnail(image=image).thumbnail_id is None


def test_an_image_removed_as_its_thumbnail_is_made_takes_the_thumbnail_along(
    owner_a, company_a, make_product
):
    """The request read the image before the worker gave it a thumbnail: the removal reads it
    again under its lock, so the thumbnail's file goes too instead of staying unreferenced."""
    from django.db import transaction

    from products.services import product_image_make_thumbnail, product_image_remove

    product = make_product(company_a)
    attached = owner_a.post(
        f"/api/v1/products/{product.id}/images", {"file": uploaded(owner_a)}, format="json"
    )
    assert attached.status_code == 201, attached.json()
    with tenant_context(company_a), transaction.atomic():
        read_by_the_request = ProductImage.objects.select_related("file", "thumbnail").get()
        assert read_by_the_request.thumbnail is None
        thumbnail_id = product_image_make_thumbnail(image=read_by_the_request).thumbnail_id
        product_image_remove(image=read_by_the_request)
        assert FileObject.objects.get(pk=thumbnail_id).status == FileObject.Status.DELETED


def test_an_image_made_main_from_a_stale_read_leaves_one_main(owner_a, company_a, make_product):
    """The request read image 1 while it was main; meanwhile image 2 became main. Making image
    1 main again must leave exactly one main image (the stale flag skipped its write: none)."""
    from products.services import product_image_update

    product = make_product(company_a)
    url = f"/api/v1/products/{product.id}/images"
    first = owner_a.post(url, {"file": uploaded(owner_a)}, format="json").json()
    second = owner_a.post(url, {"file": uploaded(owner_a, name="b.png")}, format="json").json()
    with tenant_context(company_a):
        stale = ProductImage.objects.get(pk=first["id"])
    assert (
        owner_a.patch(f"{url}/{second['id']}", {"is_main": True}, format="json").status_code == 200
    )
    with tenant_context(company_a):
        product_image_update(image=stale, data={"is_main": True})
        mains = list(
            ProductImage.objects.filter(product=product, is_main=True).values_list("pk", flat=True)
        )
    assert [str(pk) for pk in mains] == [first["id"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_file_deleted_while_it_is_attached_is_either_attached_or_deleted(
    company_a, make_product, monkeypatch
):
    """The attach read the file as ready before the delete ran; the delete found it unused and
    deleted it; the attach then made an image of a deleted file. The attach now locks the file
    and reads it again, so the delete waits and finds it in use (409), or went first and the
    attach is refused: never both."""
    import time

    from accounts.models import Membership
    from ally360.roles import Role
    from conftest import client_for
    from inventory.tests.test_stock_concurrency import run_in_threads
    from products import services as product_services

    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    clients = [client_for(owner, company_a), client_for(owner, company_a)]
    product = make_product(company_a)
    file_id = uploaded(clients[0])
    check = product_services.require_ready

    def check_slowly(*args, **kwargs):
        time.sleep(0.5)  # the delete runs meanwhile
        return check(*args, **kwargs)

    monkeypatch.setattr(product_services, "require_ready", check_slowly)

    def attach_or_delete(index):
        if index == 0:
            url = f"/api/v1/products/{product.id}/images"
            return clients[0].post(url, {"file": file_id}, format="json").status_code
        time.sleep(0.2)  # the attach has read the file by now
        return clients[1].delete(f"/api/v1/files/{file_id}/").status_code

    results, errors = run_in_threads(2, attach_or_delete)
    assert errors == {}, errors
    with tenant_context(company_a):
        file = FileObject.objects.get(pk=file_id)
        images = list(ProductImage.objects.filter(file_id=file_id))
    if images:
        assert results == {0: 201, 1: 409} and file.status == FileObject.Status.READY
    else:
        assert results == {0: 400, 1: 204} and file.status == FileObject.Status.DELETED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_logo_deleted_while_it_is_set_leaves_the_old_logo(company_a, monkeypatch):
    """Setting a logo read the new file as ready; a delete of that file ran meanwhile; the
    set then deleted the old logo for a file already gone, leaving none. The set now locks the
    file: the delete waits and finds it in use (it is the logo by then)."""
    import time

    from accounts.models import Membership
    from ally360.roles import Role
    from conftest import client_for
    from files import services as file_services
    from inventory.tests.test_stock_concurrency import run_in_threads

    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    clients = [client_for(owner, company_a), client_for(owner, company_a)]
    old, new = (uploaded(clients[0], module="company", name=f"{n}.png") for n in ("old", "new"))
    url = "/api/v1/companies/current/logo"
    assert clients[0].put(url, {"file": old}, format="json").status_code == 200
    check = file_services.require_ready

    def check_slowly(*args, **kwargs):
        time.sleep(0.5)
        return check(*args, **kwargs)

    monkeypatch.setattr(file_services, "require_ready", check_slowly)

    def set_or_delete(index):
        if index == 0:
            return clients[0].put(url, {"file": new}, format="json").status_code
        time.sleep(0.2)
        return clients[1].delete(f"/api/v1/files/{new}/").status_code

    results, errors = run_in_threads(2, set_or_delete)
    assert errors == {}, errors
    with tenant_context(company_a):
        logo = file_services.company_logo()
    assert logo is not None
    if results == {0: 200, 1: 409}:
        assert str(logo.pk) == new
    else:
        assert results == {0: 400, 1: 204} and str(logo.pk) == old
