"""Purchases over HTTP: receiving at weighted-average cost, void and its 409, supplier numbers,
payments over several bills with withholdings, debit notes, payables, roles and isolation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from bills.models import Bill, DebitNote, SupplierPayment, Withholding, WithholdingConcept
from conftest import ALL_ROLES, assert_idempotent, error_code
from contacts.models import Contact
from inventory.models import Stock, StockMovement
from pos.models import PDV
from products.models import Tax, Variant

pytestmark = pytest.mark.django_db

URL = "/api/v1/bills/"
BACK_OFFICE = {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT}


class Purchases:
    def __init__(self, company, make_product, name="A"):
        self.company = company
        with tenant_context(company):
            self.pdv = PDV.objects.get(is_main=True)
            self.iva = Tax.objects.get(name="IVA 19%")
            self.supplier = Contact.objects.create(
                id_type="31",
                id_number="800197268",
                check_digit="4",
                name=f"Proveedor {name}",
                is_supplier=True,
                is_customer=False,
                person_type="legal",
                payment_term_days=30,
            )
            self.other_supplier = Contact.objects.create(
                id_type="31",
                id_number="800191045",
                check_digit="1",
                name=f"Otro {name}",
                is_supplier=True,
                is_customer=False,
                person_type="legal",
            )
            self.concepts = {c.name: c for c in WithholdingConcept.objects.all()}
        product = make_product(
            company, sku=f"{name}-ARROZ", cost="600", stock={self.pdv: 10}, taxes=[self.iva]
        )
        with tenant_context(company):
            self.variant = Variant.objects.get(product=product)

    def stock(self):
        with tenant_context(self.company):
            return Stock.objects.get(variant=self.variant, pdv=self.pdv)

    def concept(self, prefix):
        return next(c for name, c in self.concepts.items() if name.startswith(prefix))


@pytest.fixture
def buy_a(company_a, make_product):
    return Purchases(company_a, make_product)


@pytest.fixture
def buy_b(company_b, make_product):
    return Purchases(company_b, make_product, name="B")


def bill_payload(buy, number="F-1001", lines=None, **extra):
    return {
        "supplier": str(buy.supplier.id),
        "pdv": str(buy.pdv.id),
        "supplier_invoice_number": number,
        "lines": lines
        or [
            {
                "variant": str(buy.variant.id),
                "quantity": "20",
                "unit_cost": "900",
                "discount_pct": "10",
            }
        ],
        **extra,
    }


def receive(client, buy, **kwargs):
    response = client.post(URL, {**bill_payload(buy, **kwargs), "issue": True}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def return_goods(client, bill, quantity, reason="Devolución"):
    """POST debit-notes/: `quantity` of the bill's first line back to the supplier."""
    return client.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": reason,
            "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": quantity}],
        },
        format="json",
    )


def pay(client, buy, bill, amount, *withholdings, method="transfer", date=None):
    """POST supplier-payments/: `amount` to one bill, withholding (concept, base, amount)s."""
    return client.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy.supplier.id),
            "method": method,
            **({"date": date.isoformat()} if date else {}),
            "allocations": [{"bill": bill["id"], "amount": amount}],
            "withholdings": [
                {"bill": bill["id"], "concept": str(concept.id), "base": base, "amount": withheld}
                for concept, base, withheld in withholdings
            ],
        },
        format="json",
    )


def test_weighted_average_cost_after_several_receipts(owner_a, buy_a):
    first = receive(owner_a, buy_a)  # 20 at 900 less 10 % = 810 net
    assert (first["status"], first["number"]) == ("open", "FC-00001")
    assert buy_a.stock().average_cost == Decimal("740")  # (10*600 + 20*810) / 30
    second = receive(
        owner_a,
        buy_a,
        number="F-1002",
        lines=[{"variant": str(buy_a.variant.id), "quantity": "5", "unit_cost": "1000"}],
    )
    # The recoverable IVA is not cost: (30*740 + 5*1000) / 35
    assert second["tax_total"] == "950.00"
    stock = buy_a.stock()
    assert stock.average_cost == Decimal("777.142857")
    assert stock.quantity == 35
    with tenant_context(buy_a.company):
        purchase = StockMovement.objects.filter(kind="purchase").order_by("created_at").first()
        assert (purchase.unit_cost, purchase.reference_number) == (Decimal("810"), "FC-00001")


def test_bill_totals_due_date_and_draft_editing(owner_a, buy_a):
    draft = owner_a.post(
        URL, bill_payload(buy_a, issue_date=str(timezone.localdate())), format="json"
    ).json()
    assert (draft["status"], draft["number"]) == ("draft", "")
    # 20 x 900 = 18,000, 10 % off = 16,200, IVA 19 % = 3,078
    assert (draft["subtotal"], draft["discount_total"], draft["tax_total"], draft["total"]) == (
        "18000.00",
        "1800.00",
        "3078.00",
        "19278.00",
    )
    assert buy_a.stock().quantity == 10
    edited = owner_a.patch(
        f"{URL}{draft['id']}/",
        {
            "lines": [
                {"variant": str(buy_a.variant.id), "quantity": "1", "unit_cost": "500", "taxes": []}
            ]
        },
        format="json",
    )
    assert edited.status_code == 200 and edited.json()["total"] == "500.00"
    issued = owner_a.post(f"{URL}{draft['id']}/issue").json()
    assert issued["due_date"] == str(timezone.localdate() + timedelta(days=30))
    assert owner_a.patch(f"{URL}{draft['id']}/", {"notes": "x"}, format="json").status_code == 409
    assert owner_a.delete(f"{URL}{draft['id']}/").status_code == 409


def test_the_supplier_invoice_number_is_unique_per_supplier(owner_a, buy_a, owner_b, buy_b):
    first = receive(owner_a, buy_a, number="F-77")
    again = owner_a.post(URL, bill_payload(buy_a, number="f-77"), format="json")
    assert again.status_code == 409 and error_code(again) == "duplicate_supplier_invoice"
    other = owner_a.post(
        URL,
        {**bill_payload(buy_a, number="F-77"), "supplier": str(buy_a.other_supplier.id)},
        format="json",
    )
    assert other.status_code == 201
    assert owner_b.post(URL, bill_payload(buy_b, number="F-77"), format="json").status_code == 201
    owner_a.post(f"{URL}{first['id']}/void", {"reason": "Mal digitada"}, format="json")
    assert owner_a.post(URL, bill_payload(buy_a, number="F-77"), format="json").status_code == 201


