"""The movement service, adjustments, transfers, kardex, stock and the ledger over HTTP."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from accounts.models import Company
from ally360.exceptions import Conflict
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code
from inventory.models import Adjustment, Stock, StockMovement, Transfer
from inventory.services import Movement, Reference, stock_apply
from pos.models import PDV
from products.models import Variant

pytestmark = pytest.mark.django_db

BACK_OFFICE = {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT}


@pytest.fixture
def stocked(company_a, make_product, main_pdv):
    """A variant of company A (sold by the kilogram) with 10 at the main PDV at cost 600."""
    product = make_product(company_a, sku="ARZ-1", stock={None: 10}, cost="600", unit="kg")
    with tenant_context(company_a):
        return Variant.objects.get(product=product), main_pdv(company_a)


def adjust(client, pdv, lines, reason="count"):
    """POST adjustments/ at `pdv` with these lines."""
    return client.post(
        "/api/v1/adjustments/",
        {"pdv": str(pdv.id), "reason": reason, "lines": lines},
        format="json",
    )


def balance(company, variant, pdv):
    with tenant_context(company):
        stock = Stock.objects.get(variant=variant, pdv=pdv)
        ledger = StockMovement.objects.filter(variant=variant, pdv=pdv).aggregate(s=Sum("quantity"))
        assert stock.quantity == ledger["s"], "the balance must equal the sum of its movements"
        return stock.quantity


def test_weighted_average_cost_after_several_receipts(company_a, stocked):
    variant, pdv = stocked
    with tenant_context(company_a), transaction.atomic():
        for qty, cost in (("5", "900"), ("15", "700")):
            stock_apply(
                [Movement(variant, pdv, Decimal(qty), "purchase", Decimal(cost))],
                reference=Reference("bill", None, "FC-1"),
            )
        stock_apply(
            [Movement(variant, pdv, Decimal("-4"), "sale")],
            reference=Reference("invoice", None, "FV-1"),
        )
        stock = Stock.objects.get(variant=variant, pdv=pdv)
        # (10*600 + 5*900 + 15*700) / 30 = 700; a sale leaves the average alone.
        assert stock.average_cost == Decimal("700")
        assert stock.quantity == Decimal("26")
        sale = StockMovement.objects.get(kind="sale")
        assert (sale.unit_cost, sale.balance_after) == (Decimal("700"), Decimal("26"))
    assert balance(company_a, variant, pdv) == 26


def test_shortage_is_refused_with_each_short_item_and_nothing_changes(
    company_a, stocked, make_product
):
    variant, pdv = stocked
    with tenant_context(company_a):
        other = Variant.objects.get(product=make_product(company_a, sku="OTRO", stock={None: 1}))
        with pytest.raises(Conflict) as error, transaction.atomic():
            stock_apply(
                [
                    Movement(variant, pdv, Decimal("-7"), "sale"),
                    Movement(variant, pdv, Decimal("-4"), "sale"),
                    Movement(other, pdv, Decimal("-2"), "sale"),
                ],
                reference=Reference("invoice"),
            )
        items = {
            item["sku"]: (item["available"], item["requested"])
            for item in error.value.extra["items"]
        }
        assert items == {"ARZ-1": ("10.000", "11.000"), "OTRO": ("1.000", "2.000")}
        assert error.value.code == "insufficient_stock"
        assert StockMovement.objects.filter(kind="sale").count() == 0
    assert balance(company_a, variant, pdv) == 10


def test_negative_stock_when_the_company_allows_it(company_a, stocked):
    variant, pdv = stocked
    Company.objects.filter(pk=company_a.pk).update(allow_negative_stock=True)
    with tenant_context(company_a), transaction.atomic():
        stock_apply([Movement(variant, pdv, Decimal("-12.5"), "sale")], reference=Reference("x"))
    assert balance(company_a, variant, pdv) == Decimal("-2.5")


def test_services_never_move_stock(company_a, make_product, main_pdv):
    service = make_product(company_a, track_inventory=False)
    with tenant_context(company_a), transaction.atomic():
        variant = Variant.objects.get(product=service)
        assert (
            stock_apply(
                [Movement(variant, main_pdv(company_a), Decimal("-3"), "sale")],
                reference=Reference("invoice"),
            )
            == []
        )
        assert not Stock.objects.exists()


def test_adjustment_by_count_and_by_delta(owner_a, company_a, stocked, make_product):
    variant, pdv = stocked
    with tenant_context(company_a):
        other = Variant.objects.get(
            product=make_product(company_a, sku="B", stock={None: 3}, unit="kg")
        )
    response = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(pdv.id),
            "reason": "count",
            "note": "Inventario de fin de mes",
            "lines": [
                {"variant": str(variant.id), "counted_quantity": "7"},
                {"variant": str(other.id), "delta": "2.5"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "AJ-00001"
    lines = {line["sku"]: line for line in body["lines"]}
    assert (lines["ARZ-1"]["previous_quantity"], lines["ARZ-1"]["delta"]) == ("10.000", "-3.000")
    assert lines["B"]["delta"] == "2.500"
    assert balance(company_a, variant, pdv) == 7
    assert balance(company_a, other, pdv) == Decimal("5.5")
    second = adjust(owner_a, pdv, [{"variant": str(variant.id), "delta": "-1"}], "damage")
    assert second.json()["number"] == "AJ-00002"
    with tenant_context(company_a):
        movement = StockMovement.objects.filter(reference_number="AJ-00002").get()
        assert (movement.kind, movement.reference_type) == ("adjustment", "adjustment")


def test_adjustment_validation(owner_a, company_a, stocked):
    variant, pdv = stocked

    def post(lines, reason="count"):
        return adjust(owner_a, pdv, lines, reason)

    assert post([{"variant": str(variant.id)}]).status_code == 400
    assert (
        post([{"variant": str(variant.id), "delta": "1", "counted_quantity": "1"}]).status_code
        == 400
    )
    assert post([{"variant": str(variant.id), "delta": "0"}]).status_code == 400
    assert post([{"variant": str(variant.id), "delta": "1"}] * 2).status_code == 400
    assert post([{"variant": str(variant.id), "delta": "1"}], reason="whim").status_code == 400
    assert post([]).status_code == 400
    short = post([{"variant": str(variant.id), "delta": "-11"}], reason="loss")
    assert short.status_code == 409 and error_code(short) == "insufficient_stock"
    assert short.json()["error"]["items"][0]["available"] == "10.000"
    # Damage, loss, expiry and internal use only take units out.
    for reason in ("damage", "loss", "expiry", "internal_use"):
        found = post([{"variant": str(variant.id), "delta": "1"}], reason)
        assert found.status_code == 400 and "lines.0" in found.json()["error"]["fields"], reason
    # A loss leaves at its average: a cost typed for it would differ from the kardex's.
    priced_loss = post([{"variant": str(variant.id), "delta": "-2", "unit_cost": "9999"}], "damage")
    assert priced_loss.status_code == 400
    assert "lines.0.unit_cost" in priced_loss.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Adjustment.objects.exists()
    assert balance(company_a, variant, pdv) == 10


def test_who_made_a_document_is_named_by_e_mail_only_to_those_who_see_the_members(
    owner_a, company_a, stocked, client_as
):
    variant, pdv = stocked
    made = adjust(owner_a, pdv, [{"variant": str(variant.id), "delta": "1"}])
    assert made.status_code == 201 and made.json()["user_email"] == owner_a.user.email
    for role, shown in ((Role.ADMIN, owner_a.user.email), (Role.VIEWER, None), (Role.SELLER, None)):
        client = client_as(company_a, role)
        movements = client.get("/api/v1/stock-movements/", {"kind": "adjustment"}).json()
        assert [m["user_email"] for m in movements["results"]] == [shown], role
        if role != Role.SELLER:  # sellers do not read adjustments
            adjustments = client.get("/api/v1/adjustments/").json()["results"]
            assert [a["user_email"] for a in adjustments] == [shown], role


def test_initial_stock_goes_only_to_an_active_point_of_sale(owner_a, company_a):
    with tenant_context(company_a):
        closed = PDV.objects.create(name="Cerrado", code="CER", is_active=False)
    refused = owner_a.post(
        "/api/v1/products/",
        {
            "name": "Arroz",
            "sku": "ARZ-9",
            "price": "1000",
            "initial_stock": [{"pdv": str(closed.id), "quantity": "5"}],
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "initial_stock.0.pdv" in refused.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Variant.objects.filter(sku="ARZ-9").exists()
        assert not StockMovement.objects.filter(pdv=closed).exists()


def test_transfer_moves_stock_at_the_origin_average_cost(owner_a, company_a, stocked):
    variant, pdv = stocked
    norte = owner_a.post("/api/v1/pdvs/", {"name": "Norte", "code": "N1"}, format="json").json()
    response = owner_a.post(
        "/api/v1/transfers/",
        {
            "origin": str(pdv.id),
            "destination": norte["id"],
            "note": "Reposición",
            "lines": [{"variant": str(variant.id), "quantity": "4"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == "TR-00001"
    assert response.json()["lines"][0]["unit_cost"] == "600.000000"
    with tenant_context(company_a):
        destination = PDV.objects.get(pk=norte["id"])
        moves = StockMovement.objects.filter(reference_type="transfer").order_by("quantity")
        assert [(m.kind, m.quantity) for m in moves] == [("transfer_out", -4), ("transfer_in", 4)]
        assert Stock.objects.get(variant=variant, pdv=destination).average_cost == 600
    assert balance(company_a, variant, pdv) == 6
    assert balance(company_a, variant, destination) == 4
    too_much = owner_a.post(
        "/api/v1/transfers/",
        {
            "origin": str(pdv.id),
            "destination": norte["id"],
            "lines": [{"variant": str(variant.id), "quantity": "7"}],
        },
        format="json",
    )
    assert too_much.status_code == 409
    same = owner_a.post(
        "/api/v1/transfers/",
        {
            "origin": str(pdv.id),
            "destination": str(pdv.id),
            "lines": [{"variant": str(variant.id), "quantity": "1"}],
        },
        format="json",
    )
    assert same.status_code == 400
    with tenant_context(company_a):
        assert Transfer.objects.count() == 1


def test_kardex_has_the_running_balance_and_value(owner_a, company_a, stocked):
    variant, pdv = stocked
    with tenant_context(company_a), transaction.atomic():
        stock_apply(
            [Movement(variant, pdv, Decimal("10"), "purchase", Decimal("800"))],
            reference=Reference("bill", None, "FC-9"),
        )
        stock_apply(
            [Movement(variant, pdv, Decimal("-5"), "sale")],
            reference=Reference("invoice", None, "FV-3"),
        )
    rows = owner_a.get("/api/v1/kardex/", {"variant": str(variant.id), "pdv": str(pdv.id)}).json()[
        "results"
    ]
    assert [
        (r["kind"], r["quantity"], r["balance_after"], r["average_cost_after"], r["value_after"])
        for r in rows
    ] == [
        ("initial", "10.000", "10.000", "600.000000", "6000.00"),
        ("purchase", "10.000", "20.000", "700.000000", "14000.00"),
        ("sale", "-5.000", "15.000", "700.000000", "10500.00"),
    ]
    assert rows[1]["reference_number"] == "FC-9"
    assert owner_a.get("/api/v1/kardex/").status_code == 400


def test_stock_list_minimum_and_low_flag(owner_a, company_a, stocked):
    variant, pdv = stocked
    row = owner_a.get("/api/v1/stock/", {"variant": str(variant.id)}).json()["results"][0]
    assert (row["quantity"], row["is_low"], row["value"]) == ("10.000", False, "6000.00")
    updated = owner_a.patch(f"/api/v1/stock/{row['id']}/", {"min_quantity": "12"}, format="json")
    assert updated.json()["is_low"] is True
    assert owner_a.get("/api/v1/stock/", {"low": "true"}).json()["count"] == 1
    quantity_untouched = owner_a.patch(
        f"/api/v1/stock/{row['id']}/", {"quantity": "99", "min_quantity": "1"}, format="json"
    )
    assert quantity_untouched.json()["quantity"] == "10.000"
    assert owner_a.put(f"/api/v1/stock/{row['id']}/", {}, format="json").status_code == 405


def test_stock_movements_ledger_is_cursor_paginated(owner_a, company_a, stocked):
    variant, pdv = stocked
    for _ in range(3):
        owner_a.post(
            "/api/v1/adjustments/",
            {
                "pdv": str(pdv.id),
                "reason": "correction",
                "lines": [{"variant": str(variant.id), "delta": "1"}],
            },
            format="json",
        )
    page = owner_a.get("/api/v1/stock-movements/", {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert page["results"][0]["balance_after"] == "13.000"
    rest = owner_a.get(page["next"]).json()
    assert [r["balance_after"] for r in rest["results"]] == ["11.000", "10.000"]
    kinds = owner_a.get("/api/v1/stock-movements/", {"kind": "initial"}).json()["results"]
    assert len(kinds) == 1


@pytest.mark.parametrize("role", ALL_ROLES)
def test_inventory_roles(company_a, client_as, stocked, role):
    variant, pdv = stocked
    client = client_as(company_a, role)
    allowed = role in BACK_OFFICE
    for url in (
        "/api/v1/stock/",
        "/api/v1/stock-movements/",
        "/api/v1/adjustments/",
        "/api/v1/transfers/",
    ):
        assert client.get(url).status_code == 200
    assert client.get("/api/v1/kardex/", {"variant": str(variant.id)}).status_code == 200
    adjusted = client.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(pdv.id),
            "reason": "count",
            "lines": [{"variant": str(variant.id), "counted_quantity": "9"}],
        },
        format="json",
    )
    assert adjusted.status_code == (201 if allowed else 403)
    norte = (
        client_as(company_a, Role.OWNER)
        .post("/api/v1/pdvs/", {"name": "N", "code": "N"}, format="json")
        .json()
    )
    moved = client.post(
        "/api/v1/transfers/",
        {
            "origin": str(pdv.id),
            "destination": norte["id"],
            "lines": [{"variant": str(variant.id), "quantity": "1"}],
        },
        format="json",
    )
    assert moved.status_code == (201 if allowed else 403)
    stock_row = client.get("/api/v1/stock/").json()["results"][0]
    minimum = client.patch(
        f"/api/v1/stock/{stock_row['id']}/", {"min_quantity": "1"}, format="json"
    )
    assert minimum.status_code == (200 if allowed else 403)
    assert balance(company_a, variant, pdv) == (8 if allowed else 10)


def test_cross_tenant_ids_in_inventory_payloads_change_nothing(
    owner_a, company_a, company_b, stocked, make_product, main_pdv
):
    variant, pdv = stocked
    variant_b = make_product(company_b, sku="B-1", stock={None: 5}).variants
    with tenant_context(company_b):
        variant_b = variant_b.get()
    pdv_b = main_pdv(company_b)
    attempts = [
        (
            "/api/v1/adjustments/",
            {
                "pdv": str(pdv.id),
                "reason": "count",
                "lines": [{"variant": str(variant_b.id), "delta": "5"}],
            },
        ),
        (
            "/api/v1/adjustments/",
            {
                "pdv": str(pdv_b.id),
                "reason": "count",
                "lines": [{"variant": str(variant.id), "delta": "5"}],
            },
        ),
        (
            "/api/v1/transfers/",
            {
                "origin": str(pdv.id),
                "destination": str(pdv_b.id),
                "lines": [{"variant": str(variant.id), "quantity": "5"}],
            },
        ),
        (
            "/api/v1/transfers/",
            {
                "origin": str(pdv_b.id),
                "destination": str(pdv.id),
                "lines": [{"variant": str(variant_b.id), "quantity": "5"}],
            },
        ),
    ]
    for url, payload in attempts:
        response = owner_a.post(url, payload, format="json")
        assert response.status_code == 400, (url, payload, response.json())
    with tenant_context(company_a):
        assert not Adjustment.objects.exists() and not Transfer.objects.exists()
    assert balance(company_a, variant, pdv) == 10
    assert balance(company_b, variant_b, pdv_b) == 5
    with tenant_context(company_b):
        stock_b = Stock.objects.get(variant=variant_b)
        adjustment_b = Adjustment.objects.create(number="AJ-X", pdv=pdv_b, reason="count")
    assert owner_a.get(f"/api/v1/stock/{stock_b.id}/").status_code == 404
    assert (
        owner_a.patch(
            f"/api/v1/stock/{stock_b.id}/", {"min_quantity": "3"}, format="json"
        ).status_code
        == 404
    )
    assert owner_a.get(f"/api/v1/adjustments/{adjustment_b.id}/").status_code == 404
    assert owner_a.get("/api/v1/kardex/", {"variant": str(variant_b.id)}).status_code == 400
    assert (
        owner_a.get("/api/v1/stock-movements/", {"variant": str(variant_b.id)}).status_code == 400
    )
    assert owner_a.get("/api/v1/stock/", {"pdv": str(pdv_b.id)}).status_code == 400


def test_check_stock_command_finds_a_balance_that_differs_from_its_ledger(company_a, stocked):
    from django.core.management import CommandError, call_command

    call_command("check_stock")
    variant, pdv = stocked
    with tenant_context(company_a):
        Stock.objects.filter(variant=variant).update(quantity=11)
    with pytest.raises(CommandError, match="1 of 1 stock balances differ"):
        call_command("check_stock")


def test_selling_below_zero_is_costed_at_the_catalogue_cost_every_time(
    company_a, make_product, main_pdv
):
    """A stock with nothing in it has no average: each sale into negative stock leaves at the
    variant's cost, not at an average of 0."""
    Company.objects.filter(pk=company_a.pk).update(allow_negative_stock=True)
    product = make_product(company_a, cost="6000")  # no stock
    pdv = main_pdv(company_a)
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)
        costs = []
        for _sale in range(2):
            with transaction.atomic():
                ledger = stock_apply(
                    [Movement(variant, pdv, Decimal(-1), "sale")], reference=Reference("invoice")
                )
            costs.append(ledger[0].unit_cost)
    assert costs == [Decimal("6000"), Decimal("6000")]


