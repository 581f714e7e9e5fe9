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
