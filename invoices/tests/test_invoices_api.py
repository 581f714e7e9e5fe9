"""Invoices over HTTP: totals, drafts, issue, numbering, void, payments, credit notes,
receivables, idempotency, roles and isolation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, assert_idempotent, error_code
from contacts.models import Contact
from inventory.models import Stock, StockMovement
from invoices.models import CreditNote, Invoice, NumberingRange, Payment
from products.models import Product

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/"


def stock_of(shop, name):
    with tenant_context(shop.company):
        return Stock.objects.get(variant=shop.variants[name], pdv=shop.pdv).quantity


def draft(client, shop, lines=None, customer=None, **extra):
    lines = lines or [{"variant": shop.v("iva19"), "quantity": "2"}]
    response = client.post(
        URL,
        {
            "pdv": str(shop.pdv.id),
            "customer": str((customer or shop.customer).id),
            "lines": lines,
            **extra,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def issued(client, shop, **kwargs):
    invoice = draft(client, shop, issue=True, **kwargs)
    assert invoice["status"] == "open"
    return invoice


def credit_note(client, invoice, quantity=None, *, concept="1", line=0, unit_price=None, **extra):
    """POST credit-notes/ on `invoice`: `quantity` of its line `line` (at `unit_price` when
    given); no quantity sends no lines (an annulment credits what is left)."""
    body = {"invoice": invoice["id"], "concept": concept, "reason": "Devolución", **extra}
    if quantity is not None:
        credited = {"invoice_line": invoice["lines"][line]["id"], "quantity": quantity}
        if unit_price is not None:
            credited["unit_price"] = unit_price
        body["lines"] = [credited]
    return client.post("/api/v1/credit-notes/", body, format="json")


MIXED_LINES = [
    ("iva19", "2", "10"),
    ("iva5", "3", "0"),
    ("exento", "1.5", "0"),
    ("excluido", "1", "0"),
    ("inc8", "4", "5"),
    ("rounding", "3", "0"),
]


def test_totals_with_every_tax_treatment_equal_hand_computed_values(owner_a, shop_a):
    invoice = draft(
        owner_a,
        shop_a,
        lines=[
            {"variant": shop_a.v(name), "quantity": qty, "discount_pct": pct}
            for name, qty, pct in MIXED_LINES
        ],
    )
    lines = {line["description"]: line for line in invoice["lines"]}
    # name: (subtotal, discount, tax, total) computed by hand, rounded per line.
    assert {
        name: (
            lines[name]["subtotal"],
            lines[name]["discount"],
            lines[name]["tax_total"],
            lines[name]["total"],
        )
        for name in lines
    } == {
        "iva19": ("20000.00", "2000.00", "3420.00", "21420.00"),
        "iva5": ("10000.00", "0.00", "500.00", "10500.00"),
        "exento": ("7499.99", "0.00", "0.00", "7499.99"),
        "excluido": ("12345.67", "0.00", "0.00", "12345.67"),
        "inc8": ("34000.00", "1700.00", "2584.00", "34884.00"),
        "rounding": ("1000.01", "0.00", "190.00", "1190.01"),
    }
    assert (
        invoice["subtotal"],
        invoice["discount_total"],
        invoice["tax_total"],
        invoice["total"],
        invoice["balance"],
    ) == ("84845.67", "3700.00", "6694.00", "87839.67", "87839.67")
    breakdown = {(t["name"], t["base"], t["amount"]) for t in invoice["tax_breakdown"]}
    assert breakdown == {
        ("IVA 19%", "19000.01", "3610.00"),
        ("IVA 5%", "10000.00", "500.00"),
        ("IVA exento 0%", "7499.99", "0.00"),
        ("IVA excluido", "12345.67", "0.00"),
        ("INC 8%", "32300.00", "2584.00"),
    }
    assert invoice["status"] == "draft" and invoice["full_number"] == ""


def test_prices_default_from_the_price_list_and_can_be_given(owner_a, shop_a):
    vip = owner_a.post(
        "/api/v1/price-lists/", {"name": "VIP", "percentage": "10"}, format="json"
    ).json()
    invoice = draft(
        owner_a,
        shop_a,
        price_list=vip["id"],
        lines=[
            {"variant": shop_a.v("iva19"), "quantity": "1"},
            {"variant": shop_a.v("inc8"), "quantity": "1", "unit_price": "8000"},
        ],
    )
    prices = [line["unit_price"] for line in invoice["lines"]]
    assert prices == ["9000.000000", "8000.000000"]


def test_the_customers_price_list_and_seller_apply_when_none_is_given(owner_a, shop_a):
    vip = owner_a.post(
        "/api/v1/price-lists/", {"name": "VIP", "percentage": "10"}, format="json"
    ).json()
    seller = owner_a.post("/api/v1/sellers/", {"name": "Ana"}, format="json").json()
    updated = owner_a.patch(
        f"/api/v1/contacts/{shop_a.customer.id}/",
        {"default_price_list": vip["id"], "default_seller": seller["id"]},
        format="json",
    )
    assert updated.status_code == 200, updated.json()
    lines = [{"variant": shop_a.v("iva19"), "quantity": "1"}]
    invoice = draft(owner_a, shop_a, lines=lines)
    assert (invoice["price_list"], invoice["seller"]) == (vip["id"], seller["id"])
    assert invoice["lines"][0]["unit_price"] == "9000.000000"
    # A list given on the document wins over the customer's; the final consumer has none.
    base = owner_a.post("/api/v1/price-lists/", {"name": "Base", "percentage": "0"}, format="json")
    explicit = draft(owner_a, shop_a, lines=lines, price_list=base.json()["id"])
    assert explicit["lines"][0]["unit_price"] == "10000.000000"
    anonymous = draft(owner_a, shop_a, lines=lines, customer=shop_a.consumer)
    assert anonymous["lines"][0]["unit_price"] == "10000.000000" and anonymous["seller"] is None


def test_a_drafts_new_customer_brings_its_default_seller_unless_one_was_chosen(owner_a, shop_a):
    def seller(name):
        return owner_a.post("/api/v1/sellers/", {"name": name}, format="json").json()["id"]

    def customer(number, default_seller=None):
        body = {"id_type": "13", "id_number": number, "name": f"Cliente {number}"}
        made = owner_a.post(
            "/api/v1/contacts/",
            {**body, "is_customer": True, "default_seller": default_seller},
            format="json",
        )
        assert made.status_code == 201, made.json()
        return made.json()["id"]

    ana, beto, carla = seller("Ana"), seller("Beto"), seller("Carla")
    of_ana, of_beto, of_nobody = customer("1010", ana), customer("2020", beto), customer("3030")

    def moved(draft_id, to):
        response = owner_a.patch(f"{URL}{draft_id}/", {"customer": to}, format="json")
        assert response.status_code == 200, response.json()
        return response.json()["seller"]

    with tenant_context(shop_a.company):
        first = Contact.objects.get(pk=of_ana)
    defaulted = draft(owner_a, shop_a, customer=first)
    assert defaulted["seller"] == ana
    assert moved(defaulted["id"], of_beto) == beto
    assert moved(defaulted["id"], of_nobody) is None
    chosen = draft(owner_a, shop_a, customer=first, seller=carla)
    assert moved(chosen["id"], of_beto) == carla
    # A draft nobody gave a seller takes the new customer's default, whatever the path.
    with tenant_context(shop_a.company):
        nobody = Contact.objects.get(pk=of_nobody)
    unassigned = draft(owner_a, shop_a, customer=nobody)
    assert unassigned["seller"] is None
    assert moved(unassigned["id"], of_beto) == beto
    # A default removed on purpose stays removed.
    removed = draft(owner_a, shop_a, customer=first)
    cleared = owner_a.patch(f"{URL}{removed['id']}/", {"seller": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["seller"] is None
    assert moved(removed["id"], of_beto) is None
    # Changing the seller with the customer: the one given.
    both = owner_a.patch(
        f"{URL}{defaulted['id']}/", {"customer": of_ana, "seller": carla}, format="json"
    )
    assert both.json()["seller"] == carla


def test_documents_keep_the_tax_rate_they_were_made_with(owner_a, shop_a):
    """Changing a tax's rate changes new documents only: issued ones keep their snapshot."""
    before = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1"}])
    iva = next(t for t in owner_a.get("/api/v1/taxes/").json()["results"] if t["name"] == "IVA 19%")
    changed = owner_a.patch(f"/api/v1/taxes/{iva['id']}/", {"rate": "16"}, format="json")
    assert changed.status_code == 200, changed.json()
    kept = owner_a.get(f"{URL}{before['id']}/").json()
    assert (kept["tax_total"], kept["total"]) == ("1900.00", "11900.00")
    assert kept["lines"][0]["taxes"] == before["lines"][0]["taxes"]
    assert kept["tax_breakdown"] == before["tax_breakdown"]
    after = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1"}])
    assert (after["tax_total"], after["total"]) == ("1600.00", "11600.00")


def test_whole_units_and_inactive_items_are_refused(owner_a, shop_a, company_a):

    fraction = owner_a.post(
        URL,
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1.5"}],
        },
        format="json",
    )
    assert fraction.status_code == 400
    with tenant_context(company_a):
        shop_a.variants["iva5"].product.__class__.objects.filter(
            pk=shop_a.variants["iva5"].product_id
        ).update(is_active=False)
    inactive = owner_a.post(
        URL,
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva5"), "quantity": "1"}],
        },
        format="json",
    )
    assert inactive.status_code == 400
    with tenant_context(company_a):
        assert not Invoice.objects.exists()


def test_draft_edit_and_delete_then_issue_moves_stock_and_takes_the_number(owner_a, shop_a):
    invoice = draft(owner_a, shop_a)
    edited = owner_a.patch(
        f"{URL}{invoice['id']}/",
        {"lines": [{"variant": shop_a.v("iva19"), "quantity": "3"}], "notes": "Entrega martes"},
        format="json",
    )
    assert edited.status_code == 200 and edited.json()["total"] == "35700.00"
    assert stock_of(shop_a, "iva19") == 100
    response = owner_a.post(f"{URL}{invoice['id']}/issue")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["full_number"], body["number"]) == ("open", "FV1", 1)
    assert body["due_date"] == str(timezone.localdate() + timedelta(days=30))
    assert body["lines"][0]["unit_cost"] == "6000.000000"
    assert body["warnings"] == []
    assert stock_of(shop_a, "iva19") == 97
    again = owner_a.post(f"{URL}{invoice['id']}/issue")
    assert again.status_code == 409 and error_code(again) == "invoice_issued"
    assert owner_a.patch(f"{URL}{invoice['id']}/", {"notes": "x"}, format="json").status_code == 409
    assert owner_a.delete(f"{URL}{invoice['id']}/").status_code == 409
    other = draft(owner_a, shop_a)
    assert owner_a.delete(f"{URL}{other['id']}/").status_code == 204
    third = issued(owner_a, shop_a)
    assert third["full_number"] == "FV2"  # drafts never consume numbers