def test_void_reverses_the_receipt_or_answers_409_when_already_sold(owner_a, buy_a):
    bill = receive(owner_a, buy_a)
    assert (buy_a.stock().quantity, buy_a.stock().average_cost) == (30, Decimal("740"))
    voided = owner_a.post(f"{URL}{bill['id']}/void", {"reason": "Devuelta completa"}, format="json")
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    # The goods leave at what they cost (810), so the average is the one before the bill again.
    assert (buy_a.stock().quantity, buy_a.stock().average_cost) == (10, Decimal("600"))
    with tenant_context(buy_a.company):
        returned = StockMovement.objects.get(kind="purchase_return")
        assert (returned.quantity, returned.unit_cost) == (Decimal("-20"), Decimal("810"))

    sold_out = receive(owner_a, buy_a, number="F-2")
    adjust = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(buy_a.pdv.id),
            "reason": "loss",
            "lines": [{"variant": str(buy_a.variant.id), "delta": "-25"}],
        },
        format="json",
    )
    assert adjust.status_code == 201
    refused = owner_a.post(f"{URL}{sold_out['id']}/void", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "stock_already_sold"
    assert refused.json()["error"]["items"][0]["available"] == "5.000"
    with tenant_context(buy_a.company):
        assert Bill.objects.get(pk=sold_out["id"]).status == "open"
    assert buy_a.stock().quantity == 5


def test_withholding_arithmetic_and_suggestions(owner_a, buy_a):
    big = receive(
        owner_a,
        buy_a,
        number="F-10",
        lines=[{"variant": str(buy_a.variant.id), "quantity": "1000", "unit_cost": "1000"}],
    )
    small = receive(
        owner_a,
        buy_a,
        number="F-11",
        lines=[{"variant": str(buy_a.variant.id), "quantity": "100", "unit_cost": "1000"}],
    )
    assert big["total"] == "1190000.00"
    concepts = [
        buy_a.concept("Compras generales (declarantes)"),
        buy_a.concept("ReteIVA"),
        buy_a.concept("ReteICA"),
    ]
    suggested = owner_a.post(
        "/api/v1/supplier-payments/suggest",
        {"bills": [big["id"], small["id"]], "concepts": [str(c.id) for c in concepts]},
        format="json",
    )
    assert suggested.status_code == 200, suggested.json()
    rows = {(r["bill"], r["kind"]): (r["base"], r["amount"]) for r in suggested.json()}
    # ReteFuente 2.5 % of the base (1,000,000 >= 10 UVT); ReteIVA 15 % of the IVA; ReteICA
    # 9.66 per mil of the base. The small bill (100,000) is under 10 UVT: no ReteFuente.
    assert rows == {
        (big["id"], "retefuente"): ("1000000.00", "25000.00"),
        (big["id"], "reteiva"): ("190000.00", "28500.00"),
        (big["id"], "reteica"): ("1000000.00", "9660.00"),
        (small["id"], "reteiva"): ("19000.00", "2850.00"),
        (small["id"], "reteica"): ("100000.00", "966.00"),
    }
    two_of_a_kind = owner_a.post(
        "/api/v1/supplier-payments/suggest",
        {
            "bills": [big["id"]],
            "concepts": [
                str(buy_a.concept("Compras generales (d").id),
                str(buy_a.concept("Servicios").id),
            ],
        },
        format="json",
    )
    assert two_of_a_kind.status_code == 400


def test_one_payment_over_two_bills_with_withholdings(owner_a, buy_a):
    big = receive(
        owner_a,
        buy_a,
        number="F-10",
        lines=[{"variant": str(buy_a.variant.id), "quantity": "1000", "unit_cost": "1000"}],
    )
    small = receive(
        owner_a,
        buy_a,
        number="F-11",
        lines=[{"variant": str(buy_a.variant.id), "quantity": "100", "unit_cost": "1000"}],
    )
    retefuente = buy_a.concept("Compras generales (declarantes)")
    reteiva = buy_a.concept("ReteIVA")
    response = owner_a.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy_a.supplier.id),
            "method": "transfer",
            "reference": "PSE-1",
            "allocations": [
                {"bill": big["id"], "amount": "1190000"},
                {"bill": small["id"], "amount": "50000"},
            ],
            "withholdings": [
                {
                    "bill": big["id"],
                    "concept": str(retefuente.id),
                    "base": "1000000",
                    "amount": "25000",
                },
                {
                    "bill": big["id"],
                    "concept": str(reteiva.id),
                    "base": "190000",
                    "amount": "28500",
                },
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    payment = response.json()
    assert (
        payment["number"],
        payment["applied_total"],
        payment["withholding_total"],
        payment["amount"],
    ) == ("CE-00001", "1240000.00", "53500.00", "1186500.00")
    big_now = owner_a.get(f"{URL}{big['id']}/").json()
    small_now = owner_a.get(f"{URL}{small['id']}/").json()
    assert (big_now["status"], big_now["balance"]) == ("paid", "0.00")
    assert (small_now["status"], small_now["balance"]) == ("open", "69000.00")
    # Listed once, with or without the bill filter (which goes through the allocations).
    for params in ({}, {"bill": big["id"]}, {"bill": small["id"]}):
        listed = owner_a.get("/api/v1/supplier-payments/", params).json()
        assert [p["number"] for p in listed["results"]] == ["CE-00001"] and listed["count"] == 1
        assert len(listed["results"][0]["allocations"]) == 2
    assert owner_a.get(f"/api/v1/supplier-payments/{payment['id']}/").json() == listed["results"][0]

    # A second suggestion no longer proposes what was already withheld.
    again = owner_a.post(
        "/api/v1/supplier-payments/suggest",
        {"bills": [big["id"]], "concepts": [str(retefuente.id), str(reteiva.id)]},
        format="json",
    )
    assert again.json() == []
    certificate = owner_a.get(
        "/api/v1/supplier-payments/certificate", {"supplier": str(buy_a.supplier.id)}
    ).json()
    assert {(w["kind"], w["base"], w["amount"]) for w in certificate["withholdings"]} == {
        ("retefuente", "1000000.00", "25000.00"),
        ("reteiva", "190000.00", "28500.00"),
    }
    voided = owner_a.post(
        f"/api/v1/supplier-payments/{payment['id']}/void",
        {"reason": "Transferencia rechazada"},
        format="json",
    )
    assert voided.status_code == 200
    assert owner_a.get(f"{URL}{big['id']}/").json()["balance"] == "1190000.00"
    assert (
        owner_a.get(
            "/api/v1/supplier-payments/certificate", {"supplier": str(buy_a.supplier.id)}
        ).json()["withholdings"]
        == []
    )


def test_the_certificate_leaves_out_withholdings_reversed_by_returns(owner_a, buy_a):
    line = {"variant": str(buy_a.variant.id), "quantity": "100", "unit_cost": "1000"}
    bill = receive(owner_a, buy_a, lines=[line])  # base 100,000, IVA 19,000
    fuente = buy_a.concept("Compras generales (declarantes)")
    paid = pay(owner_a, buy_a, bill, "119000", (fuente, "100000", "2500"))
    assert paid.status_code == 201, paid.json()

    def certificate():
        answer = owner_a.get(
            "/api/v1/supplier-payments/certificate", {"supplier": str(buy_a.supplier.id)}
        ).json()
        return [(w["base"], w["amount"], w["reversed"]) for w in answer["withholdings"]]

    assert certificate() == [("100000.00", "2500.00", "0.00")]
    # Half goes back: the supplier refunds it from the money it received; nothing is reversed.
    half = return_goods(owner_a, bill, "50")
    assert (half.json()["refund_amount"], half.json()["withholding_reversed"]) == (
        "59500.00",
        "0.00",
    )
    assert certificate() == [("100000.00", "2500.00", "0.00")]
    # The rest goes back: the supplier gives back only the money it received (116,500 in all);
    # the 2,500 withheld is reversed and leaves the certificate.
    rest = return_goods(owner_a, bill, "50")
    assert rest.status_code == 201, rest.json()
    notes = [owner_a.get(f"/api/v1/debit-notes/{n.json()['id']}/").json() for n in (half, rest)]
    assert sum(Decimal(n["refund_amount"]) for n in notes) == Decimal("116500")
    assert sum(Decimal(n["withholding_reversed"]) for n in notes) == Decimal("2500")
    assert certificate() == [("0.00", "0.00", "2500.00")]


def test_the_certificate_reverses_to_the_cent_what_the_returns_reversed(owner_a, buy_a):
    """A reversal shared among three withholdings: each share rounded on its own made 36.61."""
    line = {"variant": str(buy_a.variant.id), "quantity": "100", "unit_cost": "100"}
    bill = receive(owner_a, buy_a, lines=[line])
    assert bill["total"] == "11900.00"
    paid = pay(
        owner_a,
        buy_a,
        bill,
        "11900",
        (buy_a.concept("Compras generales (declarantes)"), "10000", "250"),
        (buy_a.concept("ReteIVA"), "1900", "285"),
        (buy_a.concept("ReteICA"), "10000", "96.60"),
    )
    assert paid.status_code == 201, paid.json()
    note = return_goods(owner_a, bill, "95")
    assert (note.json()["refund_amount"], note.json()["withholding_reversed"]) == (
        "11268.40",
        "36.60",
    )
    rows = owner_a.get(
        "/api/v1/supplier-payments/certificate", {"supplier": str(buy_a.supplier.id)}
    ).json()["withholdings"]
    assert sum(Decimal(row["reversed"]) for row in rows) == Decimal("36.60")
    assert sum(Decimal(row["amount"]) for row in rows) == Decimal("631.60") - Decimal("36.60")


def test_a_later_return_does_not_rewrite_an_earlier_one_nor_a_closed_years_certificate(
    owner_a, buy_a
):
    """Paid last December with ReteFuente 25 withheld (975 received); 98 units went back on
    20 December: 975 refunded, 5 reversed, in last year's certificate. The last 2 units go back
    this year: their 20 are reversed this year; the December note stays as it was."""
    today = timezone.localdate()
    december = today.replace(year=today.year - 1, month=12)
    line = {"variant": str(buy_a.variant.id), "quantity": "100", "unit_cost": "10", "taxes": []}
    bill = receive(owner_a, buy_a, issue_date=december.replace(day=1).isoformat(), lines=[line])
    fuente = buy_a.concept("Compras generales (declarantes)")
    paid = pay(owner_a, buy_a, bill, "1000", (fuente, "1000", "25"), date=december.replace(day=15))
    assert paid.status_code == 201, paid.json()
    first = owner_a.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "Devolución",
            "issue_date": december.replace(day=20).isoformat(),
            "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "98"}],
        },
        format="json",
    )
    assert (first.json()["refund_amount"], first.json()["withholding_reversed"]) == (
        "975.00",
        "5.00",
    )

    def certificate(year):
        return owner_a.get(
            "/api/v1/supplier-payments/certificate",
            {"supplier": str(buy_a.supplier.id), "year": year},
        ).json()["withholdings"]

    declared = certificate(december.year)
    assert [row["reversed"] for row in declared] == ["5.00"]
    last = return_goods(owner_a, bill, "2")
    assert (last.json()["refund_amount"], last.json()["withholding_reversed"]) == ("0.00", "20.00")
    assert certificate(december.year) == declared
    assert [row["reversed"] for row in certificate(today.year)] == ["20.00"]
    again = owner_a.get(f"/api/v1/debit-notes/{first.json()['id']}/").json()
    assert (again["refund_amount"], again["withholding_reversed"]) == ("975.00", "5.00")


