"""The tenant policy casts `app.tenant_id` to uuid once per statement, not once per row
(ally360/rls.py). The predicates are spelled out here so this migration never changes."""

from django.db import migrations

import ally360.rls

CAST_PER_ROW = (
    "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), ''))::uuid "
    "OR (SELECT current_setting('app.rls_bypass', true)) = 'on'"
)
CAST_ONCE = (
    "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid) "
    "OR (SELECT current_setting('app.rls_bypass', true) = 'on')"
)


class Migration(migrations.Migration):
    # Tables whose migrations run after this one get the same predicate from ally360.rls.
    dependencies = [("core", "0003_taskoutbox")]

    operations = [ally360.rls.ReplaceTenantPolicies(CAST_ONCE, previous=CAST_PER_ROW)]
