"""Attaching locks the record first: two attachments at once count right, and a record being
deleted takes its files with it or refuses the attachment (PostgreSQL, real connections)."""

from __future__ import annotations

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.locks import while_blocked
from bills.models import Bill
from bills.services import bill_delete
from bills.tests.test_bills_api import buy_a  # noqa: F401 - fixture
from conftest import error_code
from files import services
from files.models import FileObject
from files.tests.test_attachments import attach, draft_bill, ready_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_two_attachments_at_once_stay_within_the_limit(company_a, owner_a, buy_a):  # noqa: F811
    bill_id = draft_bill(owner_a, buy_a)
    ready_files(company_a, "bills", services.MAX_ATTACHMENTS - 1, record_id=bill_id)
    last, extra = ready_files(company_a, "bills", 2)

    def attach_the_last():
        file = FileObject.objects.get(pk=last)
        services.file_attach(
            record=Bill.objects.get(pk=bill_id), module="bills", file=file, role=Role.OWNER
        )

    _probe, answer = while_blocked(
        company_a,
        attach_the_last,
        blocked=lambda: attach(owner_a, "bills", bill_id, extra),
        probe=lambda: None,
    )
    assert answer.status_code == 409 and error_code(answer) == "too_many_attachments"
    with tenant_context(company_a):
        attached = FileObject.objects.filter(record_id=bill_id)
        assert attached.count() == services.MAX_ATTACHMENTS
        assert not attached.filter(pk=extra).exists()


def test_a_file_attached_while_its_record_is_deleted_is_refused(company_a, owner_a, buy_a):  # noqa: F811
    bill_id = draft_bill(owner_a, buy_a)
    (scan,) = ready_files(company_a, "bills", 1)
    _probe, answer = while_blocked(
        company_a,
        lambda: bill_delete(bill=Bill.objects.get(pk=bill_id)),
        blocked=lambda: attach(owner_a, "bills", bill_id, scan),
        probe=lambda: None,
    )
    assert answer.status_code == 404
    with tenant_context(company_a):
        assert not Bill.objects.filter(pk=bill_id).exists()
        file = FileObject.objects.get(pk=scan)
        assert file.record_id is None and file.status == FileObject.Status.READY


def test_a_record_deleted_while_a_file_is_attached_takes_the_file_with_it(
    company_a,
    owner_a,
    buy_a,  # noqa: F811
):
    bill_id = draft_bill(owner_a, buy_a)
    (scan,) = ready_files(company_a, "bills", 1)

    def attach_the_scan():
        services.file_attach(
            record=Bill.objects.get(pk=bill_id),
            module="bills",
            file=FileObject.objects.get(pk=scan),
            role=Role.OWNER,
        )

    _probe, answer = while_blocked(
        company_a,
        attach_the_scan,
        blocked=lambda: owner_a.delete(f"/api/v1/bills/{bill_id}/"),
        probe=lambda: None,
    )
    assert answer.status_code == 204
    with tenant_context(company_a):
        assert not Bill.objects.filter(pk=bill_id).exists()
        assert FileObject.objects.get(pk=scan).status == FileObject.Status.DELETED