def test_a_return_dated_back_does_not_rewrite_one_made_before_it(owner_a, buy_a):
    """The notes share what is owed back in the order they were made: a return entered later
    but dated before another keeps that one's refund as it was (the supplier may have paid it)."""
    from datetime import timedelta

    today = timezone.localdate()
    line = {"variant": str(buy_a.variant.id), "quantity": "100", "unit_cost": "10", "taxes": []}
    bill = receive(
        owner_a, buy_a, issue_date=(today - timedelta(days=10)).isoformat(), lines=[line]
    )
    fuente = buy_a.concept("Compras generales (declarantes)")
    assert pay(owner_a, buy_a, bill, "1000", (fuente, "1000", "25")).status_code == 201
    first = return_goods(owner_a, bill, "98")
    assert (first.json()["refund_amount"], first.json()["withholding_reversed"]) == (
        "975.00",
        "5.00",
    )
    dated_back = owner_a.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "Devolución",
            "issue_date": (today - timedelta(days=5)).isoformat(),
            "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "2"}],
        },
        format="json",
    )
    assert dated_back.status_code == 201, dated_back.json()
    assert (dated_back.json()["refund_amount"], dated_back.json()["withholding_reversed"]) == (
        "0.00",
        "20.00",
    )
    again = owner_a.get(f"/api/v1/debit-notes/{first.json()['id']}/").json()
    assert (again["refund_amount"], again["withholding_reversed"]) == ("975.00", "5.00")


def test_supplier_payment_validation_changes_nothing(owner_a, buy_a, company_a):
    bill = receive(owner_a, buy_a)
    other = owner_a.post(
        URL,
        {
            **bill_payload(buy_a, number="X1"),
            "issue": True,
            "supplier": str(buy_a.other_supplier.id),
        },
        format="json",
    ).json()
    draft = owner_a.post(URL, bill_payload(buy_a, number="D1"), format="json").json()
    retefuente = buy_a.concept("Compras generales (declarantes)")
    base = {"supplier": str(buy_a.supplier.id), "method": "cash"}
    cases = [
        {"allocations": [{"bill": bill["id"], "amount": "99999999"}]},
        {"allocations": [{"bill": other["id"], "amount": "10"}]},
        {"allocations": [{"bill": draft["id"], "amount": "10"}]},
        {
            "allocations": [
                {"bill": bill["id"], "amount": "10"},
                {"bill": bill["id"], "amount": "5"},
            ]
        },
        {
            "allocations": [{"bill": bill["id"], "amount": "10"}],
            "withholdings": [
                {"bill": bill["id"], "concept": str(retefuente.id), "base": "1", "amount": "11"}
            ],
        },
        {
            "allocations": [{"bill": bill["id"], "amount": "10"}],
            "withholdings": [
                {"bill": other["id"], "concept": str(retefuente.id), "base": "1", "amount": "1"}
            ],
        },
        {  # one concept twice on one bill would count twice in the yearly certificate
            "allocations": [{"bill": bill["id"], "amount": "10"}],
            "withholdings": [
                {"bill": bill["id"], "concept": str(retefuente.id), "base": "1", "amount": "1"},
                {"bill": bill["id"], "concept": str(retefuente.id), "base": "1", "amount": "1"},
            ],
        },
        {"allocations": []},
    ]

    for case in cases:
        response = owner_a.post("/api/v1/supplier-payments/", {**base, **case}, format="json")
        assert response.status_code == 400, case
    with tenant_context(company_a):
        assert not SupplierPayment.objects.exists() and not Withholding.objects.exists()


def test_debit_note_returns_goods_and_lowers_the_balance(owner_a, buy_a):
    bill = receive(owner_a, buy_a)  # 20 units, total 19,278
    line = bill["lines"][0]
    too_many = owner_a.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "Averiado",
            "lines": [{"bill_line": line["id"], "quantity": "21"}],
        },
        format="json",
    )
    assert too_many.status_code == 400 and error_code(too_many) == "above_received"
    note = owner_a.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "Averiado",
            "lines": [{"bill_line": line["id"], "quantity": "5"}],
        },
        format="json",
    )
    assert note.status_code == 201, note.json()
    # 5 x 900 - 10 % = 4,050 + IVA 769.50 = 4,819.50
    assert (note.json()["number"], note.json()["total"]) == ("ND-00001", "4819.50")
    assert buy_a.stock().quantity == 25
    state = owner_a.get(f"{URL}{bill['id']}/").json()
    assert (state["debited_total"], state["balance"]) == ("4819.50", "14458.50")
    owner_a.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy_a.supplier.id),
            "method": "cash",
            "allocations": [{"bill": bill["id"], "amount": "14458.50"}],
        },
        format="json",
    )
    assert owner_a.get(f"{URL}{bill['id']}/").json()["status"] == "paid"
    refund = owner_a.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "Vencido",
            "lines": [{"bill_line": line["id"], "quantity": "15"}],
        },
        format="json",
    )
    assert refund.status_code == 201 and refund.json()["refund_amount"] == refund.json()["total"]
    assert buy_a.stock().quantity == 10
    assert (
        owner_a.post(
            "/api/v1/debit-notes/",
            {
                "bill": bill["id"],
                "reason": "x",
                "lines": [{"bill_line": line["id"], "quantity": "1"}],
            },
            format="json",
        ).status_code
        == 400
    )


