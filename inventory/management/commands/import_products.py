"""`manage.py import_products --company <id> productos.csv [--dry-run]` (README, Commands)."""

from ally360.imports import ImportCommand
from inventory.imports import COLUMNS, products_import


class Command(ImportCommand):
    help = (
        "Import simple products with their opening stock from a CSV, all or nothing, with the "
        f"API's rules. Columns: {', '.join(COLUMNS)} (name, sku and a price required; "
        "stock:<PDV code> per point of sale)."
    )
    noun = "products"

    def import_file(self, company, path, dry_run):
        return products_import(company=company, path=path, dry_run=dry_run)
