"""A record's attachments: `bills/{id}/attachments`, `invoices/{id}/attachments`,
`contacts/{id}/attachments` (a supplier's invoice scan, a customer's purchase order, a RUT)."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.storage import storages

from ally360.roles import has_permission
from ally360.tenancy import tenant_context
from bills.tests.test_bills_api import bill_payload, buy_a, buy_b  # noqa: F401 - fixtures
from conftest import ALL_ROLES, error_code
from contacts.models import Contact
from files.models import FileObject
from files.services import MAX_ATTACHMENTS
from files.tests.test_files_api import PDF, request_upload, uploaded_file
from invoices.tests.test_invoices_api import draft

pytestmark = pytest.mark.django_db


def draft_bill(client, buy, number="F-1001") -> str:
    response = client.post("/api/v1/bills/", bill_payload(buy, number=number), format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def draft_invoice(client, shop) -> str:
    """A draft invoice for the shop's customer (the invoices' tests' `draft`): its id."""
    return draft(client, shop)["id"]


def attachments(client, kind, record_id):
    return client.get(f"/api/v1/{kind}/{record_id}/attachments")


def attach(client, kind, record_id, file_id):
    return client.post(f"/api/v1/{kind}/{record_id}/attachments", {"file": file_id}, format="json")


def file_row(company, file_id) -> FileObject:
    with tenant_context(company):
        return FileObject.objects.get(pk=file_id)