def test_payables_aging(owner_a, buy_a):
    today = timezone.localdate()
    totals = {}
    for days, number in ((0, "A"), (40, "B"), (100, "C")):
        bill = receive(owner_a, buy_a, number=number)
        with tenant_context(buy_a.company):
            Bill.objects.filter(pk=bill["id"]).update(due_date=today - timedelta(days=days))
        totals[days] = bill["total"]
    report = owner_a.get("/api/v1/payables/").json()
    assert (
        report["totals"]["current"],
        report["totals"]["days_31_60"],
        report["totals"]["over_90"],
        report["totals"]["bills"],
    ) == (totals[0], totals[40], totals[100], 3)
    assert report["results"][0]["supplier__name"] == "Proveedor A"
    overdue = owner_a.get("/api/v1/payables/bills", {"overdue": "true"}).json()["results"]
    assert sorted(b["days_overdue"] for b in overdue) == [40, 100]


def test_payables_of_a_past_day_are_what_was_owed_that_day(owner_a, buy_a):
    """`?as_of=` a past day: bills dated later, payments dated later and returns issued later do
    not count yet; a voided bill or payment counts on no day (a void corrects the books)."""
    today = timezone.localdate()
    day = today - timedelta(days=20)

    def ago(days):
        return str(today - timedelta(days=days))

    def bill(number, dated_days_ago, due_days_ago=None):
        dates = {"issue_date": ago(dated_days_ago)}
        if due_days_ago is not None:
            dates["due_date"] = ago(due_days_ago)
        return receive(owner_a, buy_a, number=number, **dates)

    def paid(document, amount, days_ago):
        payment = owner_a.post(
            "/api/v1/supplier-payments/",
            {
                "supplier": str(buy_a.supplier.id),
                "method": "transfer",
                "date": ago(days_ago),
                "allocations": [{"bill": document["id"], "amount": str(amount)}],
            },
            format="json",
        )
        assert payment.status_code == 201, payment.json()
        return payment.json()

    def returned(document, quantity, days_ago):
        note = owner_a.post(
            "/api/v1/debit-notes/",
            {
                "bill": document["id"],
                "reason": "Devolución",
                "issue_date": ago(days_ago),
                "lines": [{"bill_line": document["lines"][0]["id"], "quantity": quantity}],
            },
            format="json",
        )
        assert note.status_code == 201, note.json()
        return Decimal(note.json()["total"])

    # Paid in part before the day, the rest after it: 5 days late that day.
    paid_later = bill("A", dated_days_ago=30, due_days_ago=25)
    paid(paid_later, 1000, days_ago=25)
    paid(paid_later, Decimal(paid_later["total"]) - 1000, days_ago=5)
    # Everything returned after the day: owed in full then, 5 days late.
    returned_later = bill("B", dated_days_ago=30, due_days_ago=25)
    returned(returned_later, "20", days_ago=5)
    # A return before the day counts, one after it not yet; a payment entered wrongly, voided
    # and entered again with its date counts once.
    partly_returned = bill("C", dated_days_ago=30)  # due in 30 days from its date
    before, after = returned(partly_returned, "5", 22), returned(partly_returned, "5", 0)
    wrong = paid(partly_returned, 1000, days_ago=26)
    voided = owner_a.post(f"/api/v1/supplier-payments/{wrong['id']}/void", {"reason": "x"})
    assert voided.status_code == 200
    paid(partly_returned, 1000, days_ago=26)
    # Received wrongly, voided and received again with the supplier's date: counted once.
    wrong_bill = bill("D", dated_days_ago=110, due_days_ago=100)
    assert owner_a.post(f"{URL}{wrong_bill['id']}/void", {"reason": "x"}).status_code == 200
    again = bill("D", dated_days_ago=110, due_days_ago=100)
    # Dated after the day.
    dated_after = bill("E", dated_days_ago=0)

    owed = {
        paid_later["id"]: Decimal(paid_later["total"]) - 1000,
        returned_later["id"]: Decimal(returned_later["total"]),
        partly_returned["id"]: Decimal(partly_returned["total"]) - before - 1000,
        again["id"]: Decimal(again["total"]),
    }
    then = owner_a.get("/api/v1/payables/", {"as_of": str(day)}).json()
    assert {
        key: then["totals"][key] for key in ("balance", "current", "days_1_30", "days_61_90")
    } == {
        "balance": str(sum(owed.values())),
        "current": str(owed[partly_returned["id"]]),
        "days_1_30": str(owed[paid_later["id"]] + owed[returned_later["id"]]),
        "days_61_90": str(owed[again["id"]]),
    }
    assert then["totals"]["bills"] == 4
    listed = owner_a.get("/api/v1/payables/bills", {"as_of": str(day)}).json()["results"]
    assert {row["id"]: Decimal(row["balance_as_of"]) for row in listed} == owed
    assert {row["id"]: row["days_overdue"] for row in listed} == {
        paid_later["id"]: 5,
        returned_later["id"]: 5,
        partly_returned["id"]: 0,
        again["id"]: 80,
    }
    now = owner_a.get("/api/v1/payables/bills").json()["results"]
    assert {row["id"]: Decimal(row["balance_as_of"]) for row in now} == {
        partly_returned["id"]: Decimal(partly_returned["total"]) - before - after - 1000,
        again["id"]: Decimal(again["total"]),
        dated_after["id"]: Decimal(dated_after["total"]),
    }


def test_supplier_documents_are_not_dated_after_today_or_before_their_bill(owner_a, buy_a):
    today = timezone.localdate()
    tomorrow, last_week = str(today + timedelta(days=1)), str(today - timedelta(days=7))
    ahead = owner_a.post(URL, bill_payload(buy_a, issue_date=tomorrow), format="json")
    assert ahead.status_code == 400 and error_code(ahead) == "bill_date"
    assert "issue_date" in ahead.json()["error"]["fields"]
    due_early = owner_a.post(URL, bill_payload(buy_a, due_date=last_week), format="json")
    assert due_early.status_code == 400 and "due_date" in due_early.json()["error"]["fields"]
    bill = receive(owner_a, buy_a)  # dated today
    for when in (tomorrow, last_week):
        payment = owner_a.post(
            "/api/v1/supplier-payments/",
            {
                "supplier": str(buy_a.supplier.id),
                "method": "cash",
                "date": when,
                "allocations": [{"bill": bill["id"], "amount": "100"}],
            },
            format="json",
        )
        assert payment.status_code == 400 and error_code(payment) == "payment_date", when
        note = owner_a.post(
            "/api/v1/debit-notes/",
            {
                "bill": bill["id"],
                "reason": "x",
                "issue_date": when,
                "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "1"}],
            },
            format="json",
        )
        assert note.status_code == 400 and error_code(note) == "note_date", when
    draft = owner_a.post(URL, bill_payload(buy_a, number="F-2"), format="json").json()
    moved = owner_a.patch(f"{URL}{draft['id']}/", {"issue_date": tomorrow}, format="json")
    assert moved.status_code == 400 and error_code(moved) == "bill_date"
    with tenant_context(buy_a.company):
        assert SupplierPayment.objects.count() == 0 and DebitNote.objects.count() == 0
        assert Bill.objects.get(pk=draft["id"]).issue_date == today


def test_idempotent_bill_and_payment(owner_a, buy_a, company_a):
    body = {**bill_payload(buy_a), "issue": True}
    first = owner_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bill-1")
    again = owner_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bill-1")
    assert first.json() == again.json()
    assert buy_a.stock().quantity == 30
    with tenant_context(company_a):
        assert Bill.objects.count() == 1


