"""The receivables and payables reports read the open book from one covering index each: every
column of the document table their query touches must be in that index, or PostgreSQL reads a
heap page per open document again (see README, Benchmarks: half the report's database time)."""

import re

import pytest

from ally360.tenancy import tenant_context
from bills.models import Bill
from bills.selectors import payables_by_supplier
from invoices.models import Invoice
from invoices.selectors import receivables_by_customer

pytestmark = pytest.mark.django_db


def _index_columns(model, name: str) -> set[str]:
    index = next(index for index in model._meta.indexes if index.name == name)
    names = [field.lstrip("-") for field in index.fields] + list(index.include)
    return {model._meta.get_field(field).column for field in names}


@pytest.mark.parametrize(
    ("model", "index", "report"),
    [
        (Invoice, "invoice_open_book_idx", receivables_by_customer),
        (Bill, "bill_open_book_idx", payables_by_supplier),
    ],
)
def test_the_aging_report_reads_only_columns_of_its_covering_index(company_a, model, index, report):
    with tenant_context(company_a):
        sql = str(report().query)
    table = model._meta.db_table
    used = set(re.findall(rf'"{table}"\."(\w+)"', sql))
    assert "balance" in used and "status" in used  # the pattern does find the table's columns
    assert used <= _index_columns(model, index), used - _index_columns(model, index)
