"""Operator integrity check: every stock balance equals the sum of its ledger movements."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ally360.imports import company_for_command
from ally360.tenancy import cross_tenant
from inventory.models import Stock, StockMovement


class Command(BaseCommand):
    help = "Verify that every stock balance equals the sum of its movements (all companies)."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="Only this company id.")

    def handle(self, *args, company=None, **options):
        ledger = (
            StockMovement.all_tenants.filter(variant=OuterRef("variant"), pdv=OuterRef("pdv"))
            .values("variant")
            .annotate(total=Sum("quantity"))
            .values("total")
        )
        with cross_tenant():
            rows = Stock.all_tenants.annotate(
                ledger=Coalesce(Subquery(ledger), Value(0), output_field=DecimalField())
            )
            if company:
                rows = rows.filter(tenant_id=company_for_command(company).pk)
            checked = rows.count()
            broken = [
                (row.tenant_id, row.variant_id, row.pdv_id, row.quantity, row.ledger)
                for row in rows.exclude(quantity=F("ledger"))
            ]
        for tenant_id, variant_id, pdv_id, balance, total in broken:
            self.stderr.write(
                f"company {tenant_id} variant {variant_id} pdv {pdv_id}: balance {balance}, "
                f"movements {total}"
            )
        if broken:
            raise CommandError(f"{len(broken)} of {checked} stock balances differ from the ledger.")
        self.stdout.write(self.style.SUCCESS(f"{checked} stock balances match their ledgers."))