def test_only_an_active_supplier_can_bill_us(owner_a, buy_a, company_a):
    with tenant_context(company_a):
        customer_only = Contact.objects.create(
            id_type="13", id_number="52123456", name="Cliente Solo", is_customer=True
        )
        Contact.objects.filter(pk=buy_a.other_supplier.pk).update(is_active=False)
    for contact in (customer_only, buy_a.other_supplier):
        refused = owner_a.post(
            URL, {**bill_payload(buy_a), "supplier": str(contact.id)}, format="json"
        )
        assert refused.status_code == 400, refused.json()
        assert "supplier" in refused.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Bill.objects.exists()
    assert buy_a.stock().quantity == 10


def test_idempotent_supplier_payments_and_debit_notes(owner_a, buy_a, company_a):
    """supplier-payments/ and debit-notes/ honour Idempotency-Key like bills: one document per
    key, the same answer on a retry, 409 for the same key with another body."""
    bill = receive(owner_a, buy_a)  # 20 units, total 19,278

    payment = {
        "supplier": str(buy_a.supplier.id),
        "method": "transfer",
        "allocations": [{"bill": bill["id"], "amount": "5000"}],
    }
    note = {
        "bill": bill["id"],
        "reason": "Averiado",
        "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "2"}],
    }
    for url, body, changed in (
        ("/api/v1/supplier-payments/", payment, {**payment, "reference": "PSE-2"}),
        ("/api/v1/debit-notes/", note, {**note, "reason": "Vencido"}),
    ):
        assert_idempotent(owner_a, url, body, changed)
    with tenant_context(company_a):
        assert SupplierPayment.objects.count() == 1
        assert Bill.objects.get(pk=bill["id"]).debit_notes.count() == 1
    assert buy_a.stock().quantity == 28  # 10 + 20 received - 2 returned, once


@pytest.mark.parametrize("role", ALL_ROLES)
def test_purchase_roles(company_a, client_as, buy_a, owner_a, role):
    client = client_as(company_a, role)
    allowed = role in BACK_OFFICE
    expected_read = 200 if allowed else 403
    for url in (
        URL,
        "/api/v1/supplier-payments/",
        "/api/v1/debit-notes/",
        "/api/v1/payables/",
        "/api/v1/withholding-concepts/",
    ):
        assert client.get(url).status_code == expected_read, url
    created = client.post(URL, {**bill_payload(buy_a), "issue": True}, format="json")
    assert created.status_code == (201 if allowed else 403)
    bill = created.json() if allowed else receive(owner_a, buy_a, number="R-1")
    paid = client.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy_a.supplier.id),
            "method": "cash",
            "allocations": [{"bill": bill["id"], "amount": "100"}],
        },
        format="json",
    )
    assert paid.status_code == (201 if allowed else 403)
    noted = return_goods(client, bill, "1", reason="x")
    assert noted.status_code == (201 if allowed else 403)
    with tenant_context(company_a):
        assert Bill.objects.count() == 1


def test_cross_tenant_ids_in_purchase_payloads_and_urls(
    owner_a, owner_b, buy_a, buy_b, company_a, company_b
):
    for field, value in (
        ("supplier", str(buy_b.supplier.id)),
        ("pdv", str(buy_b.pdv.id)),
        ("lines", [{"variant": str(buy_b.variant.id), "quantity": "1", "unit_cost": "1"}]),
        (
            "lines",
            [
                {
                    "variant": str(buy_a.variant.id),
                    "quantity": "1",
                    "unit_cost": "1",
                    "taxes": [str(buy_b.iva.id)],
                }
            ],
        ),
    ):
        response = owner_a.post(URL, {**bill_payload(buy_a), field: value}, format="json")
        assert response.status_code == 400, field
    with tenant_context(company_a):
        assert not Bill.objects.exists()
    bill_b = receive(owner_b, buy_b)
    for method, url, payload in (
        ("get", f"{URL}{bill_b['id']}/", None),
        ("post", f"{URL}{bill_b['id']}/issue", {}),
        ("post", f"{URL}{bill_b['id']}/void", {"reason": "x"}),
        ("delete", f"{URL}{bill_b['id']}/", None),
    ):
        assert getattr(owner_a, method)(url, payload, format="json").status_code == 404
    bill_a = receive(owner_a, buy_a)
    refused = [
        owner_a.post(
            "/api/v1/supplier-payments/",
            {
                "supplier": str(buy_a.supplier.id),
                "method": "cash",
                "allocations": [{"bill": bill_b["id"], "amount": "1"}],
            },
            format="json",
        ),
        owner_a.post(
            "/api/v1/supplier-payments/",
            {
                "supplier": str(buy_a.supplier.id),
                "method": "cash",
                "allocations": [{"bill": bill_a["id"], "amount": "10"}],
                "withholdings": [
                    {
                        "bill": bill_a["id"],
                        "concept": str(buy_b.concept("ReteIVA").id),
                        "base": "1",
                        "amount": "1",
                    }
                ],
            },
            format="json",
        ),
        owner_a.post(
            "/api/v1/debit-notes/",
            {
                "bill": bill_b["id"],
                "reason": "x",
                "lines": [{"bill_line": bill_b["lines"][0]["id"], "quantity": "1"}],
            },
            format="json",
        ),
        owner_a.post(
            "/api/v1/debit-notes/",
            {
                "bill": bill_a["id"],
                "reason": "x",
                "lines": [{"bill_line": bill_b["lines"][0]["id"], "quantity": "1"}],
            },
            format="json",
        ),
        owner_a.post(
            "/api/v1/supplier-payments/suggest",
            {"bills": [bill_b["id"]], "concepts": []},
            format="json",
        ),
    ]
    assert [r.status_code for r in refused] == [400] * 5
    assert (
        owner_a.get(
            "/api/v1/supplier-payments/certificate", {"supplier": str(buy_b.supplier.id)}
        ).status_code
        == 400
    )
    with tenant_context(company_b):
        assert Bill.objects.get(pk=bill_b["id"]).balance == Decimal(bill_b["total"])
        assert Stock.objects.get(variant=buy_b.variant).quantity == 30
    with tenant_context(company_a):
        assert not SupplierPayment.objects.exists()


