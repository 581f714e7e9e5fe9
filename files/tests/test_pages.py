"""The files page: a document sent from the browser straight to storage, confirmed once
(`file_upload_confirm`), listed by module, downloaded through a signed URL, deleted with its
object; refusals (a module the role does not write, a type the module does not take, content
that is not what was declared) keep nothing; each role sees the modules it reads (purchases'
files only the back office); another company's files are 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ally360.roles import Role
from ally360.tenancy import tenant_context
from files.models import FileObject
from files.tests.test_files_api import PDF, local_put
from inventory.tests.test_adjustment_page import pages_as

pytestmark = pytest.mark.django_db

URL = "/files/"


def start(client, content, module="documents", content_type="application/pdf", name="rut.pdf"):
    return client.post(
        f"{URL}upload/",
        {"module": module, "name": name, "content_type": content_type, "size": len(content)},
    )


def kept(client, content=PDF, module="documents", name="rut.pdf") -> str:
    answer = start(client, content, module=module, name=name)
    assert answer.status_code == 201, answer.json()
    assert local_put(answer.json()["upload"], content, "application/pdf").status_code == 201
    file_id = answer.json()["file"]
    assert client.post(f"{URL}confirm/", {"file": file_id}).status_code == 302
    return file_id


def status(company, file_id) -> str:
    with tenant_context(company):
        return FileObject.objects.get(pk=file_id).status


def listed(client, query="") -> list[str]:
    page = client.get(f"{URL}{query}").content.decode()
    return re.findall(r'<a href="/files/[^"]+/download/">([^<]+)</a>', page)


def test_an_owner_keeps_downloads_and_deletes_a_document(company_a):
    owner = pages_as(company_a, Role.OWNER)
    assert b'href="/files/"' in owner.get("/").content
    file_id = kept(owner, name="rut.pdf")
    again = owner.post(f"{URL}confirm/", {"file": file_id})  # resent: kept once
    assert "El archivo ya se había guardado" in owner.get(again["Location"]).content.decode()
    kept(owner, module="bills", name="factura-proveedor.pdf")
    assert status(company_a, file_id) == FileObject.Status.READY
    assert listed(owner) == ["factura-proveedor.pdf", "rut.pdf"]
    assert listed(owner, "?module=documents") == ["rut.pdf"]
    download = owner.get(f"{URL}{file_id}/download/")
    assert download.status_code == 302
    fetched = Client().get(re.sub(r"^https?://[^/]+", "", download["Location"]))
    assert b"".join(fetched.streaming_content) == PDF
    deleted = owner.post(f"{URL}{file_id}/delete/")
    assert "Archivo rut.pdf eliminado" in owner.get(deleted["Location"]).content.decode()
    assert status(company_a, file_id) == FileObject.Status.DELETED
    assert listed(owner) == ["factura-proveedor.pdf"]


def test_refusals_keep_nothing(company_a):
    owner = pages_as(company_a, Role.OWNER)
    for module in ("products", "company", "nope"):  # images have their own pages
        assert start(owner, PDF, module=module).status_code == 400
    image = start(owner, PDF, content_type="image/png", name="foto.png")
    assert image.status_code == 400 and image.json()["error"]
    fake = start(owner, b"plain text, no PDF", name="falso.pdf").json()
    local_put(fake["upload"], b"plain text, no PDF", "application/pdf")
    refused = owner.post(f"{URL}confirm/", {"file": fake["file"]})
    assert "no coincide con lo declarado" in owner.get(refused["Location"]).content.decode()
    assert status(company_a, fake["file"]) != FileObject.Status.READY
    unknown = owner.post(f"{URL}confirm/", {"file": "00000000-0000-4000-8000-000000000000"})
    assert "No se encontró ese envío" in owner.get(unknown["Location"]).content.decode()
    assert listed(owner) == []


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_see_the_modules_they_read(company_a, role):
    owner = pages_as(company_a, Role.OWNER)
    document = kept(owner, name="contrato.pdf")
    purchase = kept(owner, module="bills", name="factura-proveedor.pdf")
    client = pages_as(company_a, role)
    assert listed(client) == ["contrato.pdf"]  # purchases' files: the back office only
    assert client.get(f"{URL}{purchase}/download/").status_code == 404
    assert client.get(f"{URL}{document}/download/").status_code == 302
    if role == Role.VIEWER:  # reads only
        assert b"data-direct-upload" not in client.get(URL).content
        assert start(client, PDF).status_code == 403
        assert client.post(f"{URL}{document}/delete/").status_code == 403
    else:  # sellers keep documents, not purchases' files
        assert start(client, PDF, module="bills").status_code == 400
        assert start(client, PDF).status_code == 201
    assert status(company_a, document) == FileObject.Status.READY


def test_another_company_s_files_are_404_and_stay(company_a, company_b):
    owner_a = pages_as(company_a, Role.OWNER)
    file_id = kept(owner_a)
    other = pages_as(company_b, Role.OWNER)
    assert listed(other) == []
    assert other.get(f"{URL}{file_id}/download/").status_code == 404
    assert other.post(f"{URL}{file_id}/delete/").status_code == 404
    answer = other.post(f"{URL}confirm/", {"file": file_id})
    assert "No se encontró ese envío" in other.get(answer["Location"]).content.decode()
    assert status(company_a, file_id) == FileObject.Status.READY


def test_the_list_reads_the_same_statements_whatever_its_length(company_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = pages_as(company_a, Role.OWNER)
    counts = []
    for number in range(3):
        kept(owner, name=f"doc-{number}.pdf")
        with CaptureQueriesContext(connection) as queries:
            assert owner.get(URL).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts
