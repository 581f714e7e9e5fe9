"""`manage.py export_company`: one company's rows, all of them, and nobody else's."""

import json

import pytest
from django.core.management import CommandError, call_command

from ally360.export import company_tables
from ally360.tenancy import tenant_context
from invoices.tests.fixtures import issue_invoice

pytestmark = pytest.mark.django_db


def _read(directory, label):
    path = directory / f"{label}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.django_db(transaction=True)  # the export's own transaction and snapshot
def test_a_company_is_exported_whole_and_alone(
    tmp_path, company_a, company_b, shop_a, shop_b, owner_a, owner_b, capsys
):
    issue_invoice(owner_a, shop_a)
    issue_invoice(owner_b, shop_b)
    out = tmp_path / "export"
    call_command("export_company", company=str(company_a.pk), output=str(out))
    assert "written to" in capsys.readouterr().out

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["company"]["id"] == str(company_a.pk)
    counted = {table["label"]: table["rows"] for table in manifest["tables"]}
    b_ids = set()
    for model in company_tables():
        label = model._meta.label
        rows = _read(out, label)
        assert counted[label] == len(rows)
        with tenant_context(company_a):
            assert len(rows) == model.objects.count(), label  # every row of A
        assert all(row["tenant_id"] == str(company_a.pk) for row in rows), label
        with tenant_context(company_b):
            b_ids |= {str(pk) for pk in model.objects.values_list("pk", flat=True)}
    exported_ids = {
        row["id"] for model in company_tables() for row in _read(out, model._meta.label)
    }
    assert exported_ids and not exported_ids & b_ids  # nothing of B
    assert counted["invoices.Invoice"] == 1 and counted["invoices.InvoiceLine"] == 1
    assert "core.IdempotencyRecord" not in counted

    (company,) = _read(out, "accounts.Company")
    assert company["id"] == str(company_a.pk)
    users = _read(out, "accounts.User")
    assert users and all(
        set(user) == {"id", "email", "first_name", "last_name", "phone"} for user in users
    )
    members = _read(out, "accounts.Membership")
    assert {m["company_id"] for m in members} == {str(company_a.pk)}
    assert {m["user_id"] for m in members} == {u["id"] for u in users}


def test_an_export_never_writes_over_files_or_for_a_company_that_does_not_exist(
    tmp_path, company_a
):
    (tmp_path / "old.txt").write_text("keep me")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_company", company=str(company_a.pk), output=str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["old.txt"]
    with pytest.raises(CommandError, match="No company"):
        call_command(
            "export_company",
            company="00000000-0000-0000-0000-000000000000",
            output=str(tmp_path / "new"),
        )