def test_issue_refuses_a_shortage_and_changes_nothing(owner_a, shop_a, company_a):
    invoice = draft(
        owner_a,
        shop_a,
        lines=[
            {"variant": shop_a.v("iva19"), "quantity": "101"},
            {"variant": shop_a.v("iva5"), "quantity": "1"},
        ],
    )
    response = owner_a.post(f"{URL}{invoice['id']}/issue")
    assert response.status_code == 409 and error_code(response) == "insufficient_stock"
    assert [i["sku"] for i in response.json()["error"]["items"]] == ["FV-iva19"]
    with tenant_context(company_a):
        assert Invoice.objects.get(pk=invoice["id"]).status == "draft"
        assert NumberingRange.objects.get(document_type="invoice").next_number == 1
        assert not StockMovement.objects.filter(kind="sale").exists()
    assert stock_of(shop_a, "iva5") == 100


def test_numbering_outside_dates_or_range_is_a_clear_409_and_warns_near_the_end(
    owner_a, shop_a, company_a
):
    with tenant_context(company_a):
        numbering = NumberingRange.objects.get(document_type="invoice")
        NumberingRange.objects.filter(pk=numbering.pk).update(
            valid_to=timezone.localdate() - timedelta(days=1)
        )
    expired = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue")
    assert expired.status_code == 409 and error_code(expired) == "numbering_range_expired"
    with tenant_context(company_a):
        NumberingRange.objects.filter(pk=numbering.pk).update(
            valid_to=timezone.localdate() + timedelta(days=5), range_to=3, next_number=3
        )
    near = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue")
    assert near.status_code == 200
    assert near.json()["full_number"] == "FV3"
    assert len(near.json()["warnings"]) == 2  # < 10 % left and < 10 days left
    ranges = owner_a.get("/api/v1/numbering-ranges/", {"document_type": "invoice"}).json()
    assert ranges["results"][0]["remaining"] == 0 and ranges["results"][0]["warnings"]
    exhausted = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue")
    assert exhausted.status_code == 409 and error_code(exhausted) == "numbering_range_exhausted"


def test_a_range_not_yet_valid_refuses_and_each_warning_comes_alone(owner_a, shop_a, company_a):
    today = timezone.localdate()
    with tenant_context(company_a):
        numbering = NumberingRange.objects.get(document_type="invoice")
        NumberingRange.objects.filter(pk=numbering.pk).update(
            valid_from=today + timedelta(days=1), valid_to=today + timedelta(days=365)
        )
    early = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue")
    assert early.status_code == 409 and error_code(early) == "numbering_range_expired"
    with tenant_context(company_a):
        assert not Invoice.objects.exclude(status="draft").exists()
        # Plenty of numbers, 5 days left: only the date warning.
        NumberingRange.objects.filter(pk=numbering.pk).update(
            valid_from=today, valid_to=today + timedelta(days=5), range_to=1000, next_number=1
        )
    (dated,) = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue").json()["warnings"]
    assert f"{today + timedelta(days=5):%d/%m/%Y}" in dated  # as the pages show a date

    with tenant_context(company_a):
        # A year left, 5 of 1,000 numbers left: only the numbers warning.
        NumberingRange.objects.filter(pk=numbering.pk).update(
            valid_to=today + timedelta(days=365), next_number=996
        )
    (numbers,) = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue").json()["warnings"]
    assert " 4 " in numbers and str(today + timedelta(days=365)) not in numbers

    with tenant_context(company_a):
        NumberingRange.objects.filter(pk=numbering.pk).update(next_number=10)
    quiet = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue").json()
    assert quiet["full_number"] == "FV10" and quiet["warnings"] == []


def test_numbering_range_rules(owner_a, shop_a):

    today = timezone.localdate()
    base = {
        "pdv": str(shop_a.pdv.id),
        "document_type": "invoice",
        "resolution_number": "1876",
        "prefix": "fe",
        "range_from": 5000,
        "range_to": 6000,
        "valid_from": str(today),
        "valid_to": str(today + timedelta(days=365)),
    }
    overlap = owner_a.post(
        "/api/v1/numbering-ranges/",
        {**base, "prefix": "FV", "range_from": 900, "range_to": 2000},
        format="json",
    )
    assert overlap.status_code == 400
    too_long = owner_a.post("/api/v1/numbering-ranges/", {**base, "prefix": "ABCDE"}, format="json")
    assert too_long.status_code == 400
    backwards = owner_a.post("/api/v1/numbering-ranges/", {**base, "range_to": 10}, format="json")
    assert backwards.status_code == 400
    created = owner_a.post("/api/v1/numbering-ranges/", base, format="json")
    assert created.status_code == 201 and created.json()["prefix"] == "FE"
    active = owner_a.get(
        "/api/v1/numbering-ranges/", {"document_type": "invoice", "is_active": "true"}
    ).json()["results"]
    assert [r["prefix"] for r in active] == ["FE"]  # the new resolution replaced the old one
    invoice = issued(owner_a, shop_a)
    assert invoice["full_number"] == "FE5000"
    locked = owner_a.patch(
        f"/api/v1/numbering-ranges/{created.json()['id']}/", {"prefix": "FX"}, format="json"
    )
    assert locked.status_code == 409
    extended = owner_a.patch(
        f"/api/v1/numbering-ranges/{created.json()['id']}/", {"range_to": 9000}, format="json"
    )
    assert extended.status_code == 200 and extended.json()["range_to"] == 9000
    assert owner_a.delete(f"/api/v1/numbering-ranges/{created.json()['id']}/").status_code == 409


def test_a_past_or_spent_resolution_is_loaded_inactive_and_issuing_goes_on(owner_a, shop_a):
    """A resolution loaded for the record (expired, or its numbers used up) cannot replace the
    range in use: active it is a 409 that changes nothing, inactive it is kept; an update that
    leaves `is_active` out keeps it inactive; numbers beyond a bigint are a 400."""
    today = timezone.localdate()
    past = {
        "pdv": str(shop_a.pdv.id),
        "document_type": "invoice",
        "resolution_number": "18760000OLD",
        "prefix": "OLD",
        "range_from": 1,
        "range_to": 100,
        "valid_from": str(today - timedelta(days=400)),
        "valid_to": str(today - timedelta(days=35)),
    }
    ranges = "/api/v1/numbering-ranges/"
    for body in (past, {**past, "valid_to": str(today), "next_number": 101}):
        refused = owner_a.post(ranges, body, format="json")
        assert refused.status_code == 409 and error_code(refused) == "range_not_usable", body
    kept = owner_a.post(ranges, {**past, "is_active": False}, format="json")
    assert kept.status_code == 201, kept.json()
    put = {k: v for k, v in past.items() if k not in ("pdv", "document_type")}
    corrected = owner_a.put(
        f"{ranges}{kept.json()['id']}/", {**put, "technical_key": "abc"}, format="json"
    )
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["is_active"] is False and corrected.json()["technical_key"] == "abc"
    reactivated = owner_a.patch(f"{ranges}{kept.json()['id']}/", {"is_active": True}, format="json")
    assert reactivated.status_code == 409 and error_code(reactivated) == "range_not_usable"
    assert issued(owner_a, shop_a)["full_number"] == "FV1"  # the range in use goes on

    for field in ("range_to", "next_number"):
        huge = owner_a.post(
            ranges, {**past, "is_active": False, "prefix": "ZZ", field: 10**19}, format="json"
        )
        assert huge.status_code == 400 and field in huge.json()["error"]["fields"], field


def test_an_unused_range_moves_its_start_and_an_old_range_comes_back(owner_a, shop_a, company_a):
    today = timezone.localdate()
    with tenant_context(company_a):
        old = NumberingRange.objects.get(pdv=shop_a.pdv, document_type="invoice", is_active=True)
    new = owner_a.post(
        "/api/v1/numbering-ranges/",
        {
            "pdv": str(shop_a.pdv.id),
            "document_type": "invoice",
            "resolution_number": "2",
            "prefix": "FX",
            "range_from": 10,
            "range_to": 100,
            "valid_from": str(today),
            "valid_to": str(today + timedelta(days=365)),
        },
        format="json",
    ).json()
    url = f"/api/v1/numbering-ranges/{new['id']}/"
    raised = owner_a.patch(url, {"range_from": 50}, format="json")
    assert raised.status_code == 200 and raised.json()["next_number"] == 50
    lowered = owner_a.patch(url, {"range_from": 1}, format="json")
    assert lowered.status_code == 200 and lowered.json()["next_number"] == 1
    assert issued(owner_a, shop_a)["full_number"] == "FX1"  # no number skipped
    # The old resolution back: it replaces the active one, as a new range does.
    back = owner_a.patch(f"/api/v1/numbering-ranges/{old.id}/", {"is_active": True}, format="json")
    assert back.status_code == 200 and back.json()["is_active"] is True
    assert owner_a.get(url).json()["is_active"] is False
    assert issued(owner_a, shop_a)["full_number"].startswith(old.prefix)


def test_technical_key_is_shown_to_managers_only(shop_a, company_a, client_as):
    for role, shown in (
        (Role.OWNER, True),
        (Role.ADMIN, True),
        (Role.ACCOUNTANT, False),
        (Role.SELLER, False),
    ):
        row = client_as(company_a, role).get("/api/v1/numbering-ranges/").json()["results"][0]
        assert ("technical_key" in row) is shown
    assert client_as(company_a, Role.VIEWER).get("/api/v1/numbering-ranges/").status_code == 403


def test_void_restores_stock_keeps_the_number_and_needs_a_reason(owner_a, shop_a, company_a):
    invoice = issued(owner_a, shop_a)
    assert stock_of(shop_a, "iva19") == 98
    no_reason = owner_a.post(f"{URL}{invoice['id']}/void", {"reason": ""}, format="json")
    assert no_reason.status_code == 400
    voided = owner_a.post(
        f"{URL}{invoice['id']}/void", {"reason": "Cliente desistió"}, format="json"
    )
    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["full_number"]) == ("void", "FV1")
    assert stock_of(shop_a, "iva19") == 100
    assert (
        owner_a.post(f"{URL}{invoice['id']}/void", {"reason": "x"}, format="json").status_code
        == 409
    )
    assert issued(owner_a, shop_a)["full_number"] == "FV2"
    assert (
        owner_a.post(
            f"{URL}{draft(owner_a, shop_a)['id']}/void", {"reason": "x"}, format="json"
        ).status_code
        == 409
    )