def test_a_bill_with_payments_or_debit_notes_cannot_be_voided(owner_a, buy_a):
    paid = receive(owner_a, buy_a, number="F-P")
    payment = owner_a.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy_a.supplier.id),
            "method": "transfer",
            "allocations": [{"bill": paid["id"], "amount": "1000"}],
        },
        format="json",
    )
    assert payment.status_code == 201, payment.json()
    refused = owner_a.post(f"{URL}{paid['id']}/void", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "bill_has_payments"

    returned = receive(owner_a, buy_a, number="F-D")
    note = return_goods(owner_a, returned, "2", reason="Averiados")
    assert note.status_code == 201, note.json()
    refused = owner_a.post(f"{URL}{returned['id']}/void", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "bill_has_debit_notes"
    with tenant_context(buy_a.company):
        assert set(Bill.objects.values_list("status", flat=True)) == {"open"}

    # Paid in full: told to void the payment, not that a paid bill is not open.
    full = receive(owner_a, buy_a, number="F-F")
    assert pay(owner_a, buy_a, full, full["total"]).status_code == 201
    refused = owner_a.post(f"{URL}{full['id']}/void", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "bill_has_payments"
    assert owner_a.get(f"{URL}{full['id']}/").json()["status"] == "paid"


def test_a_debit_note_returns_goods_at_their_purchase_cost(owner_a, buy_a):
    bill = receive(owner_a, buy_a)  # 10 at 600 + 20 at 810 -> 30 at 740
    note = return_goods(owner_a, bill, "10", reason="Averiados")
    assert note.status_code == 201, note.json()
    # (30 x 740 - 10 x 810) / 20 = 705
    assert (buy_a.stock().quantity, buy_a.stock().average_cost) == (20, Decimal("705"))


def test_the_flat_list_answers_what_the_list_serializer_renders(owner_a, buy_a, company_a):
    """Bills are listed from rows (RowRenderer): the same answer as BillListSerializer."""
    import json

    from rest_framework.renderers import JSONRenderer

    from bills.api import BillListSerializer

    assert owner_a.post(URL, bill_payload(buy_a, number="D-1"), format="json").status_code == 201
    receive(owner_a, buy_a, number="F-1")
    voided = receive(owner_a, buy_a, number="F-2")
    assert owner_a.post(f"{URL}{voided['id']}/void", {"reason": "x"}).status_code == 200

    listed = owner_a.get(URL).json()["results"]
    with tenant_context(company_a):
        expected = BillListSerializer(Bill.objects.order_by("-created_at"), many=True).data
    assert {b["status"] for b in listed} == {"draft", "open", "void"}
    assert listed == json.loads(JSONRenderer().render(expected))


def test_open_bill_pages_neither_skip_nor_repeat_bills_due_the_same_day(owner_a, buy_a):
    today = timezone.localdate()
    with tenant_context(buy_a.company):
        Bill.objects.bulk_create(
            Bill(
                supplier=buy_a.supplier,
                pdv=buy_a.pdv,
                supplier_invoice_number=f"P-{i}",
                number=f"FC-{i:05}",
                issue_date=today,
                due_date=today - timedelta(days=5 if i % 3 else 40),  # two due dates for 600
                created_by=owner_a.user,
                status=Bill.Status.OPEN,
                total=Decimal(1000 + i),
                balance=Decimal(1000 + i),
            )
            for i in range(1, 601)
        )
    seen = []
    for offset in range(0, 600, 25):
        page = owner_a.get("/api/v1/payables/bills", {"limit": 25, "offset": offset})
        seen += [row["id"] for row in page.json()["results"]]
    assert len(seen) == len(set(seen)) == 600


def test_a_bill_line_beyond_what_a_document_can_hold_is_a_400(owner_a, buy_a):
    lines = [
        {"variant": str(buy_a.variant.id), "quantity": "999999999999999", "unit_cost": "999999"}
    ]
    refused = owner_a.post(URL, bill_payload(buy_a, lines=lines), format="json")
    assert refused.status_code == 400 and error_code(refused) == "amount_too_large"
    with tenant_context(buy_a.company):
        assert not Bill.objects.exists()


def test_a_payment_voided_after_a_return_leaves_what_is_really_owed(owner_a, buy_a):
    """Paid 1,000, returned 300 (the supplier owes 300 back), then the payment bounced: we owe
    700 and the supplier owes nothing back."""
    bill = receive(
        owner_a,
        buy_a,
        lines=[
            {"variant": str(buy_a.variant.id), "quantity": "10", "unit_cost": "100", "taxes": []}
        ],
    )
    payment = owner_a.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy_a.supplier.id),
            "method": "transfer",
            "allocations": [{"bill": bill["id"], "amount": "1000"}],
        },
        format="json",
    ).json()
    note = owner_a.post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "Averiado",
            "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "3"}],
        },
        format="json",
    ).json()
    assert note["refund_amount"] == "300.00"
    state = owner_a.get(f"{URL}{bill['id']}/").json()
    assert (state["balance"], state["status"]) == ("0.00", "paid")
    voided = owner_a.post(
        f"/api/v1/supplier-payments/{payment['id']}/void", {"reason": "Rebotó"}, format="json"
    )
    assert voided.status_code == 200
    state = owner_a.get(f"{URL}{bill['id']}/").json()
    assert (state["balance"], state["status"]) == ("700.00", "open")
    assert owner_a.get(f"/api/v1/debit-notes/{note['id']}/").json()["refund_amount"] == "0.00"
    payables = owner_a.get("/api/v1/payables/").json()
    assert payables["totals"]["balance"] == "700.00"


def test_goods_received_free_keep_an_average_of_zero_through_transfers_and_counts(
    owner_a, company_a, make_product
):
    """An average cost of 0 is a cost, not "unknown": moving free goods creates no value, and a
    surplus counted at cost 0 lowers the average."""
    buy = Purchases(company_a, make_product, name="Z")
    drained = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(buy.pdv.id),
            "reason": "count",
            "lines": [{"variant": str(buy.variant.id), "counted_quantity": "0"}],
        },
        format="json",
    )
    assert drained.status_code == 201
    free = [{"variant": str(buy.variant.id), "quantity": "10", "unit_cost": "0", "taxes": []}]
    receive(owner_a, buy, number="FREE", lines=free)
    assert buy.stock().average_cost == 0
    norte = owner_a.post("/api/v1/pdvs/", {"name": "Norte", "code": "NORTE"}, format="json").json()
    moved = owner_a.post(
        "/api/v1/transfers/",
        {
            "origin": str(buy.pdv.id),
            "destination": norte["id"],
            "lines": [{"variant": str(buy.variant.id), "quantity": "4"}],
        },
        format="json",
    )
    assert moved.status_code == 201 and Decimal(moved.json()["lines"][0]["unit_cost"]) == 0
    with tenant_context(company_a):
        assert Stock.objects.get(variant=buy.variant, pdv_id=norte["id"]).average_cost == 0
    receive(
        owner_a,
        buy,
        number="PAID",
        lines=[{"variant": str(buy.variant.id), "quantity": "6", "unit_cost": "200", "taxes": []}],
    )
    assert buy.stock().average_cost == Decimal("100")  # (6 x 0 + 6 x 200) / 12
    surplus = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(buy.pdv.id),
            "reason": "count",
            "lines": [{"variant": str(buy.variant.id), "delta": "12", "unit_cost": "0"}],
        },
        format="json",
    )
    assert surplus.status_code == 201
    assert buy.stock().average_cost == Decimal("50")  # (12 x 100 + 12 x 0) / 24


def test_a_product_counted_in_whole_units_takes_no_fractions_anywhere(owner_a, buy_a):
    """Purchases, transfers, adjustments and initial stock refuse half a unit, as sales do."""
    norte = owner_a.post("/api/v1/pdvs/", {"name": "Norte", "code": "NORTE"}, format="json").json()
    variant = str(buy_a.variant.id)
    before = buy_a.stock().quantity
    attempts = [
        (
            URL,
            bill_payload(buy_a, lines=[{"variant": variant, "quantity": "2.5", "unit_cost": "9"}]),
        ),
        (
            "/api/v1/transfers/",
            {
                "origin": str(buy_a.pdv.id),
                "destination": norte["id"],
                "lines": [{"variant": variant, "quantity": "0.5"}],
            },
        ),
        (
            "/api/v1/adjustments/",
            {
                "pdv": str(buy_a.pdv.id),
                "reason": "count",
                "lines": [{"variant": variant, "delta": "-0.25"}],
            },
        ),
        (
            "/api/v1/adjustments/",
            {
                "pdv": str(buy_a.pdv.id),
                "reason": "count",
                "lines": [{"variant": variant, "counted_quantity": "3.5"}],
            },
        ),
    ]
    for url, body in attempts:
        refused = owner_a.post(url, body, format="json")
        assert refused.status_code == 400 and error_code(refused) == "whole_units", (url, refused)
    assert buy_a.stock().quantity == before
    with tenant_context(buy_a.company):
        assert not Bill.objects.exists()


def test_returning_a_bill_line_unit_by_unit_debits_exactly_the_line(owner_a, buy_a):
    bill = receive(
        owner_a,
        buy_a,
        lines=[{"variant": str(buy_a.variant.id), "quantity": "3", "unit_cost": "100.50"}],
    )
    line = bill["lines"][0]
    assert line["total"] == "358.79"  # IVA 19 %: 57.285 on the line, 19.095 a unit
    debited = Decimal(0)
    for _unit in range(3):
        note = owner_a.post(
            "/api/v1/debit-notes/",
            {
                "bill": bill["id"],
                "reason": "Averiado",
                "lines": [{"bill_line": line["id"], "quantity": "1"}],
            },
            format="json",
        )
        assert note.status_code == 201, note.json()
        debited += Decimal(note.json()["total"])
    assert debited == Decimal("358.79")
    state = owner_a.get(f"{URL}{bill['id']}/").json()
    assert (state["debited_total"], state["balance"]) == ("358.79", "0.00")


