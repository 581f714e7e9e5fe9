"""`manage.py import_contacts --company <id> contacts.csv [--dry-run]` (see README, Commands)."""

from ally360.imports import ImportCommand
from contacts.imports import COLUMNS, contacts_import


class Command(ImportCommand):
    help = (
        "Import customers and suppliers from a CSV, all or nothing, with the API's rules. "
        f"Columns: {', '.join(COLUMNS)} (name, id_type and id_number required)."
    )
    noun = "contacts"

    def import_file(self, company, path, dry_run):
        return contacts_import(company=company, path=path, dry_run=dry_run)