def test_payments_with_withholdings_until_paid_and_void(owner_a, shop_a, company_a):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "10"}])
    assert invoice["total"] == "119000.00"
    pay = lambda **data: owner_a.post(
        f"{URL}{invoice['id']}/payments",
        {"method": "transfer", **data},
        format="json",
    )
    above = pay(amount="119000.01")
    assert above.status_code == 400 and error_code(above) == "payment_above_balance"
    # The customer withholds ReteFuente 2.5 % of the base and ReteIVA 15 % of the IVA.
    first = pay(amount="50000", retefuente="2500", reteiva="2850", reference="TRX-1")
    assert first.status_code == 201, first.json()
    assert first.json()["applied"] == "55350.00"
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["status"], state["amount_paid"], state["balance"]) == (
        "open",
        "55350.00",
        "63650.00",
    )
    last = pay(amount="63650")
    assert last.status_code == 201
    assert owner_a.get(f"{URL}{invoice['id']}/").json()["status"] == "paid"
    assert pay(amount="1").status_code == 400
    listed = owner_a.get(f"{URL}{invoice['id']}/payments").json()
    assert len(listed) == 2
    voided = owner_a.post(
        f"/api/v1/payments/{last.json()['id']}/void", {"reason": "Rebotó"}, format="json"
    )
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["status"], state["balance"]) == ("open", "63650.00")
    voiding_invoice = owner_a.post(f"{URL}{invoice['id']}/void", {"reason": "x"}, format="json")
    assert (
        voiding_invoice.status_code == 409 and error_code(voiding_invoice) == "invoice_has_payments"
    )
    via_collection = owner_a.post(
        "/api/v1/payments/",
        {"invoice": invoice["id"], "method": "cash", "amount": "63650"},
        format="json",
    )
    assert via_collection.status_code == 201
    assert owner_a.get(f"{URL}{invoice['id']}/").json()["status"] == "paid"
    draft_invoice = draft(owner_a, shop_a)
    assert (
        owner_a.post(
            f"{URL}{draft_invoice['id']}/payments", {"method": "cash", "amount": "1"}, format="json"
        ).status_code
        == 409
    )


def test_credit_notes_return_stock_reduce_the_balance_and_refund_when_paid(
    owner_a, shop_a, company_a
):
    invoice = issued(
        owner_a,
        shop_a,
        lines=[
            {"variant": shop_a.v("iva19"), "quantity": "5"},
            {"variant": shop_a.v("inc8"), "quantity": "2"},
        ],
    )
    line19, line_inc = invoice["lines"]
    post = lambda **data: owner_a.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice["id"], "reason": "Devolución", **data},
        format="json",
    )
    partial = post(
        concept="1", return_stock=True, lines=[{"invoice_line": line19["id"], "quantity": "2"}]
    )
    assert partial.status_code == 201, partial.json()
    assert (partial.json()["full_number"], partial.json()["total"]) == ("NFV1", "23800.00")
    assert stock_of(shop_a, "iva19") == 97
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["credited_total"], state["balance"]) == (
        "23800.00",
        str(Decimal(invoice["total"]) - Decimal("23800.00")),
    )
    too_many = post(concept="1", lines=[{"invoice_line": line19["id"], "quantity": "4"}])
    assert too_many.status_code == 400 and error_code(too_many) == "above_invoiced"
    discount = post(
        concept="3", lines=[{"invoice_line": line_inc["id"], "quantity": "2", "unit_price": "1000"}]
    )
    assert discount.status_code == 201 and discount.json()["total"] == "2160.00"
    no_stock_for_discount = post(
        concept="3", return_stock=True, lines=[{"invoice_line": line_inc["id"], "quantity": "1"}]
    )
    assert no_stock_for_discount.status_code == 400
    # Pay the rest, then a return refunds the customer.
    balance = owner_a.get(f"{URL}{invoice['id']}/").json()["balance"]
    owner_a.post(
        f"{URL}{invoice['id']}/payments", {"method": "cash", "amount": balance}, format="json"
    )
    refund = post(
        concept="1",
        return_stock=True,
        refund_method="transfer",
        lines=[{"invoice_line": line19["id"], "quantity": "1"}],
    )
    assert refund.status_code == 201
    assert (refund.json()["refund_amount"], refund.json()["refund_method"]) == (
        "11900.00",
        "transfer",
    )
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["status"], state["balance"]) == ("paid", "0.00")
    assert stock_of(shop_a, "iva19") == 98
    assert (
        owner_a.post(f"{URL}{invoice['id']}/void", {"reason": "x"}, format="json").status_code
        == 409
    )


def test_a_return_after_a_discount_gives_back_what_was_paid_and_notes_stay_within_the_line(
    owner_a, shop_a, company_a
):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "10"}])
    # 10 at 10,000 + IVA 19 %: 119,000.00

    def note(concept, quantity, **price):
        return credit_note(
            owner_a, invoice, quantity, concept=concept, refund_method="transfer", **price
        )

    with tenant_context(company_a):
        numbers_before = NumberingRange.objects.get(
            pdv=shop_a.pdv, document_type="credit_note"
        ).next_number
    above = note("4", "1", unit_price="10000.01")
    assert above.status_code == 400 and error_code(above) == "above_invoiced"
    assert "lines.0.unit_price" in above.json()["error"]["fields"]
    nothing = note("4", "1", unit_price="0")
    assert nothing.status_code == 400 and error_code(nothing) == "nothing_credited"
    with tenant_context(company_a):
        assert not CreditNote.objects.filter(invoice_id=invoice["id"]).exists()
        assert (
            NumberingRange.objects.get(pdv=shop_a.pdv, document_type="credit_note").next_number
            == numbers_before
        )
    # 1,000 off each unit, then the customer pays the 107,100 left and returns half of the units:
    # each comes back at the 10,710 it cost, not at 11,900.
    assert note("3", "10", unit_price="1000").json()["total"] == "11900.00"
    owner_a.post(
        f"{URL}{invoice['id']}/payments", {"method": "cash", "amount": "107100"}, format="json"
    )
    half = note("1", "5")
    assert half.status_code == 201, half.json()
    assert (half.json()["total"], half.json()["refund_amount"]) == ("53550.00", "53550.00")
    rest = note("1", "5")
    assert (rest.json()["total"], rest.json()["refund_amount"]) == ("53550.00", "53550.00")
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["credited_total"], state["balance"]) == ("119000.00", "0.00")


def test_after_a_discount_a_line_returned_unit_by_unit_credits_exactly_what_is_left(
    owner_a, shop_a
):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "3"}])
    discount = credit_note(owner_a, invoice, "3", concept="3", unit_price="333.33")
    assert discount.status_code == 201, discount.json()
    credited = [Decimal(discount.json()["total"])]
    for _unit in range(3):
        back = credit_note(owner_a, invoice, "1", refund_method="transfer")
        assert back.status_code == 201, back.json()
        credited.append(Decimal(back.json()["total"]))
    assert sum(credited) == Decimal(invoice["total"])  # to the cent, the last unit included
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["credited_total"], state["balance"]) == (invoice["total"], "0.00")


def test_a_void_or_a_return_gives_back_only_what_left_stock(owner_a, shop_a, company_a):
    """A product sold while it was not tracked took nothing out: tracked since, its void and its
    returns put nothing back."""
    product = owner_a.post(
        "/api/v1/products/",
        {"name": "Domicilio", "sku": "DOM-1", "price": "1000", "track_inventory": False},
        format="json",
    ).json()
    variant = product["variants"][0]["id"]
    sold = issued(owner_a, shop_a, lines=[{"variant": variant, "quantity": "5"}])
    returned = issued(owner_a, shop_a, lines=[{"variant": variant, "quantity": "5"}])
    tracked = owner_a.patch(
        f"/api/v1/products/{product['id']}/", {"track_inventory": True}, format="json"
    )
    assert tracked.status_code == 200
    assert owner_a.post(f"{URL}{sold['id']}/void", {"reason": "x"}).status_code == 200
    note = credit_note(owner_a, returned, "2", return_stock=True)
    assert note.status_code == 201, note.json()
    with tenant_context(company_a):
        assert not StockMovement.objects.filter(variant_id=variant).exists()
        assert not Stock.objects.filter(variant_id=variant, quantity__gt=0).exists()


def test_a_draft_of_an_item_deactivated_since_is_not_issued(owner_a, shop_a, company_a):
    waiting = draft(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "3"}])
    assert (
        owner_a.patch(
            f"/api/v1/variants/{shop_a.v('iva19')}/", {"is_active": False}, format="json"
        ).status_code
        == 200
    )
    refused = owner_a.post(f"{URL}{waiting['id']}/issue")
    assert refused.status_code == 409 and error_code(refused) == "variant_inactive"
    assert owner_a.get(f"{URL}{waiting['id']}/").json()["status"] == "draft"
    assert stock_of(shop_a, "iva19") == 100


def test_a_draft_whose_customer_or_seller_was_deactivated_since_is_not_issued(owner_a, shop_a):
    seller = owner_a.post("/api/v1/sellers/", {"name": "Vendedora"}, format="json").json()
    waiting = draft(owner_a, shop_a, seller=seller["id"])
    contact = f"/api/v1/contacts/{shop_a.customer.id}/"
    for change, code in (
        ({"is_active": False}, "customer_inactive"),
        ({"is_active": True, "is_customer": False, "is_supplier": True}, "customer_inactive"),
    ):
        assert owner_a.patch(contact, change, format="json").status_code == 200, change
        refused = owner_a.post(f"{URL}{waiting['id']}/issue")
        assert refused.status_code == 409 and error_code(refused) == code, change
    assert owner_a.patch(contact, {"is_customer": True}, format="json").status_code == 200
    off = owner_a.patch(f"/api/v1/sellers/{seller['id']}/", {"is_active": False}, format="json")
    assert off.status_code == 200
    refused = owner_a.post(f"{URL}{waiting['id']}/issue")
    assert refused.status_code == 409 and error_code(refused) == "seller_inactive"
    assert owner_a.get(f"{URL}{waiting['id']}/").json()["status"] == "draft"
    assert stock_of(shop_a, "iva19") == 100
    assert (
        owner_a.patch(
            f"/api/v1/sellers/{seller['id']}/", {"is_active": True}, format="json"
        ).status_code
        == 200
    )
    assert owner_a.post(f"{URL}{waiting['id']}/issue").json()["full_number"] == "FV1"