def test_a_return_beyond_the_balance_owes_back_the_money_paid_not_what_we_withheld(owner_a, buy_a):
    """Paid 1,000,000 as 975,000 to the supplier and 25,000 of retefuente to the DIAN, then
    everything returned: the supplier owes back 975,000; the 25,000 is a withholding to reverse."""
    bill = receive(
        owner_a,
        buy_a,
        lines=[
            {"variant": str(buy_a.variant.id), "quantity": "10", "unit_cost": "100000", "taxes": []}
        ],
    )
    retefuente = buy_a.concept("Compras generales (declarantes)")
    paid = pay(owner_a, buy_a, bill, "1000000", (retefuente, "1000000", "25000"))
    assert paid.status_code == 201, paid.json()
    note = return_goods(owner_a, bill, "10", reason="Devolución total")
    assert note.status_code == 201, note.json()
    assert (note.json()["refund_amount"], note.json()["withholding_reversed"]) == (
        "975000.00",
        "25000.00",
    )
    assert owner_a.get(f"{URL}{bill['id']}/").json()["balance"] == "0.00"


def test_bill_line_taxes_and_withholdings_stay_within_the_bill(owner_a, buy_a):
    """A line takes at most one IVA and one INC; ReteIVA is at most the bill's IVA and
    ReteFuente at most its base, counting earlier payments; INC paid is part of the cost."""
    variant = str(buy_a.variant.id)
    with tenant_context(buy_a.company):
        iva5 = Tax.objects.get(name="IVA 5%")
        inc8 = Tax.objects.get(name="INC 8%")
    for taxes in ([buy_a.iva.id, buy_a.iva.id], [buy_a.iva.id, iva5.id]):
        line = {"variant": variant, "quantity": "10", "unit_cost": "1000", "taxes": taxes}
        refused = owner_a.post(URL, bill_payload(buy_a, lines=[line]), format="json")
        assert refused.status_code == 400, taxes
    bill = receive(
        owner_a,
        buy_a,
        lines=[{"variant": variant, "quantity": "10", "unit_cost": "1000", "taxes": [inc8.id]}],
    )
    # 10 at 600 already in stock, then 10 at 1,000 + 80 of INC each: (6,000 + 10,800) / 20
    assert buy_a.stock().average_cost == Decimal("840")
    reteiva = buy_a.concept("ReteIVA")
    fuente = buy_a.concept("Compras generales (declarantes)")
    # No IVA, base 10,000: ReteIVA of anything, a ReteFuente above the base or declared on a
    # larger base (the yearly certificate reports the base), or above its own base.
    for concept, base, amount in (
        (reteiva, "1", "1"),
        (fuente, "10001", "10001"),
        (fuente, "10001", "25"),
        (fuente, "100", "101"),
    ):
        refused = pay(owner_a, buy_a, bill, "10800", (concept, base, amount))
        assert refused.status_code == 400 and error_code(refused) == "withholding_above_base"
    with tenant_context(buy_a.company):
        assert not SupplierPayment.objects.exists() and not Withholding.objects.exists()
    fits = pay(owner_a, buy_a, bill, "100", (fuente, "10000", "25"))
    assert fits.status_code == 201, fits.json()
    # Earlier payments count: the whole base was withheld on already, so no more ReteFuente.
    beyond = pay(owner_a, buy_a, bill, "10000", (fuente, "1", "1"))
    assert beyond.status_code == 400 and error_code(beyond) == "withholding_above_base"


def test_a_void_or_a_return_takes_out_only_what_the_bill_put_in(owner_a, buy_a):
    """Goods received while the product was not tracked entered no stock: tracked since, the
    bill's return and void take nothing out."""
    product = owner_a.post(
        "/api/v1/products/",
        {"name": "Bolsas", "sku": "BOL-1", "price": "100", "track_inventory": False},
        format="json",
    ).json()
    line = {"variant": product["variants"][0]["id"], "quantity": "10", "unit_cost": "50"}
    returned = receive(owner_a, buy_a, number="R-1", lines=[line])
    voided = receive(owner_a, buy_a, number="R-2", lines=[line])
    tracked = owner_a.patch(
        f"/api/v1/products/{product['id']}/", {"track_inventory": True}, format="json"
    )
    assert tracked.status_code == 200
    assert return_goods(owner_a, returned, "4").status_code == 201
    assert owner_a.post(f"{URL}{voided['id']}/void", {"reason": "x"}).status_code == 200
    with tenant_context(buy_a.company):
        assert not StockMovement.objects.filter(variant_id=line["variant"]).exists()


def test_voiding_a_bill_received_into_an_empty_stock_puts_the_average_back(owner_a, buy_a):
    """Counted down to 0, the stock keeps its average of 600; a bill of 20 at 810 voided takes
    the stock back to 0 and its average back to 600 (value over quantity cannot tell it)."""
    count = {"variant": str(buy_a.variant.id), "counted_quantity": "0"}
    drained = owner_a.post(
        "/api/v1/adjustments/",
        {"pdv": str(buy_a.pdv.id), "reason": "count", "lines": [count]},
        format="json",
    )
    assert drained.status_code == 201, drained.json()
    assert buy_a.stock().average_cost == Decimal("600")
    bill = receive(owner_a, buy_a)  # 20 at 810 net
    assert buy_a.stock().average_cost == Decimal("810")
    voided = owner_a.post(f"{URL}{bill['id']}/void", {"reason": "Error"}, format="json")
    assert voided.status_code == 200
    stock = buy_a.stock()
    assert (stock.quantity, stock.average_cost) == (0, Decimal("600"))
    with tenant_context(buy_a.company):
        last = StockMovement.objects.filter(reference_type="bill_void").get()
    assert last.average_cost_after == Decimal("600")


def test_a_bill_of_goods_received_free_can_be_voided(owner_a, buy_a):
    line = {"variant": str(buy_a.variant.id), "quantity": "5", "unit_cost": "0"}
    free = receive(owner_a, buy_a, lines=[line])
    assert (free["status"], free["total"]) == ("paid", "0.00")
    stock = buy_a.stock().quantity
    voided = owner_a.post(f"{URL}{free['id']}/void", {"reason": "Mal digitada"}, format="json")
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    assert buy_a.stock().quantity == stock - 5


def test_supplier_withholdings_count_against_what_is_still_billed_after_returns(owner_a, buy_a):
    bill = receive(
        owner_a,
        buy_a,
        lines=[{"variant": str(buy_a.variant.id), "quantity": "10", "unit_cost": "1000"}],
    )  # base 10,000, IVA 1,900
    returned = return_goods(owner_a, bill, "9", reason="Devolución")
    assert returned.status_code == 201  # IVA 190 left
    refused = pay(owner_a, buy_a, bill, "1190", (buy_a.concept("ReteIVA"), "190", "191"))
    assert refused.status_code == 400 and error_code(refused) == "withholding_above_base"