def _variant_of(company, make_product, **fields):
    product = make_product(company, **fields)
    with tenant_context(company):
        return Variant.objects.get(product=product)


def test_stock_values_near_the_columns_limits_are_listed(
    owner_a, company_a, make_product, main_pdv
):
    """A quantity and a cost the columns hold give a value of more than 28 digits, which
    Python's default decimal context cannot round: the stock list, the ledger and the kardex
    answered with an error page, for good (a ledger row is never removed)."""
    variant = _variant_of(company_a, make_product, unit="kg")
    made = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(main_pdv(company_a).id),
            "reason": "correction",
            "lines": [
                {
                    "variant": str(variant.id),
                    "delta": "999999999999999",
                    "unit_cost": "999999999999",
                }
            ],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    stock = owner_a.get("/api/v1/stock/").json()["results"]
    assert [row["value"] for row in stock if row["variant"] == str(variant.id)] == [
        "999999999998999000000000001.00"
    ]
    assert owner_a.get("/api/v1/stock-movements/").status_code == 200
    assert owner_a.get("/api/v1/kardex/", {"variant": str(variant.id)}).status_code == 200


def test_free_goods_that_sold_out_keep_their_average_of_zero(
    owner_a, company_a, make_product, main_pdv
):
    """An average of 0 (goods received free) is a cost like any other, also once they sold
    out: a unit found later enters at 0, not at the catalogue cost (which created value). The
    catalogue cost stands in only for a stock that never took units in."""
    pdv = main_pdv(company_a)
    free = _variant_of(company_a, make_product, cost="0", stock={None: 5}, sku="FREE-1")
    paid = _variant_of(company_a, make_product, cost="700", stock={None: 5}, sku="PAID-1")
    never = _variant_of(company_a, make_product, cost="600", sku="NEW-1")
    with tenant_context(company_a):
        Variant.objects.filter(pk__in=[free.pk, paid.pk]).update(cost=Decimal("600"))
        with transaction.atomic():
            stock_apply(
                [Movement(variant, pdv, Decimal("-5"), "sale") for variant in (free, paid)],
                reference=Reference("invoice", None, "FV-1"),
            )
    found = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(pdv.id),
            "reason": "count",
            "lines": [
                {"variant": str(variant.id), "counted_quantity": "1"}
                for variant in (free, paid, never)
            ],
        },
        format="json",
    )
    assert found.status_code == 201, found.json()
    costs = {line["sku"]: line["unit_cost"] for line in found.json()["lines"]}
    assert costs == {"FREE-1": "0.000000", "PAID-1": "700.000000", "NEW-1": "600.000000"}