def test_an_annulment_after_a_return_at_a_lower_price_credits_all_that_is_left(owner_a, shop_a):
    """One unit came back at an agreed lower price; the annulment credits what is left of the
    line (17,850), not the last unit at its full price (11,900), and the invoice owes 0."""
    invoice = issued(owner_a, shop_a)  # 2 x 10,000 + IVA = 23,800
    assert credit_note(owner_a, invoice, "1", unit_price="5000").json()["total"] == "5950.00"
    annulled = credit_note(owner_a, invoice, concept="2")
    assert annulled.status_code == 201, annulled.json()
    (credit,) = annulled.json()["lines"]
    assert (annulled.json()["total"], credit["unit_price"], credit["subtotal"]) == (
        "17850.00",
        "15000.000000",
        "15000.00",
    )
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["credited_total"], state["balance"]) == ("23800.00", "0.00")


@pytest.mark.parametrize("earlier", ["3", "4"])
def test_an_annulment_after_a_discount_or_adjustment_note_credits_what_is_left(
    owner_a, shop_a, earlier
):
    """A 1,000 discount (or price adjustment) a unit, then the customer cancels: the annulment
    credits what is left of the line (18,000 + IVA) and takes the goods back (it answered 409
    and pointed to concept 5, which returns no stock)."""
    invoice = issued(owner_a, shop_a)  # 2 x 10,000 + IVA = 23,800
    lowered = credit_note(owner_a, invoice, "2", concept=earlier, unit_price="1000")
    assert lowered.status_code == 201 and lowered.json()["total"] == "2380.00"
    annulled = credit_note(owner_a, invoice, concept="2", return_stock=True)
    assert annulled.status_code == 201, annulled.json()
    (credit,) = annulled.json()["lines"]
    assert (annulled.json()["total"], credit["quantity"], credit["unit_price"]) == (
        "21420.00",
        "2.000",
        "9000.000000",
    )
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["credited_total"], state["balance"], state["status"]) == (
        "23800.00",
        "0.00",
        "paid",
    )
    assert stock_of(shop_a, "iva19") == 100


def test_a_credit_line_after_a_discount_note_reads_quantity_times_its_price(owner_a, shop_a):
    """After a 1,000 discount on one unit, returning both units credits 19,000 + IVA: the line
    states 9,500 a unit (2 x 10,000 with a subtotal of 19,000 read wrong on the PDF)."""
    invoice = issued(owner_a, shop_a)
    assert credit_note(owner_a, invoice, "1", concept="3", unit_price="1000").status_code == 201
    back = credit_note(owner_a, invoice, "2", return_stock=True)
    assert back.status_code == 201, back.json()
    (credit,) = back.json()["lines"]
    assert (credit["quantity"], credit["unit_price"], credit["subtotal"], credit["total"]) == (
        "2.000",
        "9500.000000",
        "19000.00",
        "22610.00",
    )


def test_annulment_credits_everything_left(owner_a, shop_a):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva5"), "quantity": "3"}])
    owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "1",
            "reason": "r",
            "return_stock": True,
            "lines": [{"invoice_line": invoice["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )
    annul = owner_a.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice["id"], "concept": "2", "reason": "Anulación", "return_stock": True},
        format="json",
    )
    assert annul.status_code == 201
    assert annul.json()["lines"][0]["quantity"] == "2.000"
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["balance"], state["credited_total"]) == ("0.00", state["total"])
    assert stock_of(shop_a, "iva5") == 100
    again = owner_a.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice["id"], "concept": "2", "reason": "x"},
        format="json",
    )
    assert again.status_code == 409


def test_receivables_aging_buckets(owner_a, shop_a, company_a):
    today = timezone.localdate()
    amounts = {}
    for days_overdue in (0, 10, 45, 75, 120):
        invoice = issued(owner_a, shop_a)
        with tenant_context(company_a):
            Invoice.objects.filter(pk=invoice["id"]).update(
                due_date=today - timedelta(days=days_overdue)
            )
        amounts[days_overdue] = invoice["total"]
    report = owner_a.get("/api/v1/receivables/").json()
    totals = report["totals"]
    assert (
        totals["current"],
        totals["days_1_30"],
        totals["days_31_60"],
        totals["days_61_90"],
        totals["over_90"],
    ) == (amounts[0], amounts[10], amounts[45], amounts[75], amounts[120])
    assert totals["invoices"] == 5
    (customer,) = report["results"]
    assert customer["customer__name"] == "Cliente SAS"
    assert customer["balance"] == str(Decimal(amounts[0]) * 5)
    overdue = owner_a.get("/api/v1/receivables/invoices", {"overdue": "true"}).json()["results"]
    assert sorted(row["days_overdue"] for row in overdue) == [10, 45, 75, 120]
    assert {row["bucket"] for row in overdue} == {
        "days_1_30",
        "days_31_60",
        "days_61_90",
        "over_90",
    }


def test_receivables_of_a_past_day_are_what_was_owed_that_day(owner_a, shop_a, company_a):
    """`?as_of=` a past day rebuilds that day's balances from the documents' dates: invoices
    issued later, payments dated later and notes issued later do not count yet; a voided
    invoice or payment counts on no day (a void corrects the books)."""
    today = timezone.localdate()
    day = today - timedelta(days=20)
    ten = [{"variant": shop_a.v("iva19"), "quantity": "10"}]  # 119,000.00
    one = [{"variant": shop_a.v("iva19"), "quantity": "1"}]  # 11,900.00

    def backdate(model, pk, **fields):
        with tenant_context(company_a):
            model.objects.filter(pk=pk).update(**fields)

    def invoice(lines, issued_days_ago, due_days_ago=None):
        document = issued(owner_a, shop_a, lines=lines)
        backdate(Invoice, document["id"], issue_date=today - timedelta(days=issued_days_ago))
        if due_days_ago is not None:
            backdate(Invoice, document["id"], due_date=today - timedelta(days=due_days_ago))
        return document

    def pay(document, amount, days_ago):
        payment = owner_a.post(
            f"{URL}{document['id']}/payments",
            {"method": "transfer", "amount": amount, "date": str(today - timedelta(days=days_ago))},
            format="json",
        )
        assert payment.status_code == 201, payment.json()
        return payment.json()

    def credit(document, quantity, concept="1", days_ago=0):
        note = credit_note(owner_a, document, quantity, concept=concept)
        assert note.status_code == 201, note.json()
        backdate(CreditNote, note.json()["id"], issue_date=today - timedelta(days=days_ago))

    # Paid in part before the day and the rest after it: owed 100,000 that day, 5 days late.
    paid_later = invoice(ten, issued_days_ago=30, due_days_ago=25)
    pay(paid_later, "19000", days_ago=25)
    pay(paid_later, "100000", days_ago=5)
    # Paid in full before the day: owed nothing then.
    pay(invoice(one, issued_days_ago=30), "11900", days_ago=25)
    # Annulled by a credit note after the day: owed in full then, 5 days late.
    annulled_later = invoice(one, issued_days_ago=30, due_days_ago=25)
    credit(annulled_later, None, concept="2", days_ago=5)
    # Voided, 80 days late on the day: a void counts on no day.
    voided = invoice(one, issued_days_ago=110, due_days_ago=100)
    assert owner_a.post(f"{URL}{voided['id']}/void", {"reason": "x"}).status_code == 200
    # A return before the day counts, one after it not yet; a payment entered wrongly, voided
    # and entered again with its date counts once.
    credited = invoice(ten, issued_days_ago=30)  # due in 30 days from today
    credit(credited, "2", days_ago=22)
    credit(credited, "1", days_ago=0)
    wrong = pay(credited, "10000", days_ago=26)
    assert owner_a.post(f"/api/v1/payments/{wrong['id']}/void", {"reason": "x"}).status_code == 200
    pay(credited, "10000", days_ago=26)
    # Issued after the day, and a draft of before it: neither owed anything then.
    issued(owner_a, shop_a, lines=one)
    backdate(Invoice, draft(owner_a, shop_a, lines=one)["id"], issue_date=day)

    then = owner_a.get("/api/v1/receivables/", {"as_of": str(day)}).json()
    assert then["as_of"] == str(day)
    assert then["totals"] == {
        "balance": "197100.00",
        "current": "85200.00",  # 119,000 - 23,800 - 10,000
        "days_1_30": "111900.00",  # 100,000 + 11,900
        "days_31_60": "0.00",
        "days_61_90": "0.00",
        "over_90": "0.00",
        "invoices": 3,
    }
    (customer,) = then["results"]
    assert (customer["balance"], customer["days_1_30"], customer["invoices"]) == (
        "197100.00",
        "111900.00",
        3,
    )
    listed = owner_a.get("/api/v1/receivables/invoices", {"as_of": str(day)}).json()["results"]
    assert {row["id"]: (row["balance_as_of"], row["days_overdue"]) for row in listed} == {
        paid_later["id"]: ("100000.00", 5),
        annulled_later["id"]: ("11900.00", 5),
        credited["id"]: ("85200.00", 0),
    }
    late = owner_a.get("/api/v1/receivables/invoices", {"as_of": str(day), "overdue": "true"})
    assert {row["id"] for row in late.json()["results"]} == {
        paid_later["id"],
        annulled_later["id"],
    }
    # Today: what is open now, with today's balances.
    now = owner_a.get("/api/v1/receivables/").json()
    assert (now["totals"]["balance"], now["totals"]["invoices"]) == ("85200.00", 2)
    rows = owner_a.get("/api/v1/receivables/invoices").json()["results"]
    assert sorted(row["balance_as_of"] for row in rows) == ["11900.00", "73300.00"]
    assert all(row["balance_as_of"] == row["balance"] for row in rows)
    # A later day counts more days late over today's balances: both open invoices are due in 30
    # days, so 10 days late then.
    later = owner_a.get("/api/v1/receivables/", {"as_of": str(today + timedelta(days=40))}).json()
    assert (later["totals"]["balance"], later["totals"]["days_1_30"]) == ("85200.00", "85200.00")
    malformed = owner_a.get("/api/v1/receivables/", {"as_of": "2026-13-01"})
    assert malformed.status_code == 400 and "as_of" in malformed.json()["error"]["fields"]


