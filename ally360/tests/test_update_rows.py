"""`bulk_update()` on a tenant manager runs as one `UPDATE … FROM (VALUES …)` on PostgreSQL
(`ally360.db.update_rows`), with Django's semantics: the values given, only the manager's rows."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from ally360.models import IdempotencyRecord
from ally360.tenancy import tenant_context
from ally360.tests.tenancy_app.models import Note

pytestmark = pytest.mark.django_db


@pytest.mark.postgres  # the statement's shape is PostgreSQL's
def test_one_statement_updates_each_row_with_its_own_values(company_a):
    with tenant_context(company_a):
        notes = [Note.objects.create(title=f"n{i}", amount=i) for i in range(3)]
        for note in notes:
            note.amount, note.title = note.amount * 10 + 1, f"{note.title}!"
        with CaptureQueriesContext(connection) as queries:
            updated = Note.objects.bulk_update(notes, ["amount", "title"])
        assert updated == 3
        assert len(queries) == 1 and "FROM (VALUES" in queries[0]["sql"]
        assert "CASE" not in queries[0]["sql"]
        assert sorted(Note.objects.values_list("title", "amount")) == [
            ("n0!", 1),
            ("n1!", 11),
            ("n2!", 21),
        ]


def test_rows_of_another_tenant_are_not_touched(company_a, company_b):
    with tenant_context(company_b):
        theirs = Note.objects.create(title="theirs", amount=5)
    with tenant_context(company_a):
        mine = Note.objects.create(title="mine", amount=5)
        mine.amount = theirs.amount = 99
        assert Note.objects.bulk_update([mine, theirs], ["amount"]) == 1
    with tenant_context(company_b):
        assert Note.objects.get(pk=theirs.pk).amount == 5
    with tenant_context(company_a):
        assert Note.objects.get(pk=mine.pk).amount == 99


def test_nulls_and_json_keep_their_column_types(company_a, make_member):
    user = make_member(company_a, "owner")
    with tenant_context(company_a):
        records = [
            IdempotencyRecord.objects.create(
                user=user,
                key=f"k{i}",
                scope="POST /x",
                fingerprint="f",
                status_code=201,
                response_body={},
            )
            for i in range(2)
        ]
        records[0].status_code, records[0].response_body = None, None
        records[1].response_body = {"total": "10.00", "lines": [1, 2]}
        assert IdempotencyRecord.objects.bulk_update(records, ["status_code", "response_body"])
        stored = dict(IdempotencyRecord.objects.values_list("key", "response_body"))
        assert stored == {"k0": None, "k1": {"total": "10.00", "lines": [1, 2]}}
        assert IdempotencyRecord.objects.get(key="k0").status_code is None


@pytest.mark.postgres  # the statement's shape is PostgreSQL's
def test_a_filtered_queryset_updates_only_its_rows(company_a):
    with tenant_context(company_a):
        notes = [Note.objects.create(title=f"f{i}", amount=i) for i in range(3)]
        for note in notes:
            note.title = f"{note.title}*"
        with CaptureQueriesContext(connection) as queries:
            assert Note.objects.filter(amount__gte=1).bulk_update(notes, ["title"]) == 2
        assert "FROM (VALUES" in queries[0]["sql"]
        assert Note.objects.filter(pk__in=[]).bulk_update(notes, ["title"]) == 0
        assert sorted(Note.objects.values_list("title", flat=True)) == ["f0", "f1*", "f2*"]


def test_expressions_use_djangos_bulk_update(company_a):
    with tenant_context(company_a):
        notes = [Note.objects.create(title=f"e{i}", amount=i) for i in range(2)]
        for note in notes:
            note.amount = F("amount") + 100
        with CaptureQueriesContext(connection) as queries:
            Note.objects.bulk_update(notes, ["amount"])
        assert "CASE" in queries[-1]["sql"]
        assert sorted(Note.objects.values_list("amount", flat=True)) == [100, 101]


def test_djangos_rules_hold(company_a):
    with tenant_context(company_a):
        first = Note.objects.create(title="d", amount=1)
        again = Note.objects.get(pk=first.pk)
        first.amount, again.amount = 10, 20
        # The first object of a primary key wins, as with Django's CASE WHEN.
        assert Note.objects.bulk_update([first, again], ["amount"]) == 1
        assert Note.objects.get(pk=first.pk).amount == 10
        with pytest.raises(ValueError, match="Field names must be given"):
            Note.objects.bulk_update([first], [])
        with pytest.raises(ValueError, match="primary key fields"):
            Note.objects.bulk_update([first], ["id"])
        with pytest.raises(ValueError, match="must have a primary key set"):
            Note.objects.bulk_update([Note(title="unsaved", pk=None)], ["amount"])
        assert Note.objects.bulk_update([], ["amount"]) == 0
