"""Digits-only identifications (CC, TI, RC, NUIP) are stored without leading zeros, as NITs
always were: a padded one (an import, a form) names the same person. Rows stored padded before
are stripped here, unless another row of the company would then hold the same number (one
person entered twice: left as they are, for the office to merge)."""

from django.db import migrations

DIGITS_ONLY = ("13", "12", "11", "91")  # CC, TI, RC, NUIP


def strip_leading_zeros(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            # Every company's rows: row-level security lets a migration see them only so.
            cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
        types = ", ".join(f"'{code}'" for code in DIGITS_ONLY)
        cursor.execute(
            f"""
            UPDATE contacts_contact SET id_number = ltrim(id_number, '0')
             WHERE id_type IN ({types}) AND id_number LIKE '0%'
               AND length(ltrim(id_number, '0')) >= 3
               AND NOT EXISTS (
                   SELECT 1 FROM contacts_contact other
                    WHERE other.tenant_id = contacts_contact.tenant_id
                      AND other.id_type = contacts_contact.id_type
                      AND other.id <> contacts_contact.id
                      AND ltrim(other.id_number, '0') = ltrim(contacts_contact.id_number, '0'))
            """
        )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_initial")]

    operations = [migrations.RunPython(strip_leading_zeros, migrations.RunPython.noop)]