def test_credit_limit_is_enforced_on_issue(owner_a, shop_a, company_a):
    with tenant_context(company_a):
        Contact.objects.filter(pk=shop_a.customer.pk).update(credit_limit=Decimal("30000"))
    issued(owner_a, shop_a)  # 23,800
    second = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue")
    assert second.status_code == 409 and error_code(second) == "credit_limit_exceeded"


def test_idempotent_invoice_creation_and_payment(owner_a, shop_a, company_a):
    body = {
        "pdv": str(shop_a.pdv.id),
        "customer": str(shop_a.customer.id),
        "issue": True,
        "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
    }
    first = owner_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    retry = owner_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    different = owner_a.post(
        URL, {**body, "notes": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="order-1"
    )
    assert different.status_code == 409 and error_code(different) == "idempotency_key_reused"
    with tenant_context(company_a):
        assert Invoice.objects.count() == 1
    assert stock_of(shop_a, "iva19") == 99
    pay = {"method": "cash", "amount": "5000"}
    url = f"{URL}{first.json()['id']}/payments"
    assert owner_a.post(url, pay, format="json", HTTP_IDEMPOTENCY_KEY="pay-1").status_code == 201
    assert owner_a.post(url, pay, format="json", HTTP_IDEMPOTENCY_KEY="pay-1").status_code == 201
    with tenant_context(company_a):
        assert Payment.objects.count() == 1
    # A failed request leaves its key unused: fixing the body and retrying works.
    failing = owner_a.post(
        URL,
        {**body, "lines": [{"variant": shop_a.v("iva19"), "quantity": "1000"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-2",
    )
    assert failing.status_code == 409
    fixed = owner_a.post(
        URL,
        {**body, "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-2",
    )
    assert fixed.status_code == 201


def test_idempotent_payments_and_credit_notes(owner_a, shop_a, company_a):
    """payments/ and credit-notes/ honour Idempotency-Key: a retry replays the first answer and
    writes nothing; the same key with another body is a 409 and writes nothing."""
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "3"}])

    payment = {"invoice": invoice["id"], "method": "transfer", "amount": "10000"}
    note = {
        "invoice": invoice["id"],
        "reason": "Devolución",
        "concept": "1",
        "return_stock": True,
        "lines": [{"invoice_line": invoice["lines"][0]["id"], "quantity": "1"}],
    }
    for url, body, changed in (
        ("/api/v1/payments/", payment, {**payment, "amount": "9000"}),
        ("/api/v1/credit-notes/", note, {**note, "reason": "Otra"}),
    ):
        assert_idempotent(owner_a, url, body, changed)
    with tenant_context(company_a):
        assert Payment.objects.count() == 1 and CreditNote.objects.count() == 1
        assert Invoice.objects.get(pk=invoice["id"]).amount_paid == Decimal("10000")
    assert stock_of(shop_a, "iva19") == 98  # 100 - 3 sold + 1 returned, once


def test_invoice_list_filters_and_cursor(owner_a, shop_a):

    numbers = [issued(owner_a, shop_a)["full_number"] for _ in range(3)]
    draft(owner_a, shop_a)
    page = owner_a.get(URL, {"limit": 2, "status": "open"}).json()
    assert [i["full_number"] for i in page["results"]] == ["FV3", "FV2"]
    rest = owner_a.get(page["next"]).json()
    assert [i["full_number"] for i in rest["results"]] == ["FV1"]
    assert owner_a.get(URL, {"number": "fv2"}).json()["results"][0]["full_number"] == "FV2"
    assert len(owner_a.get(URL, {"status": "draft"}).json()["results"]) == 1
    assert sorted(numbers) == ["FV1", "FV2", "FV3"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_invoice_roles(shop_a, company_a, client_as, owner_a, role):
    client = client_as(company_a, role)
    sells = role in {Role.OWNER, Role.ADMIN, Role.SELLER}
    assert client.get(URL).status_code == 200
    created = client.post(
        URL,
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "issue": True,
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert created.status_code == (201 if sells else 403)
    target = created.json() if sells else issued(owner_a, shop_a)
    can_void = role in {Role.OWNER, Role.ADMIN}
    voided = client.post(f"{URL}{target['id']}/void", {"reason": "x"}, format="json")
    assert voided.status_code == (200 if can_void else 403)
    if not can_void:
        pays = role in {Role.OWNER, Role.ADMIN, Role.SELLER, Role.ACCOUNTANT}
        paid = client.post(
            f"{URL}{target['id']}/payments", {"method": "cash", "amount": "100"}, format="json"
        )
        assert paid.status_code == (201 if pays else 403)
        note = client.post(
            "/api/v1/credit-notes/",
            {
                "invoice": target["id"],
                "concept": "5",
                "reason": "x",
                "lines": [
                    {"invoice_line": target["lines"][0]["id"], "quantity": "1", "unit_price": "10"}
                ],
            },
            format="json",
        )
        credits = role in {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT}
        assert note.status_code == (201 if credits else 403)
    assert client.get("/api/v1/receivables/").status_code == 200


def test_sellers_pay_only_their_own_invoices_and_never_see_costs(
    shop_a, company_a, owner_a, seller_a
):
    mine = issued(seller_a, shop_a)
    assert "unit_cost" not in mine["lines"][0]
    assert "unit_cost" in owner_a.get(f"{URL}{mine['id']}/").json()["lines"][0]
    theirs = issued(owner_a, shop_a)
    assert (
        seller_a.post(
            f"{URL}{mine['id']}/payments", {"method": "cash", "amount": "100"}, format="json"
        ).status_code
        == 201
    )
    refused = seller_a.post(
        f"{URL}{theirs['id']}/payments", {"method": "cash", "amount": "100"}, format="json"
    )
    assert refused.status_code == 403 and error_code(refused) == "not_your_invoice"
    payment_id = seller_a.get(f"{URL}{mine['id']}/payments").json()[0]["id"]
    assert (
        seller_a.post(
            f"/api/v1/payments/{payment_id}/void", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )


def test_cross_tenant_ids_in_sales_payloads_and_urls(owner_a, shop_a, shop_b, company_a, company_b):
    with tenant_context(company_b):
        from pos.models import Seller

        seller_b = Seller.objects.create(name="B")
    base = {
        "pdv": str(shop_a.pdv.id),
        "customer": str(shop_a.customer.id),
        "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
    }
    for field, value in (
        ("pdv", str(shop_b.pdv.id)),
        ("customer", str(shop_b.customer.id)),
        ("seller", str(seller_b.id)),
        ("lines", [{"variant": shop_b.v("iva19"), "quantity": "1"}]),
    ):
        response = owner_a.post(URL, {**base, field: value}, format="json")
        assert response.status_code == 400, field
        assert field in response.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Invoice.objects.exists()
    from accounts.models import Membership
    from conftest import client_for

    owner_b = client_for(
        Membership.objects.filter(company=company_b, role="owner").first().user, company_b
    )
    invoice_b = issued(owner_b, shop_b)
    for method, url, payload in (
        ("get", f"{URL}{invoice_b['id']}/", None),
        ("post", f"{URL}{invoice_b['id']}/issue", {}),
        ("post", f"{URL}{invoice_b['id']}/void", {"reason": "x"}),
        ("post", f"{URL}{invoice_b['id']}/payments", {"method": "cash", "amount": "1"}),
        ("get", f"{URL}{invoice_b['id']}/payments", None),
    ):
        assert getattr(owner_a, method)(url, payload, format="json").status_code == 404, url
    for payload in ({"invoice": invoice_b["id"], "method": "cash", "amount": "1"},):
        assert owner_a.post("/api/v1/payments/", payload, format="json").status_code == 400
    note = owner_a.post(
        "/api/v1/credit-notes/",
        {"invoice": invoice_b["id"], "concept": "5", "reason": "x"},
        format="json",
    )
    assert note.status_code == 400
    own = issued(owner_a, shop_a)
    foreign_line = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": own["id"],
            "concept": "1",
            "reason": "x",
            "lines": [{"invoice_line": invoice_b["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )
    assert foreign_line.status_code == 400
    with tenant_context(company_b):
        assert Invoice.objects.get(pk=invoice_b["id"]).status == "open"
        assert not Payment.objects.exists() and not CreditNote.objects.exists()
    foreign = owner_a.get("/api/v1/receivables/invoices", {"customer": str(shop_b.customer.id)})
    assert foreign.status_code == 400 and "customer" in foreign.json()["error"]["fields"]
    malformed = owner_a.get("/api/v1/receivables/invoices", {"customer": "not-an-id"})
    assert malformed.status_code == 400 and "customer" in malformed.json()["error"]["fields"]
    misspelled = owner_a.get("/api/v1/receivables/invoices", {"overdue": "yes"})

    assert misspelled.status_code == 400 and "overdue" in misspelled.json()["error"]["fields"]
    assert owner_a.get("/api/v1/receivables/invoices", {"overdue": "TRUE"}).status_code == 200


def test_master_data_used_by_documents_is_deactivated_not_deleted(owner_a, shop_a, company_a):
    invoice = draft(owner_a, shop_a)
    contact = owner_a.delete(f"/api/v1/contacts/{shop_a.customer.id}/")
    assert contact.status_code == 409 and error_code(contact) == "in_use"
    with tenant_context(company_a):
        assert Contact.objects.filter(pk=shop_a.customer.pk).exists()
    deactivated = owner_a.patch(
        f"/api/v1/contacts/{shop_a.customer.id}/", {"is_active": False}, format="json"
    )
    assert deactivated.status_code == 200
    # An inactive customer cannot be invoiced again.
    refused = owner_a.post(
        URL,
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert refused.status_code == 400
    assert invoice["id"]


def test_a_pdv_with_documents_but_no_stock_is_not_deleted(owner_a, shop_a, company_a):
    sur = owner_a.post("/api/v1/pdvs/", {"name": "Sur", "code": "S9"}, format="json").json()
    document = owner_a.post(
        URL,
        {
            "pdv": sur["id"],
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert document.status_code == 201, document.json()
    refused = owner_a.delete(f"/api/v1/pdvs/{sur['id']}/")
    assert refused.status_code == 409 and error_code(refused) == "in_use"
    with tenant_context(company_a):
        assert not Stock.objects.filter(pdv_id=sur["id"]).exists()
        assert Invoice.objects.get(pk=document.json()["id"]).pdv_id is not None
    assert owner_a.get(f"/api/v1/pdvs/{sur['id']}/").status_code == 200


def test_pdv_allowed_users(owner_a, shop_a, company_a, make_member):
    seller = make_member(company_a, Role.SELLER)
    outsider = make_member(company_a, Role.SELLER)
    from accounts.tests.factories import UserFactory

    stranger = UserFactory()
    url = f"/api/v1/pdvs/{shop_a.pdv.id}/"
    refused = owner_a.patch(url, {"allowed_users": [str(stranger.id)]}, format="json")
    assert refused.status_code == 400
    twice = owner_a.patch(url, {"allowed_users": [str(seller.id)] * 2}, format="json")
    assert twice.status_code == 200  # the same user named twice is allowed once
    allowed = owner_a.patch(url, {"allowed_users": [str(seller.id)]}, format="json")
    assert allowed.json()["allowed_users"] == [str(seller.id)]

    from conftest import client_for

    assert (
        client_for(outsider, company_a)
        .post(
            "/api/v1/shifts/",
            {"register": str(shop_a.register.id), "opening_cash": "0"},
            format="json",
        )
        .status_code
        == 403
    )
    assert (
        client_for(seller, company_a)
        .post(
            "/api/v1/shifts/",
            {"register": str(shop_a.register.id), "opening_cash": "0"},
            format="json",
        )
        .status_code
        == 201
    )
    reopened = owner_a.patch(url, {"allowed_users": []}, format="json")
    assert reopened.json()["allowed_users"] == []


def test_the_flat_list_answers_what_the_list_serializer_renders(owner_a, shop_a, company_a):
    """The list is rendered from rows (RowRenderer); every kind of invoice must come out exactly
    as InvoiceListSerializer renders the model instance: drafts without number or dates, open,
    partly paid, credited, voided."""
    import json

    from rest_framework.renderers import JSONRenderer

    from invoices.api import InvoiceListSerializer

    draft(owner_a, shop_a)
    paid = issued(owner_a, shop_a)
    owner_a.post(f"{URL}{paid['id']}/payments", {"method": "cash", "amount": "1000.5"})
    voided = issued(owner_a, shop_a)
    assert owner_a.post(f"{URL}{voided['id']}/void", {"reason": "x"}).status_code == 200
    credited = issued(owner_a, shop_a)
    note = {
        "invoice": credited["id"],
        "reason": "Devolución",
        "concept": "1",
        "lines": [{"invoice_line": credited["lines"][0]["id"], "quantity": "1"}],
    }
    assert owner_a.post("/api/v1/credit-notes/", note, format="json").status_code == 201

    listed = owner_a.get(URL).json()["results"]
    with tenant_context(company_a):
        invoices = Invoice.objects.order_by("-created_at")
        expected = JSONRenderer().render(InvoiceListSerializer(invoices, many=True).data)
    assert len(listed) == 4
    assert {i["status"] for i in listed} == {"draft", "open", "void"}
    assert listed == json.loads(expected)


def test_the_lists_customers_come_with_the_page_in_one_statement(owner_a, shop_a, company_a):
    """The page's customers are read by a subquery in the page's statement (RelatedRowJSON),
    as JSON: names that JSON must escape, a NIT with its check digit and a customer shared by
    several invoices come out as ContactRefSerializer renders them, and the list reads no
    second statement for them."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.renderers import JSONRenderer

    from invoices.api import InvoiceListSerializer

    names = ['Café "La 14" \\ Ñandú', "Tienda\tdoña Rosa 🛒", "José's <b>&</b>"]
    customers = []
    for number, name in zip(("800197268", "800191045", "901451481"), names, strict=True):
        body = {"id_type": "31", "id_number": number, "name": name, "person_type": "legal"}
        made = owner_a.post("/api/v1/contacts/", {**body, "is_customer": True}, format="json")
        assert made.status_code == 201, made.json()
        customers.append(made.json())
    for customer in (*customers, customers[0]):
        with tenant_context(company_a):
            contact = Contact.objects.get(pk=customer["id"])
        draft(owner_a, shop_a, customer=contact)

    with CaptureQueriesContext(connection) as queries:
        listed = owner_a.get(URL).json()["results"]
    statements = [q["sql"] for q in queries.captured_queries]
    reading_contacts = [sql for sql in statements if '"contacts_contact"' in sql]
    assert len(reading_contacts) == 1, statements
    assert 'FROM "invoices_invoice"' in reading_contacts[0]  # the page's own statement
    with tenant_context(company_a):
        invoices = Invoice.objects.order_by("-created_at")
        expected = JSONRenderer().render(InvoiceListSerializer(invoices, many=True).data)
    assert listed == json.loads(expected)
    shown = {(c["name"], c["identification"]) for c in (i["customer"] for i in listed)}
    assert ('Café "La 14" \\ Ñandú', "800197268-4") in shown
    assert ("Tienda\tdoña Rosa 🛒", "800191045-1") in shown


def test_the_payment_ledger_pages_newest_first_by_cursor(owner_a, shop_a):
    first, second = issued(owner_a, shop_a), issued(owner_a, shop_a)
    for invoice, amount, method in (
        (first, "100", "cash"),
        (second, "200", "transfer"),
        (first, "300", "nequi"),
    ):
        paid = owner_a.post(
            f"{URL}{invoice['id']}/payments", {"method": method, "amount": amount}, format="json"
        )
        assert paid.status_code == 201, paid.json()

    page = owner_a.get("/api/v1/payments/", {"limit": 2}).json()
    assert "count" not in page and page["previous"] is None
    assert [(p["amount"], p["invoice_number"]) for p in page["results"]] == [
        ("300.00", "FV1"),
        ("200.00", "FV2"),
    ]
    rest = owner_a.get(page["next"]).json()
    assert [p["amount"] for p in rest["results"]] == ["100.00"] and rest["next"] is None
    by_invoice = owner_a.get("/api/v1/payments/", {"invoice": first["id"]}).json()["results"]
    assert [p["method"] for p in by_invoice] == ["nequi", "cash"]
    assert [p["amount"] for p in owner_a.get("/api/v1/payments/?search=FV2").json()["results"]] == [
        "200.00"
    ]


def test_open_invoice_pages_neither_skip_nor_repeat_invoices_due_the_same_day(owner_a, shop_a):
    today = timezone.localdate()
    with tenant_context(shop_a.company):
        Invoice.objects.bulk_create(
            Invoice(
                pdv=shop_a.pdv,
                customer=shop_a.customer,
                issue_date=today,
                due_date=today - timedelta(days=5 if i % 3 else 40),  # two due dates for 600
                created_by=owner_a.user,
                status=Invoice.Status.OPEN,
                prefix="ZZ",
                number=i,
                full_number=f"ZZ{i}",
                total=Decimal(1000 + i),
                balance=Decimal(1000 + i),
            )
            for i in range(1, 601)
        )
    seen = []
    for offset in range(0, 600, 25):
        page = owner_a.get("/api/v1/receivables/invoices", {"limit": 25, "offset": offset})
        seen += [row["id"] for row in page.json()["results"]]
    assert len(seen) == len(set(seen)) == 600


def test_a_line_beyond_what_a_document_can_hold_is_a_400_and_writes_nothing(
    owner_a, shop_a, company_a
):
    huge = [{"variant": shop_a.v("iva19"), "quantity": "999999999999999", "unit_price": "999999"}]
    shift = {"register": str(shop_a.register.id), "opening_cash": "0"}
    assert owner_a.post("/api/v1/shifts/", shift, format="json").status_code == 201
    for url, body in (
        (URL, {"pdv": str(shop_a.pdv.id), "customer": str(shop_a.customer.id), "lines": huge}),
        ("/api/v1/pos/sales/", {"lines": huge, "tenders": [{"method": "cash", "amount": "1"}]}),
    ):
        refused = owner_a.post(url, body, format="json")
        assert refused.status_code == 400 and error_code(refused) == "amount_too_large"

    with tenant_context(company_a):
        assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("unit_price", "line_total"),
    [("100.50", "358.79"), ("100.02", "357.07")],  # a unit's tax rounds up, then down
)
def test_returning_a_line_unit_by_unit_credits_exactly_the_line(
    owner_a, shop_a, unit_price, line_total
):
    invoice = issued(
        owner_a,
        shop_a,
        lines=[{"variant": shop_a.v("iva19"), "quantity": "3", "unit_price": unit_price}],
    )
    line = invoice["lines"][0]
    assert line["total"] == line_total
    credited = Decimal(0)
    for _unit in range(3):
        note = owner_a.post(
            "/api/v1/credit-notes/",
            {
                "invoice": invoice["id"],
                "concept": "1",
                "reason": "Devolución",
                "return_stock": True,
                "lines": [{"invoice_line": line["id"], "quantity": "1"}],
            },
            format="json",
        )
        assert note.status_code == 201, note.json()
        credited += Decimal(note.json()["total"])
    assert credited == Decimal(line_total)
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["balance"], state["credited_total"]) == ("0.00", line_total)


def test_an_annulment_after_a_partial_return_credits_exactly_what_is_left(owner_a, shop_a):
    invoice = issued(
        owner_a,
        shop_a,
        lines=[{"variant": shop_a.v("iva19"), "quantity": "3", "unit_price": "100.50"}],
    )
    line = invoice["lines"][0]
    body = {"invoice": invoice["id"], "reason": "Devolución", "return_stock": True}
    first = owner_a.post(
        "/api/v1/credit-notes/",
        {**body, "concept": "1", "lines": [{"invoice_line": line["id"], "quantity": "1"}]},
        format="json",
    )
    assert first.status_code == 201
    rest = owner_a.post("/api/v1/credit-notes/", {**body, "concept": "2"}, format="json")
    assert rest.status_code == 201, rest.json()
    assert Decimal(first.json()["total"]) + Decimal(rest.json()["total"]) == Decimal("358.79")
    taxes = rest.json()["lines"][0]["taxes"]
    assert Decimal(taxes[0]["amount"]) + Decimal(
        first.json()["lines"][0]["taxes"][0]["amount"]
    ) == (Decimal(line["taxes"][0]["amount"]))


def test_a_discount_after_a_return_covers_only_the_units_kept(owner_a, shop_a):
    """The returned unit was refunded at its price: a discount on it would credit it twice."""
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "3"}])
    line = invoice["lines"][0]
    body = {"invoice": invoice["id"], "reason": "Ajuste"}
    back = owner_a.post(
        "/api/v1/credit-notes/",
        {**body, "concept": "1", "lines": [{"invoice_line": line["id"], "quantity": "1"}]},
        format="json",
    )
    assert back.status_code == 201, back.json()
    discount = {**body, "concept": "3"}
    above = owner_a.post(
        "/api/v1/credit-notes/",
        {
            **discount,
            "lines": [{"invoice_line": line["id"], "quantity": "3", "unit_price": "1000"}],
        },
        format="json",
    )
    assert above.status_code == 400 and above.json()["error"]["code"] == "above_invoiced"
    assert "lines.0.quantity" in above.json()["error"]["fields"]
    kept = owner_a.post(
        "/api/v1/credit-notes/",
        {
            **discount,
            "lines": [{"invoice_line": line["id"], "quantity": "2", "unit_price": "1000"}],
        },
        format="json",
    )
    assert kept.status_code == 201, kept.json()
    assert kept.json()["total"] == "2380.00"


def test_a_refund_gives_back_the_money_received_not_what_the_customer_withheld(
    owner_a, shop_a, company_a
):
    """11,900 paid as 9,400 by transfer and 2,500 withheld (declared to the DIAN by the
    customer): annulling gives back 9,400; the 2,500 is a withholding to reverse, not cash."""
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1"}])

    paid = owner_a.post(
        f"{URL}{invoice['id']}/payments",
        {
            "method": "transfer",
            "amount": "9400",
            "retefuente": "250",
            "reteiva": "285",
            "reteica": "1965",
        },
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    note = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "2",
            "reason": "Anulación",
            "return_stock": True,
            "refund_method": "transfer",
        },
        format="json",
    )
    assert note.status_code == 201, note.json()
    body = note.json()
    assert (body["total"], body["refund_amount"], body["withholding_reversed"]) == (
        "11900.00",
        "9400.00",
        "2500.00",
    )
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["balance"], state["status"]) == ("0.00", "paid")


def test_a_cash_refund_needs_a_drawer_to_come_out_of(owner_a, shop_a, company_a):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1"}])
    paid = owner_a.post(
        f"{URL}{invoice['id']}/payments", {"method": "transfer", "amount": "11900"}, format="json"
    )
    assert paid.status_code == 201
    body = {"invoice": invoice["id"], "concept": "2", "reason": "Anulación"}
    refused = owner_a.post("/api/v1/credit-notes/", body, format="json")  # cash, no open shift
    assert refused.status_code == 400 and error_code(refused) == "refund_needs_shift"
    with tenant_context(company_a):
        assert not CreditNote.objects.exists()
    by_transfer = owner_a.post(
        "/api/v1/credit-notes/", {**body, "refund_method": "transfer"}, format="json"
    )
    assert by_transfer.status_code == 201 and by_transfer.json()["refund_amount"] == "11900.00"


def test_payment_dates_and_withholdings_stay_within_the_invoice(owner_a, shop_a, company_a):
    """A payment is dated between the invoice's date and today; retefuente and reteICA are
    shares of its base, reteIVA of its IVA, with earlier payments' counted."""
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1"}])
    url = f"{URL}{invoice['id']}/payments"
    today = timezone.localdate()
    for day in (today + timedelta(days=1), today - timedelta(days=1)):
        dated = owner_a.post(
            url, {"method": "transfer", "amount": "100", "date": str(day)}, format="json"
        )
        assert dated.status_code == 400 and error_code(dated) == "payment_date"
    too_much_iva = owner_a.post(
        url, {"method": "transfer", "amount": "9000", "reteiva": "1901"}, format="json"
    )  # the invoice's IVA is 1,900
    assert too_much_iva.status_code == 400 and error_code(too_much_iva) == "withholding_above_base"
    first = owner_a.post(
        url, {"method": "transfer", "amount": "5000", "reteiva": "1000"}, format="json"
    )
    assert first.status_code == 201
    again = owner_a.post(
        url, {"method": "transfer", "amount": "1000", "reteiva": "901"}, format="json"
    )
    assert again.status_code == 400 and error_code(again) == "withholding_above_base"
    with tenant_context(company_a):
        assert Payment.objects.count() == 1


def test_fractions_sold_before_a_unit_became_whole_can_still_be_voided_and_returned(
    owner_a, shop_a, company_a
):
    """The whole-units rule is for quantities people enter, not for undoing what was valid."""
    from products.models import Unit

    with tenant_context(company_a):
        Product.objects.filter(variants__id=shop_a.v("iva19")).update(
            unit=Unit.objects.get(code="kg")
        )
    sold = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1.5"}])
    returned = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "2.5"}])
    with tenant_context(company_a):
        Unit.objects.filter(code="kg").update(allows_decimals=False)
    voided = owner_a.post(f"{URL}{sold['id']}/void", {"reason": "Error"}, format="json")
    assert voided.status_code == 200, voided.json()
    note = credit_note(owner_a, returned, "0.5", return_stock=True)
    assert note.status_code == 201, note.json()


def test_a_payment_given_back_by_a_credit_note_cannot_be_voided(owner_a, shop_a):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "1"}])
    payment = owner_a.post(
        f"{URL}{invoice['id']}/payments",
        {"method": "transfer", "amount": "9400", "reteica": "2500"},
        format="json",
    ).json()
    annulled = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "2",
            "reason": "Anulación",
            "refund_method": "transfer",
        },
        format="json",
    )
    assert annulled.status_code == 201
    refused = owner_a.post(f"/api/v1/payments/{payment['id']}/void", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "payment_refunded"
    state = owner_a.get(f"{URL}{invoice['id']}/").json()
    assert (state["balance"], state["status"]) == ("0.00", "paid")


def test_the_last_unit_after_a_return_at_an_agreed_lower_price_credits_its_own_value(
    owner_a, shop_a
):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "2"}])
    line = invoice["lines"][0]  # 2 x 10,000 + IVA
    body = {"invoice": invoice["id"], "concept": "1", "reason": "Devolución"}
    cheaper = owner_a.post(
        "/api/v1/credit-notes/",
        {**body, "lines": [{"invoice_line": line["id"], "quantity": "1", "unit_price": "5000"}]},
        format="json",
    )
    assert cheaper.status_code == 201 and cheaper.json()["total"] == "5950.00"
    last = owner_a.post(
        "/api/v1/credit-notes/",
        {**body, "lines": [{"invoice_line": line["id"], "quantity": "1"}]},
        format="json",
    )
    assert last.status_code == 201 and last.json()["total"] == "11900.00"


def test_the_last_units_after_a_discount_note_credit_exactly_what_is_left(owner_a, shop_a):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "2"}])
    line = invoice["lines"][0]  # 23,800
    body = {"invoice": invoice["id"], "reason": "Ajuste"}
    discount = owner_a.post(
        "/api/v1/credit-notes/",
        {
            **body,
            "concept": "3",
            "lines": [{"invoice_line": line["id"], "quantity": "1", "unit_price": "1000"}],
        },
        format="json",
    )
    assert discount.status_code == 201 and discount.json()["total"] == "1190.00"
    returned = owner_a.post(
        "/api/v1/credit-notes/",
        {
            **body,
            "concept": "1",
            "return_stock": True,
            "lines": [{"invoice_line": line["id"], "quantity": "2"}],
        },
        format="json",
    )
    assert returned.status_code == 201, returned.json()
    assert returned.json()["total"] == "22610.00"


