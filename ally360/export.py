"""A company's data, whole, as files (`manage.py export_company`): what a shop that leaves
takes with it, or what an operator keeps before deleting a company.

Every table of the company is read in its tenant context — row-level security applies, so
another company's row cannot slip in — and from one snapshot (a read-only REPEATABLE READ
transaction on PostgreSQL), so a sale committing meanwhile is either wholly in or wholly out.
Rows are written as JSON Lines, one file per table, with the columns as stored (foreign keys
as `<field>_id`); `manifest.json` says what was exported. Stored files (PDFs, images) are
listed with their storage keys, not copied.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from ally360.models import TenantModel
from ally360.tenancy import tenant_context

# Replayed answers of recent write requests: a cache, not the company's data.
SKIPPED = {"core.IdempotencyRecord"}
USER_COLUMNS = ("id", "email", "first_name", "last_name", "phone")  # never a password hash
CHUNK = 2000


@dataclass
class ExportedTable:
    label: str
    file: str
    rows: int


def company_tables() -> list[type[TenantModel]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.label not in SKIPPED
    ]


def _write_rows(path: Path, rows) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False))
            out.write("\n")
            count += 1
    return count


def company_export(*, company_id: uuid.UUID, directory: Path) -> list[ExportedTable]:
    """Write the company's tables into `directory` (created; it must not hold files)."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty: choose a new directory.")
    company_model = apps.get_model("accounts", "Company")
    membership_model = apps.get_model("accounts", "Membership")
    user_model = apps.get_model("accounts", "User")
    tables: list[ExportedTable] = []

    def export(label: str, queryset) -> None:
        file = f"{label}.jsonl"
        rows = _write_rows(directory / file, queryset.values().iterator(chunk_size=CHUNK))
        tables.append(ExportedTable(label, file, rows))

    outermost = not connection.in_atomic_block  # else the snapshot is the caller's
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # before any read: one snapshot for all
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        company = company_model.objects.get(pk=company_id)
        export("accounts.Company", company_model.objects.filter(pk=company.pk))
        members = membership_model.objects.filter(company=company).order_by("created_at")
        export("accounts.Membership", members)
        users = user_model.objects.filter(memberships__company=company).order_by("email")
        file = "accounts.User.jsonl"
        rows = _write_rows(directory / file, users.values(*USER_COLUMNS).iterator())
        tables.append(ExportedTable("accounts.User", file, rows))
        with tenant_context(company.pk):
            for model in company_tables():
                export(model._meta.label, model.objects.order_by("pk"))
        migrations = {
            app: name
            for app, name in MigrationRecorder.Migration.objects.order_by("applied").values_list(
                "app", "name"
            )
        }
    manifest = {
        "company": {"id": str(company.pk), "name": company.name, "nit": company.nit},
        "exported_at": timezone.now().isoformat(),
        "format": "JSON Lines, one file per table; columns as stored, foreign keys as <field>_id",
        "schema": migrations,
        "tables": [table.__dict__ for table in tables],
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return tables
