from django.core.checks import Error, Tags, register
from django.db import connections

from .rls import tables_missing_rls


@register(Tags.database)
def check_row_level_security(app_configs, databases=None, **kwargs):
    """Every tenant table must be under row-level security (run by `check --database default`)."""
    errors = []
    for alias in databases or []:
        if connections[alias].vendor != "postgresql":
            continue
        for table in tables_missing_rls(alias):
            errors.append(
                Error(
                    f"Tenant table {table} has no row-level-security policy.",
                    hint="Add ally360.rls.EnableRowLevelSecurity(<model>) to its migration.",
                    id="ally360.E001",
                )
            )
    return errors


@register(Tags.models)
def check_newest_first_lists_are_indexed(app_configs, **kwargs):
    """A TenantModel listed newest first by a date grows without bound: its page must come from
    an index on (tenant, that date), never from sorting the company's rows."""
    from django.apps import apps

    from .models import TenantModel

    errors = []
    for model in apps.get_models():
        ordering = model._meta.ordering
        if not issubclass(model, TenantModel) or not ordering or not ordering[0].startswith("-"):
            continue
        field = ordering[0].lstrip("-")
        if model._meta.get_field(field).get_internal_type() not in ("DateField", "DateTimeField"):
            continue

        leading = [[name.lstrip("-") for name in index.fields[:2]] for index in model._meta.indexes]
        if ["tenant", field] not in leading:
            errors.append(
                Error(
                    f"{model._meta.label} is listed newest first by {field} without an index "
                    f"on (tenant, {field}).",
                    hint=f'Add models.Index(fields=["tenant", "-{field}"]) to its Meta.indexes.',
                    obj=model,
                    id="ally360.E002",
                )
            )
    return errors


SQLITE_MINIMUM = (3, 35)


@register(Tags.compatibility)
def check_sqlite_version(app_configs, **kwargs):
    """Document numbers are taken with `INSERT … ON CONFLICT … RETURNING` and `UPDATE …
    RETURNING` (one statement each); SQLite has RETURNING since 3.35, Django accepts 3.31."""
    from django.conf import settings

    return sqlite_version_errors([db["ENGINE"] for db in settings.DATABASES.values()])


def sqlite_version_errors(engines: list[str]) -> list[Error]:
    import sqlite3

    uses_sqlite = any(engine.endswith("sqlite3") for engine in engines)
    if not uses_sqlite or sqlite3.sqlite_version_info >= SQLITE_MINIMUM:
        return []
    return [
        Error(
            f"SQLite {sqlite3.sqlite_version} is too old: Ally360 needs "
            f"{'.'.join(map(str, SQLITE_MINIMUM))} or newer.",
            hint="Use a newer Python build (its sqlite3 module), or PostgreSQL (DATABASE_URL).",
            id="ally360.E003",
        )
    ]
