"""Generate a large, reproducible data set with COPY (not the API).

    python bench/generate.py --database-url postgres://ally360@127.0.0.1/ally360_bench \
        --admin-url postgres://postgres@127.0.0.1/ally360_bench --tenants 1000 \
        --invoices 1000000 --big 100000 --seed 42

Migrations run as the application role; the rows are loaded as a superuser (PostgreSQL refuses
COPY FROM into tables under row-level security). Every stock balance equals the sum of its
movements, so `manage.py check_stock` holds on the result. Column lists come from the Django
models, so the generator follows the schema.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BOGOTA = ZoneInfo("America/Bogota")
PASSWORD = "Bench-Ally360-2026"
CENT = Decimal("0.01")


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("APP_SECRET_STRING", "bench-secret-not-for-production-0123456789")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ally360.settings")
    import django

    django.setup()


class Loader:
    """Streams rows into tables with COPY, the columns taken from the models."""

    def __init__(self, connection, now: datetime):
        self.connection = connection
        self.now = now  # auto_now columns: the data set's own clock, for reproducibility
        self.counts: dict[str, int] = defaultdict(int)

    def copy(self, model, rows) -> None:
        from psycopg.types.json import Jsonb

        fields = [f for f in model._meta.concrete_fields]
        columns = ", ".join(f'"{f.column}"' for f in fields)
        now = self.now
        defaults = {}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = now
            else:  # the model default, or "" for a blank text field as Django would save it
                defaults[f.attname] = f.get_default

        json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
        table = model._meta.db_table
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy,
        ):
            for row in rows:
                values = []
                for f in fields:
                    if f.attname in row:
                        value = row[f.attname]
                    else:
                        default = defaults.get(f.attname)
                        value = default() if callable(default) else default
                    if f.attname in json_fields:
                        value = Jsonb(value)
                    values.append(value)
                copy.write_row(values)
                self.counts[table] += 1


def flush(load: Loader, invoices: list, lines: list, payments: list, movements: list) -> None:
    """COPY a batch of documents (parents first) and empty the lists."""
    from inventory.models import StockMovement
    from invoices.models import Invoice, InvoiceLine, Payment

    for model, rows in (
        (Invoice, invoices),
        (InvoiceLine, lines),
        (Payment, payments),
        (StockMovement, movements),
    ):
        load.copy(model, rows)
        rows.clear()


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def issued_document(created: datetime, subtotal: Decimal, tax_total: Decimal, owner_id) -> dict:
    """The columns an invoice and a bill share once issued: dates (30 days' credit), totals with
    IVA 19 % and its breakdown, who and when."""
    return {
        "issue_date": created.date(),
        "due_date": created.date() + timedelta(days=30),
        "subtotal": subtotal,
        "tax_total": tax_total,
        "total": subtotal + tax_total,
        "tax_breakdown": [
            {
                "name": "IVA 19%",
                "kind": "iva",
                "treatment": "taxed",
                "rate": "19",
                "base": str(subtotal),
                "amount": str(tax_total),
            }
        ],
        "created_by_id": owner_id,
        "issued_at": created,
        "created_at": created,
        "updated_at": created,
    }


def purchases(load, tenant, rng, new_id, count, variants, pdv_id, owner_id, start) -> dict:
    """`count` received supplier bills of 3 lines from 50 suppliers over the year, four in five
    paid by one supplier payment each, the rest open (payables); each line a purchase movement.
    Returns the quantity bought per variant (stock balances include it)."""
    from ally360.models import DocumentSequence
    from bills.models import Bill, BillLine, PaymentAllocation, SupplierPayment
    from contacts.models import Contact
    from inventory.models import StockMovement

    bought: dict = defaultdict(Decimal)
    if not count:
        return bought
    suppliers = [new_id() for _ in range(50)]
    load.copy(
        Contact,
        [
            {
                **tenant,
                "id": supplier,
                "id_type": "31",
                "id_number": f"{900000000 + i}",
                "name": f"Proveedor {i}",
                "is_supplier": True,
                "is_customer": False,
                "person_type": "legal",
                "payment_term_days": 30,
            }
            for i, supplier in enumerate(suppliers)
        ],
    )
    step = timedelta(seconds=max(1, int(365 * 86400 / count)))
    created, paid_count = start, 0
    bills, lines, movements, payments, allocations = [], [], [], [], []

    def flush_purchases():
        for model, rows in (
            (Bill, bills),
            (BillLine, lines),
            (StockMovement, movements),
            (SupplierPayment, payments),
            (PaymentAllocation, allocations),
        ):
            load.copy(model, rows)
            rows.clear()

    for n in range(count):
        created += step
        bill_id, supplier = new_id(), rng.choice(suppliers)
        number = f"FC-{n + 1:05d}"
        subtotal = tax_total = Decimal(0)
        for position, variant in enumerate(rng.sample(variants, 3)):
            quantity = Decimal(rng.randint(10, 50))
            line_subtotal = money(quantity * variant["cost"])
            line_tax = money(line_subtotal * Decimal("0.19"))
            subtotal += line_subtotal
            tax_total += line_tax
            lines.append(
                {
                    **tenant,
                    "id": new_id(),
                    "bill_id": bill_id,
                    "position": position,
                    "variant_id": variant["id"],
                    "description": "Producto",
                    "quantity": quantity,
                    "unit_cost": variant["cost"],
                    "subtotal": line_subtotal,
                    "tax_total": line_tax,
                    "total": line_subtotal + line_tax,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            bought[variant["id"]] += quantity
            movements.append(
                {
                    **tenant,
                    "id": new_id(),
                    "variant_id": variant["id"],
                    "pdv_id": pdv_id,
                    "kind": "purchase",
                    "quantity": quantity,
                    "unit_cost": variant["cost"],
                    "balance_after": Decimal(0),
                    "average_cost_after": variant["cost"],
                    "reference_type": "bill",
                    "reference_id": bill_id,
                    "reference_number": number,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        total = subtotal + tax_total
        paid = n % 5 != 0
        bills.append(
            {
                **tenant,
                "id": bill_id,
                "status": "paid" if paid else "open",
                "supplier_id": supplier,
                "pdv_id": pdv_id,
                "supplier_invoice_number": f"FE-{n + 1}",
                "number": number,
                **issued_document(created, subtotal, tax_total, owner_id),
                "amount_paid": total if paid else Decimal(0),
                "balance": Decimal(0) if paid else total,
            }
        )
        if paid:
            paid_count += 1
            payment_id = new_id()
            payments.append(
                {
                    **tenant,
                    "id": payment_id,
                    "number": f"CE-{paid_count:05d}",
                    "supplier_id": supplier,
                    "date": created.date(),
                    "method": "transfer",
                    "applied_total": total,
                    "amount": total,
                    "created_by_id": owner_id,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            allocations.append(
                {
                    **tenant,
                    "id": new_id(),
                    "payment_id": payment_id,
                    "bill_id": bill_id,
                    "amount": total,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        if len(bills) >= 5000:
            flush_purchases()
    flush_purchases()
    # The next internal numbers follow the generated ones.
    load.copy(
        DocumentSequence,
        [
            {**tenant, "id": new_id(), "kind": "bill", "next_value": count + 1},
            {**tenant, "id": new_id(), "kind": "supplier_payment", "next_value": paid_count + 1},
        ],
    )
    return bought


def generate(args) -> dict:
    import psycopg
    from django.contrib.auth.hashers import make_password

    from accounts.models import Company, Membership, User
    from contacts.models import Contact
    from inventory.models import Stock, StockMovement
    from invoices.models import NumberingRange
    from pos.models import PDV, CashRegister
    from products.models import PriceList, Product, ProductTax, Tax, Unit, Variant

    rng = random.Random(args.seed)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    password_hash = make_password(PASSWORD)
    # Every date derives from the epoch (the build day unless --epoch is given), so the seed
    # and the epoch rebuild the same rows.
    today = args.epoch
    now = datetime(today.year, today.month, today.day, 12, tzinfo=BOGOTA)
    start = now - timedelta(days=365)
    # M invoices in total: the big company's, the rest spread over the N others.
    per_tenant, extra = divmod(args.invoices - args.big, max(args.tenants, 1))
    plan = [("big", args.big, 2000, 500)] + [
        (f"t{index:05d}", per_tenant + (1 if index < extra else 0), 20, 5)
        for index in range(args.tenants)
    ]
    manifest = {"seed": args.seed, "password": PASSWORD, "tenants": []}
    started = time.monotonic()

    with psycopg.connect(args.admin_url, autocommit=False) as connection:
        connection.execute("SET session_replication_role = replica")  # skip FK triggers
        load = Loader(connection, now)
        for position, (label, invoice_count, product_count, customer_count) in enumerate(plan):
            company_id, owner_id = new_id(), new_id()
            load.copy(
                Company,
                [
                    {
                        "id": company_id,
                        "name": f"Empresa {label}",
                        "nit": f"{900000000 + position}",
                        "nit_dv": "0",
                        "city": "Bogotá",
                        "allow_negative_stock": True,
                    }
                ],
            )
            load.copy(
                User,
                [
                    {
                        "id": owner_id,
                        "email": f"owner-{label}@bench.ally360.co",
                        "password": password_hash,
                        "first_name": "Owner",
                        "email_verified_at": start,
                    }
                ],
            )
            load.copy(
                Membership,
                [{"id": new_id(), "user_id": owner_id, "company_id": company_id, "role": "owner"}],
            )
            tenant = {"tenant_id": company_id}
            pdv_id = new_id()
            load.copy(
                PDV,
                [
                    {
                        **tenant,
                        "id": pdv_id,
                        "name": "Principal",
                        "code": "PRINCIPAL",
                        "is_main": True,
                    }
                ],
            )
            load.copy(
                CashRegister, [{**tenant, "id": new_id(), "pdv_id": pdv_id, "name": "Caja 1"}]
            )
            tax_id, inc_id = new_id(), new_id()
            load.copy(
                Tax,
                [
                    {
                        **tenant,
                        "id": tax_id,
                        "name": "IVA 19%",
                        "kind": "iva",
                        "treatment": "taxed",
                        "rate": Decimal("19"),
                        "dian_code": "01",
                    },
                    {
                        **tenant,
                        "id": inc_id,
                        "name": "INC 8%",
                        "kind": "inc",
                        "treatment": "taxed",
                        "rate": Decimal("8"),
                        "dian_code": "04",
                    },
                ],
            )
            unit_id = new_id()
            load.copy(
                Unit,
                [{**tenant, "id": unit_id, "code": "unit", "name": "Unidad", "dian_code": "94"}],
            )
            load.copy(
                PriceList, [{**tenant, "id": new_id(), "name": "General", "is_default": True}]
            )
            consumer_id = new_id()
            customers = [new_id() for _ in range(customer_count)]
            load.copy(
                Contact,
                [
                    {
                        **tenant,
                        "id": consumer_id,
                        "id_type": "13",
                        "id_number": "222222222222",
                        "name": "Consumidor final",
                        "is_final_consumer": True,
                        "is_customer": True,
                    }
                ]
                + [
                    {
                        **tenant,
                        "id": customer,
                        "id_type": "13",
                        "id_number": f"{10000000 + i}",
                        "name": f"Cliente {i}",
                        "is_customer": True,
                        "payment_term_days": 30,
                    }
                    for i, customer in enumerate(customers)
                ],
            )
            products, variants = [], []
            for i in range(product_count):
                product_id, variant_id = new_id(), new_id()
                # The first three sell in the POS scenario (three lines under the 5 UVT limit).
                price = Decimal(rng.randrange(1000, 80_000 if i < 3 else 200_000))
                products.append(
                    {
                        **tenant,
                        "id": product_id,
                        "name": f"Producto {i:05d}",
                        "unit_id": unit_id,
                        "track_inventory": True,
                    }
                )
                variants.append(
                    {
                        **tenant,
                        "id": variant_id,
                        "product_id": product_id,
                        "sku": f"SKU-{i:06d}",
                        "barcode": f"77{position:05d}{i:06d}",
                        "price": price,
                        "cost": (price * Decimal("0.6")).quantize(CENT),
                        "is_default": True,
                    }
                )
            load.copy(Product, products)
            load.copy(
                ProductTax,
                [
                    {**tenant, "id": new_id(), "product_id": p["id"], "tax_id": tax_id}
                    for p in products
                ],
            )
            load.copy(Variant, variants)
            ranges = {kind: new_id() for kind in ("invoice", "pos", "credit_note")}
            load.copy(
                NumberingRange,
                [
                    {
                        **tenant,
                        "id": ranges[kind],
                        "pdv_id": pdv_id,
                        "document_type": kind,
                        "resolution_number": "18764000000000",
                        "prefix": prefix,
                        "range_from": 1,
                        "range_to": 100_000_000,
                        # Invoices alternate sale, pos, sale…: the next free number of each.
                        "next_number": {
                            "invoice": (invoice_count + 1) // 2 + 1,
                            "pos": invoice_count // 2 + 1,
                            "credit_note": 1,
                        }[kind],
                        "valid_from": today - timedelta(days=400),
                        "valid_to": today + timedelta(days=730),
                    }
                    for kind, prefix in (("invoice", "FE"), ("pos", "POS"), ("credit_note", "NC"))
                ],
            )

            sold: dict = defaultdict(Decimal)
            invoices, lines, payments, movements = [], [], [], []
            step = timedelta(seconds=max(1, int(365 * 86400 / max(invoice_count, 1))))
            counters = {"invoice": 0, "pos": 0}
            created = start

            for n in range(invoice_count):
                created += step
                kind = "pos" if n % 2 else "sale"
                counter_key = "pos" if kind == "pos" else "invoice"
                counters[counter_key] += 1
                number = counters[counter_key]
                prefix = "POS" if kind == "pos" else "FE"
                invoice_id = new_id()
                chosen = rng.sample(variants, 3)
                total = subtotal = tax_total = Decimal(0)
                for line_no, variant in enumerate(chosen):
                    quantity = Decimal(rng.randint(1, 3))
                    line_subtotal = money(quantity * variant["price"])
                    line_tax = money(line_subtotal * Decimal("0.19"))
                    subtotal += line_subtotal
                    tax_total += line_tax
                    total += line_subtotal + line_tax
                    lines.append(
                        {
                            **tenant,
                            "id": new_id(),
                            "invoice_id": invoice_id,
                            "position": line_no,
                            "variant_id": variant["id"],
                            "description": "Producto",
                            "quantity": quantity,
                            "unit_price": variant["price"],
                            "subtotal": line_subtotal,
                            "tax_total": line_tax,
                            "total": line_subtotal + line_tax,
                            "taxes": [
                                {
                                    "tax_id": str(tax_id),
                                    "name": "IVA 19%",
                                    "kind": "iva",
                                    "treatment": "taxed",
                                    "rate": "19",
                                    "base": str(line_subtotal),
                                    "amount": str(line_tax),
                                }
                            ],
                            "unit_cost": variant["cost"],
                            "created_at": created,
                            "updated_at": created,
                        }
                    )
                    key = (variant["id"], pdv_id)
                    sold[key] += quantity
                    movements.append(
                        {
                            **tenant,
                            "id": new_id(),
                            "variant_id": variant["id"],
                            "pdv_id": pdv_id,
                            "kind": "sale",
                            "quantity": -quantity,
                            "unit_cost": variant["cost"],
                            "balance_after": Decimal(0),
                            "average_cost_after": variant["cost"],
                            "reference_type": "invoice",
                            "reference_id": invoice_id,
                            "reference_number": f"{prefix}{number}",
                            "created_at": created,
                            "updated_at": created,
                        }
                    )
                is_open = kind == "sale" and n % 5 == 0
                customer = consumer_id if kind == "pos" else rng.choice(customers)
                invoices.append(
                    {
                        **tenant,
                        "id": invoice_id,
                        "kind": kind,
                        "status": "open" if is_open else "paid",
                        "pdv_id": pdv_id,
                        "customer_id": customer,
                        "numbering_range_id": ranges[counter_key],
                        "prefix": prefix,
                        "number": number,
                        "full_number": f"{prefix}{number}",
                        **issued_document(created, subtotal, tax_total, owner_id),
                        "amount_paid": Decimal(0) if is_open else total,
                        "balance": total if is_open else Decimal(0),
                    }
                )
                if not is_open:
                    payments.append(
                        {
                            **tenant,
                            "id": new_id(),
                            "invoice_id": invoice_id,
                            "date": created.date(),
                            "method": "cash",
                            "amount": total,
                            "applied": total,
                            "created_by_id": owner_id,
                            "created_at": created,
                            "updated_at": created,
                        }
                    )
                if len(invoices) >= 5000:
                    flush(load, invoices, lines, payments, movements)
            flush(load, invoices, lines, payments, movements)
            bought = purchases(
                load,
                tenant,
                rng,
                new_id,
                args.bills if label == "big" else 0,
                variants,
                pdv_id,
                owner_id,
                start,
            )
            # Opening stock: large enough for every benchmark sale; balance = sum of movements.
            opening = Decimal(10_000_000)
            load.copy(
                StockMovement,
                [
                    {
                        **tenant,
                        "id": new_id(),
                        "variant_id": v["id"],
                        "pdv_id": pdv_id,
                        "kind": "initial",
                        "quantity": opening,
                        "unit_cost": v["cost"],
                        "balance_after": opening,
                        "average_cost_after": v["cost"],
                        "reference_type": "product",
                        "reference_id": v["product_id"],
                        "created_at": start,
                        "updated_at": start,
                    }
                    for v in variants
                ],
            )
            load.copy(
                Stock,
                [
                    {
                        **tenant,
                        "id": new_id(),
                        "variant_id": v["id"],
                        "pdv_id": pdv_id,
                        "quantity": opening - sold[(v["id"], pdv_id)] + bought[v["id"]],
                        "average_cost": v["cost"],
                    }
                    for v in variants
                ],
            )
            manifest["tenants"].append(
                {
                    "label": label,
                    "company_id": str(company_id),
                    "owner": f"owner-{label}@bench.ally360.co",
                    "invoices": invoice_count,
                    "barcodes": [v["barcode"] for v in variants[:200]],
                    "variants": [[str(v["id"]), str(v["price"])] for v in variants[:200]],
                }
            )
            connection.commit()
            if position % 100 == 0:
                print(f"{position + 1}/{len(plan)} companies, {dict(load.counts)}", flush=True)
        connection.execute("RESET session_replication_role")
        connection.commit()
    with psycopg.connect(args.admin_url, autocommit=True) as connection:
        # As autovacuum leaves a settled database: statistics, and the visibility map that lets
        # covering indexes answer without reading the table (see invoice_open_book_idx).
        connection.execute("VACUUM (ANALYZE)")
    manifest["rows"] = dict(load.counts)
    manifest["seconds"] = round(time.monotonic() - started, 1)
    return manifest


def recreate_database(args) -> None:
    """Drop and create the benchmark database, owned by the application role."""
    import psycopg
    from psycopg import sql

    target = urlparse(args.database_url)
    name, owner = target.path.lstrip("/"), target.username
    maintenance = urlparse(args.admin_url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )


def database_stamp(database_url: str) -> dict | None:
    """The parameters the database itself says it was built with (its comment), or None: a
    manifest file alone cannot tell that the database was dropped or rebuilt since."""
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            (comment,) = connection.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                " WHERE datname = current_database()"
            ).fetchone()
    except psycopg.OperationalError:  # no such database yet
        return None
    try:
        return json.loads(comment) if comment else None
    except ValueError:
        return None


def stamp_database(database_url: str, params: dict) -> None:
    import psycopg
    from psycopg import sql

    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(json.dumps(params, sort_keys=True))
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", required=True, help="the application role (migrations run as it)"
    )
    parser.add_argument("--admin-url", required=True, help="a superuser, for COPY")
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--bills", type=int, default=20_000, help="the big company's bills")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--epoch",
        type=date.fromisoformat,
        help="the day the data set is built as of (YYYY-MM-DD; default today, recorded in "
        "dataset.json): with the seed it rebuilds the same rows",
    )
    parser.add_argument("--manifest", default=str(ROOT / "bench" / "results" / "dataset.json"))
    parser.add_argument(
        "--if-missing",
        action="store_true",
        help="keep an existing data set generated with the same parameters",
    )
    args = parser.parse_args()
    if not 0 <= args.big <= args.invoices:
        parser.error("--big must be between 0 and --invoices (the big company's share of them)")
    url = urlparse(args.database_url)
    params = {
        "tenants": args.tenants,
        "invoices": args.invoices,
        "big": args.big,
        "bills": args.bills,
        "seed": args.seed,
        "database": url.path.lstrip("/"),
        "server": f"{url.hostname}:{url.port or 5432}",
        # Another version of this generator builds other rows.
        "generator": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12],
    }
    if args.epoch is not None:
        params["epoch"] = args.epoch.isoformat()
    manifest_path = Path(args.manifest)
    existing = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if (
        args.if_missing
        and existing.get("params") == params
        and database_stamp(args.database_url) == params
    ):
        print(f"Data set already generated ({params}); --if-missing keeps it.")
        # Migrations added since it was built still apply: the code under test needs them.
        setup_django(args.database_url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return

    manifest_path.unlink(missing_ok=True)  # a half-built data set must not look complete
    recreate_database(args)

    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    args.epoch = args.epoch or date.today()
    manifest = generate(args)
    manifest["params"] = params
    manifest["epoch"] = args.epoch.isoformat()
    stamp_database(args.database_url, params)  # last: only a complete data set carries it

    Path(args.manifest).parent.mkdir(parents=True, exist_ok=True)
    Path(args.manifest).write_text(json.dumps(manifest, indent=1))
    print(json.dumps({k: v for k, v in manifest.items() if k != "tenants"}, indent=1))


if __name__ == "__main__":
    main()