def test_withholdings_count_against_what_is_still_invoiced_after_credit_notes(owner_a, shop_a):
    invoice = issued(owner_a, shop_a, lines=[{"variant": shop_a.v("iva19"), "quantity": "2"}])
    returned = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "1",
            "reason": "Devolución",
            "lines": [{"invoice_line": invoice["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )
    assert returned.status_code == 201  # base 10,000 and IVA 1,900 are left
    url = f"{URL}{invoice['id']}/payments"
    too_much = owner_a.post(
        url, {"method": "transfer", "amount": "1", "retefuente": "10001"}, format="json"
    )
    assert too_much.status_code == 400 and error_code(too_much) == "withholding_above_base"
    fits = owner_a.post(
        url,
        {"method": "transfer", "amount": "9900", "retefuente": "250", "reteiva": "285"},
        format="json",
    )
    assert fits.status_code == 201, fits.json()


def test_a_draft_follows_its_customers_active_price_list(owner_a, shop_a, company_a):
    from products.models import PriceList

    with tenant_context(company_a):
        wholesale = PriceList.objects.create(name="Mayorista", kind="percentage", percentage=10)
        old = PriceList.objects.create(name="Antigua", kind="percentage", percentage=20)
        Contact.objects.filter(pk=shop_a.customer.pk).update(default_price_list=wholesale)
        plain = Contact.objects.create(id_type="13", id_number="1020304050", name="Ana")
        stale = Contact.objects.create(
            id_type="13", id_number="1020304051", name="Beto", default_price_list=old
        )
        PriceList.objects.filter(pk=old.pk).update(is_active=False)
    lines = [{"variant": shop_a.v("iva19"), "quantity": "1"}]
    body = {"pdv": str(shop_a.pdv.id), "customer": str(shop_a.customer.id), "lines": lines}
    draft = owner_a.post(URL, body, format="json").json()
    assert draft["lines"][0]["unit_price"].startswith("9000")
    moved = owner_a.patch(
        f"{URL}{draft['id']}/", {"customer": str(plain.id), "lines": lines}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["lines"][0]["unit_price"].startswith("10000")
    inactive_own = owner_a.post(URL, {**body, "customer": str(stale.id)}, format="json").json()
    assert inactive_own["lines"][0]["unit_price"].startswith("10000")  # the company default
    asked = owner_a.post(URL, {**body, "price_list": str(old.id)}, format="json")
    assert asked.status_code == 400
    patched = owner_a.patch(f"{URL}{draft['id']}/", {"price_list": str(old.id)}, format="json")
    assert patched.status_code == 400
    # Switching the list without the lines would leave them on the old prices: refused.
    silent = owner_a.patch(
        f"{URL}{draft['id']}/", {"customer": str(shop_a.customer.id)}, format="json"
    )
    assert silent.status_code == 400 and error_code(silent) == "lines_required"
    # The same customer sent again with the whole form keeps the list the user chose.
    with tenant_context(company_a):
        special = PriceList.objects.create(name="Especial", kind="percentage", percentage=50)
    chosen = owner_a.patch(
        f"{URL}{draft['id']}/", {"price_list": str(special.id), "lines": lines}, format="json"
    ).json()
    assert chosen["lines"][0]["unit_price"].startswith("5000")
    again = owner_a.patch(
        f"{URL}{draft['id']}/",
        {"customer": str(plain.id), "notes": "x", "lines": lines},
        format="json",
    ).json()
    assert again["lines"][0]["unit_price"].startswith("5000")
    # A chosen list deactivated later gives way when the lines are edited.
    with tenant_context(company_a):
        PriceList.objects.filter(pk=special.pk).update(is_active=False)
    edited = owner_a.patch(f"{URL}{draft['id']}/", {"lines": lines}, format="json")
    assert edited.status_code == 200 and edited.json()["lines"][0]["unit_price"].startswith("10000")
    assert edited.json()["price_list"] != str(special.id)  # it names the list used
    # The form sent back with no list asked for: the same list, nothing to re-price.
    form = owner_a.patch(f"{URL}{draft['id']}/", {"notes": "y", "price_list": None}, format="json")
    assert form.status_code == 200, form.json()


def test_a_range_that_starts_later_waits_inactive_instead_of_stopping_sales(owner_a, shop_a):
    start = timezone.localdate() + timedelta(days=10)
    body = {
        "pdv": str(shop_a.pdv.id),
        "document_type": "invoice",
        "resolution_number": "3",
        "prefix": "FN",
        "range_from": 1,
        "range_to": 100,
        "valid_from": str(start),
        "valid_to": str(start + timedelta(days=365)),
    }
    early = owner_a.post("/api/v1/numbering-ranges/", body, format="json")
    assert early.status_code == 409 and error_code(early) == "range_not_started"
    waiting = owner_a.post("/api/v1/numbering-ranges/", {**body, "is_active": False}, format="json")
    assert waiting.status_code == 201
    activated = owner_a.patch(
        f"/api/v1/numbering-ranges/{waiting.json()['id']}/", {"is_active": True}, format="json"
    )
    assert activated.status_code == 409
    assert issued(owner_a, shop_a)["full_number"].startswith("FV")  # the current one still sells
    # Once the current range is used up it stops nothing: the next one may wait active.
    with tenant_context(shop_a.company):
        NumberingRange.objects.filter(prefix="FV").update(next_number=F("range_to") + 1)
    assert (
        owner_a.patch(
            f"/api/v1/numbering-ranges/{waiting.json()['id']}/", {"is_active": True}, format="json"
        ).status_code
        == 200
    )


def test_a_resolution_loaded_for_a_later_day_takes_over_when_the_range_in_use_ends(
    owner_a, shop_a, company_a
):
    """The next resolution is loaded inactive before its first day (`range_not_started`
    otherwise). Once it has started, the first issue that finds the range in use expired or
    used up switches to it, with a warning, instead of stopping sales until someone
    activates it; a used range switched off is never brought back."""
    today = timezone.localdate()
    ranges = "/api/v1/numbering-ranges/"
    nxt = {
        "pdv": str(shop_a.pdv.id),
        "document_type": "invoice",
        "resolution_number": "18760000NEW",
        "prefix": "FN",
        "range_from": 1,
        "range_to": 500,
        "valid_from": str(today + timedelta(days=1)),
        "valid_to": str(today + timedelta(days=400)),
    }
    early = owner_a.post(ranges, nxt, format="json")
    assert early.status_code == 409 and error_code(early) == "range_not_started"
    loaded = owner_a.post(ranges, {**nxt, "is_active": False}, format="json")
    assert loaded.status_code == 201
    assert issued(owner_a, shop_a)["full_number"] == "FV1"  # not started: the old one goes on

    with tenant_context(company_a):
        # Its first day comes (it was loaded the day before), and the range in use has ended.
        NumberingRange.objects.filter(pk=loaded.json()["id"]).update(
            valid_from=today, created_at=timezone.now() - timedelta(days=1)
        )
        NumberingRange.objects.filter(prefix="FV").update(valid_to=today - timedelta(days=1))
    switched = issued(owner_a, shop_a)
    assert switched["full_number"] == "FN1"
    assert any("FN" in warning for warning in switched["warnings"])
    with tenant_context(company_a):
        assert dict(
            NumberingRange.objects.filter(document_type="invoice").values_list(
                "prefix", "is_active"
            )
        ) == {
            "FV": False,
            "FN": True,
        }
    assert issued(owner_a, shop_a)["full_number"] == "FN2"

    # Used up, with nothing loaded for a later day: a clear 409. The used range switched off
    # above is not brought back, nor one switched off that was valid when it was loaded.
    stray = owner_a.post(
        ranges,
        {**nxt, "prefix": "FZ", "valid_from": str(today), "is_active": False},
        format="json",
    )
    assert stray.status_code == 201, stray.json()
    with tenant_context(company_a):
        NumberingRange.objects.filter(prefix="FV").update(valid_to=today + timedelta(days=30))
        NumberingRange.objects.filter(prefix="FN").update(range_to=2)
    refused = owner_a.post(f"{URL}{draft(owner_a, shop_a)['id']}/issue")
    assert refused.status_code == 409 and error_code(refused) == "numbering_range_exhausted"


def test_goods_do_not_come_back_to_a_closed_point_of_sale(owner_a, company_a, make_product):
    """Norte closes for good (its stock moved out first). A return, or a void, would put goods
    back where nothing can move or count them out: refused (409 `pdv_inactive`); a credit
    without returning stock, or a return of lines that took no stock, goes through. A PDV with an open shift is not closed either."""
    from invoices.tests.fixtures import make_ranges
    from pos.models import PDV, CashRegister

    with tenant_context(company_a):
        norte = PDV.objects.create(name="Norte", code="NTE")
        make_ranges(norte, prefix="FN", pos_prefix="PN", note_prefix="NN")
        main = PDV.objects.get(is_main=True)
        register = CashRegister.objects.create(pdv=norte, name="Caja Norte")
        consumer = Contact.objects.get(is_final_consumer=True)
    product = make_product(company_a, stock={norte: 5})
    service = make_product(company_a, track_inventory=False)  # a delivery: no stock
    with tenant_context(company_a):
        variant = str(product.variants.get().id)
        delivery = str(service.variants.get().id)
    invoices = [
        owner_a.post(
            URL,
            {
                "pdv": str(norte.id),
                "customer": str(consumer.id),
                "issue": True,
                "lines": [{"variant": sold, "quantity": "1"}],
            },
            format="json",
        ).json()
        for sold in (variant, variant, delivery)
    ]
    shift = owner_a.post(
        "/api/v1/shifts/", {"register": str(register.id), "opening_cash": "0"}, format="json"
    )
    assert shift.status_code == 201
    busy = owner_a.patch(f"/api/v1/pdvs/{norte.id}/", {"is_active": False}, format="json")
    assert busy.status_code == 409 and error_code(busy) == "shift_open"
    closed = owner_a.post(
        f"/api/v1/shifts/{shift.json()['id']}/close", {"counted": {"cash": "0"}}, format="json"
    )
    assert closed.status_code == 200, closed.json()
    moved = owner_a.post(
        "/api/v1/transfers/",
        {
            "origin": str(norte.id),
            "destination": str(main.id),
            "lines": [{"variant": variant, "quantity": "3"}],
        },
        format="json",
    )
    assert moved.status_code == 201, moved.json()
    assert (
        owner_a.patch(f"/api/v1/pdvs/{norte.id}/", {"is_active": False}, format="json").status_code
        == 200
    )

    back = credit_note(owner_a, invoices[0], "1", return_stock=True)
    assert back.status_code == 409 and error_code(back) == "pdv_inactive"
    voided = owner_a.post(f"{URL}{invoices[1]['id']}/void", {"reason": "Error"}, format="json")
    assert voided.status_code == 409 and error_code(voided) == "pdv_inactive"
    assert credit_note(owner_a, invoices[0], "1").status_code == 201  # money only
    # Nothing of a service came out of stock: its return asks nothing of the closed PDV.
    assert credit_note(owner_a, invoices[2], "1", return_stock=True).status_code == 201
    with tenant_context(company_a):
        assert Stock.objects.get(pdv=norte).quantity == 0


def test_a_used_range_stays_valid_until_its_last_document(owner_a, shop_a, company_a):
    """FV1 was numbered today: the range's validity may be shortened to today, not before (its
    PDF would print a resolution that had expired when it was issued)."""
    assert issued(owner_a, shop_a)["full_number"] == "FV1"
    with tenant_context(company_a):
        numbering = NumberingRange.objects.get(
            pdv=shop_a.pdv, document_type="invoice", is_active=True
        )
    url = f"/api/v1/numbering-ranges/{numbering.pk}/"
    today = timezone.localdate()
    moved = owner_a.patch(url, {"valid_to": str(today - timedelta(days=1))}, format="json")
    assert moved.status_code == 400 and "valid_to" in moved.json()["error"]["fields"]
    with tenant_context(company_a):
        numbering.refresh_from_db()
    assert numbering.valid_to > today
    assert owner_a.patch(url, {"valid_to": str(today)}, format="json").status_code == 200


def test_a_store_that_names_its_cashiers_is_closed_to_the_others_for_invoices_too(owner_a, shop_a):
    """Opening a shift at a store whose cashiers were chosen was refused to the others, but a
    kept-out seller still sold its stock with `POST invoices/`."""
    from conftest import _member, client_for
    from pos.models import PDV

    company = shop_a.company
    kept_out, allowed = _member(company, Role.SELLER), _member(company, Role.SELLER)
    with tenant_context(company):
        norte = PDV.objects.create(name="Sede Norte", code="NORTE")
    chosen = owner_a.patch(
        f"/api/v1/pdvs/{norte.pk}/", {"allowed_users": [str(allowed.pk)]}, format="json"
    )
    assert chosen.status_code == 200, chosen.json()
    refused = client_for(kept_out, company).post(
        URL,
        {
            "pdv": str(norte.pk),
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert refused.status_code == 403 and error_code(refused) == "pdv_not_allowed"
    with tenant_context(company):
        assert not Invoice.objects.exists()
    # A draft at an open store moved there: refused too, the draft unchanged.
    mine = draft(client_for(kept_out, company), shop_a)
    moved = client_for(kept_out, company).patch(
        f"{URL}{mine['id']}/", {"pdv": str(norte.pk)}, format="json"
    )
    assert moved.status_code == 403 and error_code(moved) == "pdv_not_allowed"
    with tenant_context(company):
        assert Invoice.objects.get(pk=mine["id"]).pdv_id == shop_a.pdv.pk
    # The chosen cashier and the owner sell there.
    assert draft(client_for(allowed, company), shop_a, pdv=str(norte.pk))["pdv"] == str(norte.pk)
    assert draft(owner_a, shop_a, pdv=str(norte.pk))["pdv"] == str(norte.pk)
