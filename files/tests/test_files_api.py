"""files/: the upload flow on local disk and on S3 (moto's server over real HTTP)."""

import re
import uuid
from datetime import timedelta

import pytest
import requests
from django.core.files.storage import storages
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code, png_bytes
from files.backends import backend
from files.models import FileObject

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def request_upload(
    client, content, *, module="products", name="foto.png", content_type="image/png", size=None
):
    response = client.post(
        "/api/v1/files/upload",
        {
            "module": module,
            "name": name,
            "content_type": content_type,
            "size": len(content) if size is None else size,
        },
        format="json",
    )
    return response


def local_put(upload, content, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = re.sub(r"^https?://[^/]+", "", upload["url"])
    return Client().post(
        path, {**upload["fields"], "file": SimpleUploadedFile("x", content, content_type)}
    )


def s3_put(upload, content, content_type="image/png"):
    return requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("x", content, content_type)},
        timeout=10,
    )


def test_local_upload_confirm_and_download(owner_a, company_a):
    content = png_bytes()
    started = request_upload(owner_a, content, name="Logo tienda.png")
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["file"]["status"] == "pending"
    assert body["upload"]["method"] == "POST"
    assert local_put(body["upload"], content).status_code == 201
    confirmed = owner_a.post(f"/api/v1/files/{body['file']['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "ready"
    with tenant_context(company_a):
        key = FileObject.objects.get().key
    assert re.match(
        rf"^ally360/{company_a.id}/products/\d{{4}}/\d{{2}}/\d{{2}}/[0-9a-f-]{{36}}$", key
    )
    download = owner_a.get(f"/api/v1/files/{body['file']['id']}/download").json()
    response = Client().get(re.sub(r"^https?://[^/]+", "", download["url"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert 'filename="Logo tienda.png"' in response["Content-Disposition"]


def test_declared_limits_are_enforced_at_request(owner_a, company_a):
    too_big = request_upload(owner_a, b"", size=5 * 1024 * 1024 + 1)
    assert too_big.status_code == 400 and error_code(too_big) == "size_not_allowed"
    wrong_type = request_upload(owner_a, b"x", content_type="image/gif")
    assert wrong_type.status_code == 400 and error_code(wrong_type) == "type_not_allowed"
    pdf_as_image = request_upload(owner_a, PDF, content_type="application/pdf")
    assert pdf_as_image.status_code == 400
    unknown = request_upload(owner_a, PDF, module="secrets", content_type="application/pdf")
    assert unknown.status_code == 400
    document = request_upload(
        owner_a, b"x" * (10 * 1024 * 1024), module="documents", content_type="application/pdf"
    )
    assert document.status_code == 201
    with tenant_context(company_a):
        assert FileObject.objects.count() == 1


def test_confirm_refuses_a_mismatch_and_deletes_the_object(owner_a, company_a):
    content = png_bytes()
    lying_size = request_upload(owner_a, content, size=len(content) + 10).json()
    local_put(lying_size["upload"], content)
    refused = owner_a.post(f"/api/v1/files/{lying_size['file']['id']}/confirm")
    assert refused.status_code == 400 and error_code(refused) == "upload_mismatch"
    with tenant_context(company_a):
        key = FileObject.objects.get(pk=lying_size["file"]["id"]).key
    assert backend().info(key) is None
    disguised = request_upload(owner_a, PDF, content_type="image/png").json()
    local_put(disguised["upload"], PDF)
    refused = owner_a.post(f"/api/v1/files/{disguised['file']['id']}/confirm")
    assert refused.status_code == 400
    assert "su contenido no es image/png" in refused.json()["error"]["message"]
    never_sent = request_upload(owner_a, content).json()
    missing = owner_a.post(f"/api/v1/files/{never_sent['file']['id']}/confirm")
    assert missing.status_code == 400 and error_code(missing) == "not_uploaded"


def test_local_upload_limit_and_expired_urls_are_refused(owner_a, settings):
    content = png_bytes()
    started = request_upload(owner_a, content).json()
    settings.FILE_UPLOAD_EXPIRY = -1
    assert local_put(started["upload"], content).status_code == 403
    settings.FILE_UPLOAD_EXPIRY = 900
    assert local_put(started["upload"], b"\x89PNG" + b"0" * (6 * 1024 * 1024)).status_code == 400
    assert local_put(started["upload"], content).status_code == 201
    owner_a.post(f"/api/v1/files/{started['file']['id']}/confirm")
    url = owner_a.get(f"/api/v1/files/{started['file']['id']}/download").json()["url"]
    settings.FILE_DOWNLOAD_EXPIRY = -1
    assert Client().get(re.sub(r"^https?://[^/]+", "", url)).status_code == 403
    forged = re.sub(r"download/([^/]+)$", lambda m: "download/" + m.group(1)[::-1], url)
    settings.FILE_DOWNLOAD_EXPIRY = 3600
    assert Client().get(re.sub(r"^https?://[^/]+", "", forged)).status_code == 403


SPOOLED: list[int] = []


class CountingUploadHandler(TemporaryFileUploadHandler):
    """Counts the bytes of a request body Django reads into files."""

    def receive_data_chunk(self, raw_data, start):
        SPOOLED.append(len(raw_data))
        return super().receive_data_chunk(raw_data, start)


def test_a_local_upload_url_is_checked_before_the_body_is_read(owner_a, settings):
    """An anonymous body was read to disk whole before its token was looked at: a forged URL
    filled the disk with whatever size it was sent."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.CountingUploadHandler"]
    SPOOLED.clear()
    anonymous = Client()
    big = SimpleUploadedFile("x.bin", b"\0" * (3 * 1024 * 1024), "application/octet-stream")
    forged = anonymous.post("/files/local/upload/forged-token", {"file": big})
    assert forged.status_code == 403 and error_code(forged) == "url_invalid"
    assert anonymous.post("/files/local/upload/forged-token", {}).status_code == 403
    # A genuine URL sent more than it allows: refused before reading it.
    started = request_upload(owner_a, png_bytes()).json()
    path = re.sub(r"^https?://[^/]+", "", started["upload"]["url"])
    too_big = SimpleUploadedFile("x.png", b"\x89PNG" + b"0" * (6 * 1024 * 1024), "image/png")
    refused = anonymous.post(path, {"file": too_big})
    assert refused.status_code == 400 and error_code(refused) == "entity_too_large"
    assert sum(SPOOLED) == 0


def test_list_delete_and_another_tenants_file(owner_a, owner_b, company_b):
    content = png_bytes()
    theirs = request_upload(owner_b, content).json()
    local_put(theirs["upload"], content)
    owner_b.post(f"/api/v1/files/{theirs['file']['id']}/confirm")
    file_id = theirs["file"]["id"]
    assert owner_a.get(f"/api/v1/files/{file_id}/").status_code == 404
    assert owner_a.get(f"/api/v1/files/{file_id}/download").status_code == 404
    assert owner_a.post(f"/api/v1/files/{file_id}/confirm").status_code == 404
    assert owner_a.delete(f"/api/v1/files/{file_id}/").status_code == 404
    assert owner_a.get("/api/v1/files/").json()["count"] == 0
    with tenant_context(company_b):
        assert FileObject.objects.get(pk=file_id).status == "ready"
    assert owner_b.get("/api/v1/files/", {"module": "products"}).json()["count"] == 1
    assert owner_b.delete(f"/api/v1/files/{file_id}/").status_code == 204
    with tenant_context(company_b):
        file = FileObject.objects.get(pk=file_id)
        assert file.status == "deleted"
    assert not storages["default"].exists(file.key)
    assert owner_b.get(f"/api/v1/files/{file_id}/download").status_code == 409


# Who may add files of each module: the writers of what the files belong to.
WRITERS = {
    "products": {Role.OWNER, Role.ADMIN},  # catalog
    "company": {Role.OWNER, Role.ADMIN},
    "invoices": {Role.OWNER, Role.ADMIN, Role.SELLER},
    "bills": {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT},
    "contacts": {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT, Role.SELLER},
    "documents": {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT, Role.SELLER},
}
# Purchases are private to the back office: sellers and viewers never see a bill's files.
READERS_OF_BILLS = {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT}


def content_for(module) -> tuple[bytes, str]:
    return (
        (png_bytes(), "image/png")
        if module in ("products", "company")
        else (PDF, "application/pdf")
    )


def uploaded_file(client, module) -> str:
    content, content_type = content_for(module)
    started = request_upload(client, content, module=module, content_type=content_type)
    assert started.status_code == 201, started.json()
    local_put(started.json()["upload"], content, content_type)
    file_id = started.json()["file"]["id"]
    assert client.post(f"/api/v1/files/{file_id}/confirm").status_code == 200
    return file_id


@pytest.mark.parametrize("role", ALL_ROLES)
def test_file_roles_follow_the_module_the_file_belongs_to(company_a, owner_a, client_as, role):
    client = client_as(company_a, role)
    for module, writers in WRITERS.items():
        content, content_type = content_for(module)
        started = request_upload(client, content, module=module, content_type=content_type)
        assert started.status_code == (201 if role in writers else 403), (module, started.json())

    owners = {module: uploaded_file(owner_a, module) for module in WRITERS}
    listed = {row["module"] for row in client.get("/api/v1/files/").json()["results"]}
    readable = set(WRITERS) - (set() if role in READERS_OF_BILLS else {"bills"})
    assert readable <= listed and listed <= readable
    bill_scan = owners["bills"]
    expected = 200 if role in READERS_OF_BILLS else 404
    assert client.get(f"/api/v1/files/{bill_scan}/").status_code == expected
    assert client.get(f"/api/v1/files/{bill_scan}/download").status_code == expected
    for module, file_id in owners.items():
        if module == "bills" and role not in READERS_OF_BILLS:
            continue
        deleted = client.delete(f"/api/v1/files/{file_id}/")
        assert deleted.status_code == (204 if role in WRITERS[module] else 403), module


def test_the_beat_job_purges_stale_uploads_with_their_objects(owner_a, company_a):
    from django.utils import timezone

    from files.tasks import purge_stale_uploads

    content = png_bytes()
    stale = request_upload(owner_a, content).json()
    local_put(stale["upload"], content)
    never_sent = request_upload(owner_a, content).json()
    fresh = request_upload(owner_a, content).json()
    with tenant_context(company_a):
        for hours, upload in ((25, stale), (26, never_sent)):
            FileObject.objects.filter(pk=upload["file"]["id"]).update(
                created_at=timezone.now() - timedelta(hours=hours)
            )
        key = FileObject.objects.get(pk=stale["file"]["id"]).key
    assert purge_stale_uploads.delay().get() == 1  # one job for the company's two
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=stale["file"]["id"]).status == "deleted"
        assert FileObject.objects.get(pk=never_sent["file"]["id"]).status == "deleted"
        assert FileObject.objects.get(pk=fresh["file"]["id"]).status == "pending"
    assert not storages["default"].exists(key)


# --- S3 over HTTP (moto server) ----------------------------------------------------------------


def test_s3_upload_confirm_download_over_http(owner_a, company_a, s3_storage, moto_server):
    content = png_bytes()
    started = request_upload(owner_a, content, name="Camiseta roja.png").json()
    upload = started["upload"]
    # Signed for the public host, restricted to one key under this company's prefix.
    assert upload["url"].startswith(f"http://localhost:{moto_server}/")
    assert upload["fields"]["key"].startswith(f"ally360/{company_a.id}/products/")
    assert upload["fields"]["Content-Type"] == "image/png"
    import base64
    import json

    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 5 * 1024 * 1024] in policy["conditions"]
    assert ["eq", "$key", upload["fields"]["key"]] in policy["conditions"]
    assert s3_put(upload, content).status_code in (200, 201, 204)
    confirmed = owner_a.post(f"/api/v1/files/{started['file']['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    download = owner_a.get(f"/api/v1/files/{started['file']['id']}/download").json()
    assert download["url"].startswith(f"http://localhost:{moto_server}/{s3_storage}/ally360/")
    assert "X-Amz-Signature=" in download["url"] and "X-Amz-Expires=3600" in download["url"]
    fetched = requests.get(download["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == content


def test_s3_confirm_refuses_a_mismatch_and_deletes_the_object(owner_a, company_a, s3_storage):
    content = png_bytes()
    started = request_upload(owner_a, content, size=len(content) + 1).json()
    s3_put(started["upload"], content)
    refused = owner_a.post(f"/api/v1/files/{started['file']['id']}/confirm")
    assert refused.status_code == 400
    with tenant_context(company_a):
        key = FileObject.objects.get(pk=started["file"]["id"]).key
    assert backend().info(key) is None


def test_s3_down_answers_503_and_the_rest_of_the_api_works(
    owner_a, company_a, s3_storage, settings, make_shop
):
    from invoices.tests.fixtures import issue_invoice

    content = png_bytes()
    ready = request_upload(owner_a, content).json()
    s3_put(ready["upload"], content)
    assert owner_a.post(f"/api/v1/files/{ready['file']['id']}/confirm").status_code == 200
    pending = request_upload(owner_a, content).json()
    s3_put(pending["upload"], content)
    shop = make_shop(company_a)

    settings.STORAGES["default"]["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"
    settings.STORAGES = dict(settings.STORAGES)  # reset the storage handler
    # Every endpoint that touches the store answers 503 with a clear error, and changes nothing.
    for method, path in (
        ("post", "/api/v1/files/upload"),
        ("post", f"/api/v1/files/{pending['file']['id']}/confirm"),
        ("get", f"/api/v1/files/{ready['file']['id']}/download"),
        ("delete", f"/api/v1/files/{ready['file']['id']}/"),
    ):
        if path.endswith("upload"):
            response = request_upload(owner_a, content)
        else:
            response = getattr(owner_a, method)(path)
        assert response.status_code == 503, (path, response.content)
        assert error_code(response) == "storage_unavailable", path
    with tenant_context(company_a):
        statuses = dict(FileObject.objects.values_list("pk", "status"))
    assert statuses == {
        uuid.UUID(ready["file"]["id"]): "ready",
        uuid.UUID(pending["file"]["id"]): "pending",
    }
    # Everything else works: reads, master data, a sale.
    assert owner_a.get("/api/v1/contacts/").status_code == 200
    created = owner_a.post("/api/v1/categories/", {"name": "Sin almacenamiento"}, format="json")
    assert created.status_code == 201
    assert issue_invoice(owner_a, shop)["status"] == "open"


def test_s3_disguised_type_foreign_ids_download_name_and_expiry(
    owner_a, owner_b, company_a, s3_storage
):
    """On the S3 path too: content that is not the declared type is refused and deleted,
    another company's file id is a 404 for every operation, the download carries the original
    name, and the upload policy lives 15 minutes."""
    import base64
    import json
    from datetime import datetime
    from urllib.parse import parse_qs, urlparse

    disguised = request_upload(owner_a, PDF, content_type="image/png").json()
    assert s3_put(disguised["upload"], PDF).status_code in (200, 201, 204)
    refused = owner_a.post(f"/api/v1/files/{disguised['file']['id']}/confirm")
    assert refused.status_code == 400 and error_code(refused) == "upload_mismatch"
    with tenant_context(company_a):
        key = FileObject.objects.get(pk=disguised["file"]["id"]).key
    assert backend().info(key) is None

    content = png_bytes()
    asked_at = timezone.now()
    started = request_upload(owner_a, content, name="Lista de precios.png").json()
    policy = json.loads(base64.b64decode(started["upload"]["fields"]["policy"]))
    signed_until = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    announced = datetime.fromisoformat(started["expires_at"])
    assert abs(signed_until - asked_at - timedelta(minutes=15)) < timedelta(seconds=5)
    assert abs(signed_until - announced) < timedelta(seconds=2)

    s3_put(started["upload"], content)
    file_id = started["file"]["id"]
    assert owner_b.post(f"/api/v1/files/{file_id}/confirm").status_code == 404
    assert owner_a.post(f"/api/v1/files/{file_id}/confirm").status_code == 200
    for method, path in (
        ("get", f"/api/v1/files/{file_id}/"),
        ("get", f"/api/v1/files/{file_id}/download"),
        ("delete", f"/api/v1/files/{file_id}/"),
    ):
        assert getattr(owner_b, method)(path).status_code == 404
    url = owner_a.get(f"/api/v1/files/{file_id}/download").json()["url"]
    disposition = parse_qs(urlparse(url).query)["response-content-disposition"][0]
    assert "Lista de precios.png" in disposition or "Lista%20de%20precios.png" in disposition
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == content
    assert "precios.png" in fetched.headers["Content-Disposition"]
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=file_id).status == "ready"


@pytest.mark.parametrize("label", ["application/vnd.ms-excel", "", "text/plain", "Text/CSV"])
def test_a_csv_file_is_csv_whatever_the_browser_calls_it(owner_a, company_a, label):
    """Windows browsers label a .csv file `application/vnd.ms-excel`; others send no type or
    plain text. A file named .csv is taken as CSV, stored as CSV, and still checked as text."""
    content = "fecha;descripción;total\n2026-12-07;Arroz;15000\n".encode()
    started = request_upload(
        owner_a, content, module="documents", name="Ventas.CSV", content_type=label
    )
    assert started.status_code == 201, started.json()
    assert started.json()["file"]["content_type"] == "text/csv"
    local_put(started.json()["upload"], content, content_type=label or "application/octet-stream")
    confirmed = owner_a.post(f"/api/v1/files/{started.json()['file']['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["content_type"] == "text/csv"


def test_only_a_csv_name_makes_an_excel_label_csv(owner_a, company_a):
    """An old Excel workbook (.xls) is still refused, and binary content named .csv fails its
    check on confirmation and is deleted."""
    refused = request_upload(
        owner_a,
        b"x",
        module="documents",
        name="ventas.xls",
        content_type="application/vnd.ms-excel",
    )
    assert refused.status_code == 400 and error_code(refused) == "type_not_allowed"
    untyped = request_upload(owner_a, b"x", module="documents", name="notas", content_type="")
    assert untyped.status_code == 400 and error_code(untyped) == "type_not_allowed"
    assert untyped.json()["error"]["message"].startswith("No se conoce el tipo del archivo.")
    binary = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"  # an .xls file renamed .csv
    started = request_upload(
        owner_a,
        binary,
        module="documents",
        name="ventas.csv",
        content_type="application/vnd.ms-excel",
    ).json()
    local_put(started["upload"], binary, content_type="application/vnd.ms-excel")
    mismatch = owner_a.post(f"/api/v1/files/{started['file']['id']}/confirm")
    assert mismatch.status_code == 400 and error_code(mismatch) == "upload_mismatch"
    with tenant_context(company_a):
        assert backend().info(FileObject.objects.get(pk=started["file"]["id"]).key) is None


def test_s3_stores_a_csv_labelled_as_excel_as_csv(owner_a, company_a, s3_storage):
    content = b"producto,cantidad\nArroz,3\n"
    started = request_upload(
        owner_a,
        content,
        module="documents",
        name="inventario.csv",
        content_type="application/vnd.ms-excel",
    ).json()
    assert s3_put(started["upload"], content, "application/vnd.ms-excel").status_code in (200, 204)
    confirmed = owner_a.post(f"/api/v1/files/{started['file']['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.json()
    with tenant_context(company_a):
        key = FileObject.objects.get(pk=started["file"]["id"]).key
    assert backend().info(key).content_type == "text/csv"
