"""Idempotency keys belong to the user who sent them (see IdempotencyRecord).

The stored answers carry no user, so they are dropped: they only serve retries of requests
already answered, and a retry after this migration creates its document as a first request."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_stored_answers(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            # Every company's rows: row-level security lets a migration see them only so.
            cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
        cursor.execute("DELETE FROM core_idempotencyrecord")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_tenant_policy_casts_once"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_stored_answers, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="idempotencyrecord", name="core_idempotency_unique_key"
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="scope",
            field=models.CharField(
                help_text="Method, route name and URL arguments of the request.", max_length=255
            ),
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("tenant", "user", "scope", "key"), name="core_idempotency_unique_user_key"
            ),
        ),
    ]
