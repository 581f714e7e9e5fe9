"""`manage.py export_company --company <id> --output DIR` (see README, Commands)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ally360.export import company_export
from ally360.imports import company_for_command


class Command(BaseCommand):
    help = (
        "Export one company's data (every table, one consistent snapshot) as JSON Lines files "
        "with a manifest into a new directory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="The company's id.")
        parser.add_argument("--output", required=True, help="A new or empty directory.")

    def handle(self, *args, company, output, **options):
        company = company_for_command(company)
        try:
            tables = company_export(company_id=company.pk, directory=Path(output))
        except (FileExistsError, NotADirectoryError, PermissionError) as exc:
            raise CommandError(str(exc)) from None
        rows = sum(table.rows for table in tables)
        self.stdout.write(
            self.style.SUCCESS(
                f"{rows} rows of {company} in {len(tables)} tables written to {output}."
            )
        )
