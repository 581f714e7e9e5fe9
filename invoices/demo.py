"""The demo shop `make run` opens with (`manage.py bootstrap_demo`): a company that can sell at
once — its DIAN numbering (a made-up resolution, for local use only), a cash register, a few
products with barcodes and stock, and a customer — all made by the services the API calls."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from ally360.roles import OWNER
from ally360.tenancy import tenant_context
from contacts.services import contact_create
from inventory.imports import price_before_tax
from inventory.services import product_create_with_stock
from pos.models import PDV
from pos.services import cash_register_create
from products.models import Tax, Unit

from .models import DocumentType
from .services import numbering_range_create

DEMO_RESOLUTION = "18760000000001"  # not a real DIAN resolution: local use only
# name, SKU, barcode, shelf price (with tax), cost, tax, unit, stock at the main PDV
DEMO_PRODUCTS = [
    ("Gaseosa cola 400 ml", "GAS-400", "7709990000011", "3000", "1500", "IVA 19%", "unit", "48"),
    ("Agua sin gas 600 ml", "AGU-600", "7709990000028", "2000", "900", "IVA 19%", "unit", "36"),
    ("Café molido 250 g", "CAF-250", "7709990000035", "12500", "8200", "IVA 5%", "unit", "20"),
    ("Arroz 1 kg", "ARR-1000", "7709990000042", "4800", "3600", "IVA excluido", "unit", "30"),
    (
        "Leche entera 1 L",
        "LEC-1000",
        "7709990000059",
        "4500",
        "3500",
        "IVA exento 0%",
        "unit",
        "24",
    ),
    (
        "Queso campesino (kg)",
        "QUE-KG",
        "7709990000066",
        "22000",
        "15000",
        "IVA exento 0%",
        "kg",
        "5.5",
    ),
]
DEMO_RANGES = [(DocumentType.INVOICE, "FE", 5000), (DocumentType.POS, "POS", 50000)]
DEMO_RANGES += [(DocumentType.CREDIT_NOTE, "NC", 5000)]


def demo_shop_create(*, company, user) -> None:
    today = timezone.localdate()
    with tenant_context(company):
        pdv = PDV.objects.get(is_main=True)
        for document_type, prefix, size in DEMO_RANGES:
            numbering_range_create(
                pdv=pdv,
                document_type=document_type,
                resolution_number=DEMO_RESOLUTION,
                prefix=prefix,
                range_from=1,
                range_to=size,
                valid_from=today - timedelta(days=1),
                valid_to=today + timedelta(days=730),
                technical_key="demo-local-only",
            )
        cash_register_create(pdv=pdv, name="Caja 1")
        taxes = {tax.name: tax for tax in Tax.objects.all()}
        units = {unit.code: unit for unit in Unit.objects.all()}
        for name, sku, barcode, shelf, cost, tax, unit, stock in DEMO_PRODUCTS:
            price, _till = price_before_tax(shelf, [taxes[tax].rate])
            product_create_with_stock(
                user=user,
                name=name,
                sku=sku,
                barcode=barcode,
                price=price,
                cost=Decimal(cost),
                taxes=[taxes[tax]],
                unit=units[unit],
                initial_stock=[{"pdv": pdv, "quantity": Decimal(stock)}],
            )
        contact_create(
            role=OWNER,
            id_type="31",
            id_number="800197268",
            person_type="legal",
            name="Distribuidora Andina SAS",
            payment_term_days=30,
        )