def test_after_a_return_a_withholding_of_another_kind_is_not_refused_for_an_earlier_one(
    owner_a, buy_a
):
    """The first payment withheld ReteFuente on the whole base (10,000); a return leaves 7,000.
    A later ReteIVA is within the IVA left: only the kinds a payment withholds are checked."""
    line = {"variant": str(buy_a.variant.id), "quantity": "10", "unit_cost": "1000"}
    bill = receive(owner_a, buy_a, lines=[line])
    fuente = buy_a.concept("Compras generales (declarantes)")
    assert pay(owner_a, buy_a, bill, "5000", (fuente, "10000", "250")).status_code == 201
    assert return_goods(owner_a, bill, "3").status_code == 201
    assert owner_a.get(f"{URL}{bill['id']}/").json()["balance"] == "3330.00"
    second = pay(owner_a, buy_a, bill, "3330", (buy_a.concept("ReteIVA"), "1330", "199.50"))
    assert second.status_code == 201, second.json()
    assert owner_a.get(f"{URL}{bill['id']}/").json()["status"] == "paid"
    # A further ReteFuente is still measured against the 7,000 left.
    more = receive(owner_a, buy_a, number="F-2", lines=[line])
    assert pay(owner_a, buy_a, more, "5000", (fuente, "10000", "250")).status_code == 201
    assert return_goods(owner_a, more, "3").status_code == 201
    refused = pay(owner_a, buy_a, more, "100", (fuente, "1", "1"))
    assert refused.status_code == 400 and error_code(refused) == "withholding_above_base"


@pytest.mark.parametrize("document", ["bills", "invoices"])
def test_a_draft_edit_whose_line_lacks_a_field_is_a_400(document, owner_a, company_a, make_shop):
    """Lines replace the draft's lines, so each comes whole, in a PATCH too (DRF skips missing
    fields throughout a partial update: a line without its cost was an error page)."""
    from contacts.models import Contact

    shop = make_shop(company_a)
    if document == "bills":
        with tenant_context(company_a):
            supplier = Contact.objects.create(
                id_type="31", id_number="900555111", name="Prov", is_supplier=True
            )
        body = {
            "supplier": str(supplier.id),
            "pdv": str(shop.pdv.id),
            "supplier_invoice_number": "A-1",
            "lines": [{"variant": shop.v("iva19"), "quantity": "1", "unit_cost": "5000"}],
        }
        missing = "unit_cost"
    else:
        body = {
            "pdv": str(shop.pdv.id),
            "customer": str(shop.customer.id),
            "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
        }
        missing = "quantity"
    created = owner_a.post(f"/api/v1/{document}/", body, format="json")
    assert created.status_code == 201, created.json()
    line = {k: v for k, v in body["lines"][0].items() if k != missing}
    edited = owner_a.patch(
        f"/api/v1/{document}/{created.json()['id']}/", {"lines": [line]}, format="json"
    )
    assert edited.status_code == 400, edited.status_code
    assert list(edited.json()["error"]["fields"]["lines"]["0"]) == [missing], edited.json()
    renamed = owner_a.patch(
        f"/api/v1/{document}/{created.json()['id']}/", {"notes": "ok"}, format="json"
    )
    assert renamed.status_code == 200, renamed.json()  # other fields stay optional in a PATCH


def test_a_supplier_deactivated_since_is_still_paid_and_its_draft_is_not_received(owner_a, buy_a):
    """What the company owes a supplier it stopped buying from is still paid; a draft of that
    supplier is not received (409 `supplier_inactive`), as an invoice's customer is not."""
    owed = receive(owner_a, buy_a)
    draft = owner_a.post(URL, bill_payload(buy_a, "B-2"), format="json")
    assert draft.status_code == 201, draft.json()
    assert (
        owner_a.patch(
            f"/api/v1/contacts/{buy_a.supplier.id}/", {"is_active": False}, format="json"
        ).status_code
        == 200
    )
    paid = pay(owner_a, buy_a, owed, owed["total"])
    assert paid.status_code == 201, paid.json()
    assert owner_a.get(f"{URL}{owed['id']}/").json()["status"] == "paid"
    refused = owner_a.post(f"{URL}{draft.json()['id']}/issue", format="json")
    assert refused.status_code == 409 and error_code(refused) == "supplier_inactive"
    assert owner_a.get(f"{URL}{draft.json()['id']}/").json()["status"] == "draft"
    # Nor does a new bill take it.
    created = owner_a.post(URL, bill_payload(buy_a, "B-3"), format="json")
    assert created.status_code == 400


def test_withholdings_are_suggested_for_open_bills_only(owner_a, buy_a):
    draft = owner_a.post(URL, bill_payload(buy_a), format="json").json()
    suggested = owner_a.post(
        "/api/v1/supplier-payments/suggest",
        {"bills": [draft["id"]], "concepts": [str(buy_a.concept("ReteIVA").id)]},
        format="json",
    )
    assert suggested.status_code == 400 and error_code(suggested) == "bill_not_open"


def test_inactive_concepts_are_not_suggested_and_a_withholding_of_nothing_is_refused(
    owner_a, buy_a
):
    """What the payment would refuse is not proposed; a row of 0 would count the payment in
    the yearly certificate (the page asks for at least 0.01 too)."""
    bill = receive(owner_a, buy_a)
    reteiva = buy_a.concept("ReteIVA")
    off = owner_a.patch(
        f"/api/v1/withholding-concepts/{reteiva.id}/", {"is_active": False}, format="json"
    )
    assert off.status_code == 200, off.json()
    suggested = owner_a.post(
        "/api/v1/supplier-payments/suggest",
        {"bills": [bill["id"]], "concepts": [str(reteiva.id)]},
        format="json",
    )
    assert suggested.status_code == 400 and "concepts" in suggested.json()["error"]["fields"]
    fuente = buy_a.concept("Compras generales (declarantes)")
    nothing = pay(owner_a, buy_a, bill, "1000", (fuente, "1000", "0"))
    assert nothing.status_code == 400
    assert "withholdings.0.amount" in nothing.json()["error"]["fields"]
    with tenant_context(buy_a.company):
        assert not SupplierPayment.objects.exists()


def test_a_return_reverses_withholdings_in_its_own_years_certificate(owner_a, buy_a):
    """Paid in December last year with ReteFuente; the goods came back this year. Last year's
    certificate (issued and declared) keeps what was withheld then; the reversal belongs to the
    year of the return (it rewrote last year's, and this year's showed nothing)."""
    today = timezone.localdate()
    last_year = today.year - 1
    bill_day = today.replace(year=last_year, month=12, day=1)
    pay_day = today.replace(year=last_year, month=12, day=15)
    bill = receive(
        owner_a,
        buy_a,
        issue_date=bill_day.isoformat(),
        lines=[
            {"variant": str(buy_a.variant.id), "quantity": "10", "unit_cost": "100000", "taxes": []}
        ],
    )
    fuente = buy_a.concept("Compras generales (declarantes)")
    paid = owner_a.post(
        "/api/v1/supplier-payments/",
        {
            "supplier": str(buy_a.supplier.id),
            "method": "transfer",
            "date": pay_day.isoformat(),
            "allocations": [{"bill": bill["id"], "amount": "1000000"}],
            "withholdings": [
                {
                    "bill": bill["id"],
                    "concept": str(fuente.id),
                    "base": "1000000",
                    "amount": "25000",
                }
            ],
        },
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    url = f"/api/v1/supplier-payments/certificate?supplier={buy_a.supplier.id}&year={last_year}"
    before = owner_a.get(url).json()["withholdings"]
    assert before[0]["amount"] == "25000.00"
    note = return_goods(owner_a, bill, "10")  # dated today, this year
    assert note.status_code == 201 and note.json()["withholding_reversed"] == "25000.00"
    after = owner_a.get(url).json()["withholdings"]
    assert after == before, after
    this_year = owner_a.get(
        f"/api/v1/supplier-payments/certificate?supplier={buy_a.supplier.id}&year={today.year}"
    ).json()["withholdings"]
    assert [(w["base"], w["amount"], w["reversed"], w["payments"]) for w in this_year] == [
        ("-1000000.00", "-25000.00", "25000.00", 0)
    ], this_year