def test_a_bill_keeps_its_suppliers_invoice(
    owner_a,
    company_a,
    buy_a,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    bill = draft_bill(owner_a, buy_a)
    scan = uploaded_file(owner_a, "bills")
    attached = attach(owner_a, "bills", bill, scan)
    assert attached.status_code == 201, attached.json()
    assert attached.json()["id"] == scan and attached.json()["record_id"] == bill
    # A retry finds it attached; the list and files/?record_id= show it.
    assert attach(owner_a, "bills", bill, scan).status_code == 201
    assert [f["id"] for f in attachments(owner_a, "bills", bill).json()] == [scan]
    listed = owner_a.get("/api/v1/files/", {"record_id": bill}).json()["results"]
    assert [f["id"] for f in listed] == [scan]
    download = owner_a.get(f"/api/v1/files/{scan}/download")
    assert download.status_code == 200

    # A file is one record's; it is removed through the record and deleted.
    other = draft_bill(owner_a, buy_a, number="F-1002")
    taken = attach(owner_a, "bills", other, scan)
    assert taken.status_code == 409 and error_code(taken) == "attached_elsewhere"
    assert attachments(owner_a, "bills", other).json() == []
    assert owner_a.delete(f"/api/v1/bills/{other}/attachments/{scan}").status_code == 404
    assert owner_a.delete(f"/api/v1/bills/{bill}/attachments/{scan}").status_code == 204
    assert attachments(owner_a, "bills", bill).json() == []
    gone = file_row(company_a, scan)
    assert gone.status == FileObject.Status.DELETED
    assert not storages["default"].exists(gone.key)

    # Deleting a draft deletes its files, their objects once the delete commits.
    second = uploaded_file(owner_a, "bills")
    assert attach(owner_a, "bills", other, second).status_code == 201
    kept = file_row(company_a, second)
    assert storages["default"].exists(kept.key)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.delete(f"/api/v1/bills/{other}/").status_code == 204
    assert file_row(company_a, second).status == FileObject.Status.DELETED
    assert not storages["default"].exists(kept.key)


def test_only_a_ready_file_of_the_records_module_is_attached(owner_a, company_a, buy_a):  # noqa: F811
    bill = draft_bill(owner_a, buy_a)
    contact_file = uploaded_file(owner_a, "contacts")
    wrong = attach(owner_a, "bills", bill, contact_file)
    assert wrong.status_code == 400 and "file" in wrong.json()["error"]["fields"]

    pending = request_upload(
        owner_a, PDF, module="bills", name="f.pdf", content_type="application/pdf"
    ).json()["file"]["id"]
    unconfirmed = attach(owner_a, "bills", bill, pending)
    assert unconfirmed.status_code == 400
    assert list(unconfirmed.json()["error"]["fields"]) == ["file"]

    deleted = uploaded_file(owner_a, "bills")
    assert owner_a.delete(f"/api/v1/files/{deleted}/").status_code == 204
    assert attach(owner_a, "bills", bill, deleted).status_code == 400

    with tenant_context(company_a):  # a file the server wrote (a document's PDF)
        made = FileObject.objects.create(
            module="bills",
            purpose="pdf",
            key=f"made/{uuid.uuid4()}",
            original_name="FC-00001.pdf",
            content_type="application/pdf",
            size=10,
            status=FileObject.Status.READY,
        )
    assert attach(owner_a, "bills", bill, str(made.pk)).status_code == 400
    assert attach(owner_a, "bills", bill, str(uuid.uuid4())).status_code == 400
    assert attachments(owner_a, "bills", bill).json() == []
    with tenant_context(company_a):
        assert not FileObject.objects.filter(record_id=bill).exists()


def ready_files(company, module, count, record_id=None) -> list[str]:
    """Ready files as rows only (no stored object): for counting, never downloaded."""
    with tenant_context(company):
        return [
            str(
                FileObject.objects.create(
                    module=module,
                    key=f"rows/{uuid.uuid4()}",
                    original_name=f"{n}.pdf",
                    content_type="application/pdf",
                    size=10,
                    status=FileObject.Status.READY,
                    record_id=record_id,
                ).pk
            )
            for n in range(count)
        ]


def test_a_record_keeps_up_to_the_limit(owner_a, company_a, shop_a):
    customer = str(shop_a.customer.pk)
    ready_files(company_a, "contacts", MAX_ATTACHMENTS - 1, record_id=customer)
    last, extra = ready_files(company_a, "contacts", 2)
    assert attach(owner_a, "contacts", customer, last).status_code == 201
    refused = attach(owner_a, "contacts", customer, extra)
    assert refused.status_code == 409 and error_code(refused) == "too_many_attachments"
    assert len(attachments(owner_a, "contacts", customer).json()) == MAX_ATTACHMENTS
    assert file_row(company_a, extra).record_id is None


def test_a_contacts_and_an_invoices_files_go_with_them_when_deleted(
    owner_a, company_a, shop_a, django_capture_on_commit_callbacks
):
    def gone(file_id) -> bool:
        file = file_row(company_a, file_id)
        return file.status == FileObject.Status.DELETED and not storages["default"].exists(file.key)

    with tenant_context(company_a):
        lead = Contact.objects.create(
            id_type="13", id_number="1020304050", name="Cliente nuevo", person_type="natural"
        )
    rut = uploaded_file(owner_a, "contacts")
    assert attach(owner_a, "contacts", lead.pk, rut).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.delete(f"/api/v1/contacts/{lead.pk}/").status_code == 204
    assert gone(rut)

    # A contact on documents is not deleted (409), and keeps its files.
    customer = str(shop_a.customer.pk)
    order = uploaded_file(owner_a, "contacts")
    assert attach(owner_a, "contacts", customer, order).status_code == 201
    draft = draft_invoice(owner_a, shop_a)
    assert owner_a.delete(f"/api/v1/contacts/{customer}/").status_code == 409
    assert file_row(company_a, order).status == FileObject.Status.READY

    purchase_order = uploaded_file(owner_a, "invoices")
    assert attach(owner_a, "invoices", draft, purchase_order).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.delete(f"/api/v1/invoices/{draft}/").status_code == 204
    assert gone(purchase_order)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_attachment_roles_follow_the_record(company_a, owner_a, client_as, buy_a, shop_a, role):  # noqa: F811
    client = client_as(company_a, role)
    # An invoice of the role's own where it sells (sellers change their own invoices' files).
    invoice = draft_invoice(
        client if has_permission(role, "invoices", "write") else owner_a, shop_a
    )
    records = {
        "invoices": invoice,
        "bills": draft_bill(owner_a, buy_a),
        "contacts": str(shop_a.customer.pk),
    }
    for kind, record in records.items():
        # Each record's permission module has the name of its files' module.
        reads = has_permission(role, kind, "read")
        writes = has_permission(role, kind, "write")
        assert attachments(client, kind, record).status_code == (200 if reads else 403), kind
        mine = uploaded_file(owner_a, kind)
        added = attach(client, kind, record, mine)
        assert added.status_code == (201 if writes else 403), (kind, added.json())
        if not writes:
            assert attach(owner_a, kind, record, mine).status_code == 201
        removed = client.delete(f"/api/v1/{kind}/{record}/attachments/{mine}")
        assert removed.status_code == (204 if writes else 403), kind
        expected = FileObject.Status.DELETED if writes else FileObject.Status.READY
        assert file_row(company_a, mine).status == expected


def test_a_seller_changes_the_files_of_their_own_invoices_only(
    owner_a, seller_a, company_a, shop_a
):
    theirs = draft_invoice(owner_a, shop_a)
    order = uploaded_file(seller_a, "invoices")
    refused = attach(seller_a, "invoices", theirs, order)
    assert refused.status_code == 403 and error_code(refused) == "not_your_invoice"
    kept = uploaded_file(owner_a, "invoices")
    assert attach(owner_a, "invoices", theirs, kept).status_code == 201
    removal = seller_a.delete(f"/api/v1/invoices/{theirs}/attachments/{kept}")
    assert removal.status_code == 403 and error_code(removal) == "not_your_invoice"
    assert [f["id"] for f in attachments(seller_a, "invoices", theirs).json()] == [kept]
    assert file_row(company_a, order).record_id is None

    own = draft_invoice(seller_a, shop_a)
    assert attach(seller_a, "invoices", own, order).status_code == 201
    assert seller_a.delete(f"/api/v1/invoices/{own}/attachments/{order}").status_code == 204
    # Nor through `files/`, which removes no attached file (the record's rules are the record's).
    bypass = seller_a.delete(f"/api/v1/files/{kept}/")
    assert bypass.status_code == 409 and error_code(bypass) == "file_attached"
    assert file_row(company_a, kept).status == FileObject.Status.READY


def test_a_record_not_found_is_a_404_whatever_the_body(owner_a):
    for kind in ("invoices", "bills", "contacts"):
        missing = attach(owner_a, kind, uuid.uuid4(), "not an id")
        assert missing.status_code == 404, kind


def test_an_attached_file_is_removed_through_its_record_and_a_void_keeps_them(
    owner_a, company_a, shop_a
):
    from invoices.tests.fixtures import issue_invoice

    invoice = issue_invoice(owner_a, shop_a)["id"]
    order, delivery = uploaded_file(owner_a, "invoices"), uploaded_file(owner_a, "invoices")
    for file_id in (order, delivery):
        assert attach(owner_a, "invoices", invoice, file_id).status_code == 201
    refused = owner_a.delete(f"/api/v1/files/{order}/")
    assert refused.status_code == 409 and error_code(refused) == "file_attached"
    assert owner_a.delete(f"/api/v1/invoices/{invoice}/attachments/{order}").status_code == 204
    assert [f["id"] for f in attachments(owner_a, "invoices", invoice).json()] == [delivery]
    voided = owner_a.post(f"/api/v1/invoices/{invoice}/void", {"reason": "error"}, format="json")
    assert voided.status_code == 200, voided.json()
    assert [f["id"] for f in attachments(owner_a, "invoices", invoice).json()] == [delivery]
    assert file_row(company_a, delivery).status == FileObject.Status.READY


def test_another_companys_record_or_file_is_not_found(
    owner_a,
    owner_b,
    company_a,
    company_b,
    buy_a,  # noqa: F811
    buy_b,  # noqa: F811
):
    theirs = draft_bill(owner_a, buy_a)
    their_scan = uploaded_file(owner_a, "bills")
    assert attach(owner_a, "bills", theirs, their_scan).status_code == 201

    # Company A's bill in the URL: 404 for every method, nothing written.
    mine = uploaded_file(owner_b, "bills")
    assert attachments(owner_b, "bills", theirs).status_code == 404
    assert attach(owner_b, "bills", theirs, mine).status_code == 404
    assert owner_b.delete(f"/api/v1/bills/{theirs}/attachments/{their_scan}").status_code == 404
    # Company A's file in B's payload: 400; its id under B's own bill: 404.
    own = draft_bill(owner_b, buy_b)
    refused = attach(owner_b, "bills", own, their_scan)
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]
    assert owner_b.delete(f"/api/v1/bills/{own}/attachments/{their_scan}").status_code == 404
    assert owner_b.get("/api/v1/files/", {"record_id": theirs}).json()["count"] == 0
    assert file_row(company_b, mine).record_id is None
    scan = file_row(company_a, their_scan)
    assert scan.status == FileObject.Status.READY and str(scan.record_id) == theirs
    assert storages["default"].exists(scan.key)


def test_an_attachment_sent_to_s3_over_http(owner_a, company_a, buy_a, s3_storage):  # noqa: F811
    from files.tests.test_files_api import s3_put

    bill = draft_bill(owner_a, buy_a)
    started = request_upload(
        owner_a, PDF, module="bills", name="factura proveedor.pdf", content_type="application/pdf"
    ).json()
    assert s3_put(started["upload"], PDF, "application/pdf").status_code in (201, 204)
    file_id = started["file"]["id"]
    assert owner_a.post(f"/api/v1/files/{file_id}/confirm").status_code == 200
    assert attach(owner_a, "bills", bill, file_id).status_code == 201
    url = owner_a.get(f"/api/v1/files/{file_id}/download").json()["url"]
    import requests

    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert owner_a.delete(f"/api/v1/bills/{bill}/attachments/{file_id}").status_code == 204
    assert requests.get(url, timeout=10).status_code in (403, 404)  # gone (S3 answers 403)
