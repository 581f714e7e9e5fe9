"""32 threads selling on one point of sale, over HTTP, on PostgreSQL."""

import contextlib
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import Membership
from accounts.tests.factories import UserFactory
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import client_for, error_code
from inventory.models import Stock, StockMovement
from inventory.tests.test_stock_concurrency import run_in_threads
from invoices.models import Invoice, Payment
from pos.models import CashRegister, Shift

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_32_threads_issue_invoices_and_pos_sales_with_gap_free_numbers_and_exact_stock(
    company_a, make_shop
):
    shop = make_shop(company_a, stock=1000)
    clients = []
    for index in range(32):
        user = UserFactory()
        Membership.objects.create(user=user, company=company_a, role=Role.SELLER)
        client = client_for(user, company_a)
        if index % 2:
            with tenant_context(company_a):
                register = CashRegister.objects.create(pdv=shop.pdv, name=f"Caja T{index}")
            opened = client.post(
                "/api/v1/shifts/",
                {"register": str(register.id), "opening_cash": "0"},
                format="json",
            )
            assert opened.status_code == 201
        clients.append(client)

    def sell(index):
        client = clients[index]
        lines = [
            {"variant": shop.v("iva19"), "quantity": "2"},
            {"variant": shop.v("inc8"), "quantity": "1"},
        ]
        if index % 2:
            response = client.post(
                "/api/v1/pos/sales/",
                {"lines": lines, "tenders": [{"method": "cash", "amount": "50000"}]},
                format="json",
            )
            return response.status_code, response.json()["invoice"]["full_number"]
        response = client.post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop.pdv.id),
                "customer": str(shop.customer.id),
                "issue": True,
                "lines": lines,
            },
            format="json",
        )
        return response.status_code, response.json()["full_number"]

    results, errors = run_in_threads(32, sell)
    assert errors == {}
    assert {status for status, _ in results.values()} == {201}
    numbers = [number for _, number in results.values()]
    invoices = sorted(int(n[2:]) for n in numbers if n.startswith("FV"))
    tickets = sorted(int(n[3:]) for n in numbers if n.startswith("PFV"))
    assert invoices == list(range(1, 17))
    assert tickets == list(range(1, 17))
    with tenant_context(company_a):
        assert Invoice.objects.filter(status__in=["open", "paid"]).count() == 32
        assert Payment.objects.count() == 16
        for name, sold in (("iva19", 64), ("inc8", 32)):
            stock = Stock.objects.get(variant=shop.variants[name], pdv=shop.pdv)
            ledger = StockMovement.objects.filter(variant=shop.variants[name]).aggregate(
                total=Sum("quantity")
            )["total"]
            assert stock.quantity == ledger == 1000 - sold


def test_concurrent_retries_with_one_idempotency_key_create_one_invoice(company_a, make_shop):
    shop = make_shop(company_a)
    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    body = {
        "pdv": str(shop.pdv.id),
        "customer": str(shop.customer.id),
        "issue": True,
        "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
    }

    def post(index):
        response = client_for(owner, company_a).post(
            "/api/v1/invoices/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-order"
        )
        return response.status_code, response.json()["id"]

    results, errors = run_in_threads(8, post)
    assert errors == {}
    assert {status for status, _ in results.values()} == {201}
    assert len({invoice_id for _, invoice_id in results.values()}) == 1
    with tenant_context(company_a):
        assert Invoice.objects.count() == 1
        assert Stock.objects.get(variant=shop.variants["iva19"], pdv=shop.pdv).quantity == 99


def _started(call) -> tuple[threading.Thread, dict]:
    """Run `call` in a thread with its own connection; its answer lands in the dict."""
    answer = {}

    def run():
        try:
            answer["response"] = call()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, answer


def _held(monkeypatch, module, name):
    """Replace module.name by a version that stops until released, after saying it was reached."""
    reached, release = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        reached.set()
        release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return reached, release


def _seller_with_open_shift(company, shop):
    user = UserFactory()
    Membership.objects.create(user=user, company=company, role=Role.SELLER)
    seller = client_for(user, company)
    opened = seller.post(
        "/api/v1/shifts/", {"register": str(shop.register.id), "opening_cash": "0"}, format="json"
    )
    assert opened.status_code == 201
    sale = {
        "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
        "tenders": [{"method": "cash", "amount": "11900"}],
    }
    return seller, opened.json()["id"], sale


def test_a_shift_close_waits_for_a_sale_in_progress_and_counts_it(
    company_a, make_shop, monkeypatch
):
    from invoices import services

    shop = make_shop(company_a)
    seller, shift_id, sale = _seller_with_open_shift(company_a, shop)
    reached, release = _held(monkeypatch, services, "number_take")  # after the shift is found
    selling, sold = _started(lambda: seller.post("/api/v1/pos/sales/", sale, format="json"))
    assert reached.wait(20)
    closing, closed = _started(
        lambda: seller.post(
            f"/api/v1/shifts/{shift_id}/close", {"counted": {"cash": "0"}}, format="json"
        )
    )
    closing.join(1)
    assert closing.is_alive()  # the close waits for the sale holding the shift's row
    release.set()
    selling.join(30)
    closing.join(30)

    assert sold["response"].status_code == 201
    assert closed["response"].status_code == 200
    with tenant_context(company_a):
        shift = Shift.objects.get(pk=shift_id)
        cash_in = Payment.objects.filter(shift=shift).aggregate(s=Sum("amount"))["s"]
    assert cash_in == Decimal("11900.00") == shift.expected_cash


def test_a_sale_during_a_shift_close_waits_and_is_refused(company_a, make_shop, monkeypatch):
    from invoices import services

    shop = make_shop(company_a)
    seller, shift_id, sale = _seller_with_open_shift(company_a, shop)
    reached, release = _held(monkeypatch, services, "shift_expected")  # the close holds the row
    closing, closed = _started(
        lambda: seller.post(
            f"/api/v1/shifts/{shift_id}/close", {"counted": {"cash": "0"}}, format="json"
        )
    )
    assert reached.wait(20)
    selling, sold = _started(lambda: seller.post("/api/v1/pos/sales/", sale, format="json"))
    selling.join(1)
    assert selling.is_alive()  # the sale waits for the close
    release.set()
    closing.join(30)
    selling.join(30)

    assert closed["response"].status_code == 200
    assert sold["response"].status_code == 409
    assert error_code(sold["response"]) == "no_open_shift"
    with tenant_context(company_a):
        assert not Payment.objects.filter(shift_id=shift_id).exists()
        assert not Invoice.objects.filter(kind=Invoice.Kind.POS).exists()


def test_a_cash_payment_during_a_shift_close_waits_and_is_refused(
    company_a, make_shop, monkeypatch
):
    """The cashier's cash payment on an invoice waits for the close of their shift; the shift
    it waited for is closed by then, so the payment is refused (before, it was recorded with
    no shift at all: cash in no drawer's count)."""
    from invoices import services

    shop = make_shop(company_a)
    seller, shift_id, _sale = _seller_with_open_shift(company_a, shop)
    invoice = seller.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop.pdv.id),
            "customer": str(shop.customer.id),
            "issue": True,
            "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
        },
        format="json",
    ).json()
    reached, release = _held(monkeypatch, services, "shift_expected")  # the close holds the row
    closing, closed = _started(
        lambda: seller.post(
            f"/api/v1/shifts/{shift_id}/close", {"counted": {"cash": "0"}}, format="json"
        )
    )
    assert reached.wait(20)
    paying, paid = _started(
        lambda: seller.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            {"method": "cash", "amount": "11900"},
            format="json",
        )
    )
    paying.join(1)
    assert paying.is_alive()  # the payment waits for the close
    release.set()
    closing.join(30)
    paying.join(30)

    assert closed["response"].status_code == 200
    assert paid["response"].status_code == 409
    assert error_code(paid["response"]) == "no_open_shift"
    with tenant_context(company_a):
        assert not Payment.objects.exists()


def test_two_invoices_issued_at_once_to_one_customer_keep_within_its_credit_limit(
    company_a, make_shop, monkeypatch
):
    """Each issue alone fits under the limit, both do not. The first holds the customer's row
    until it commits (the second waits at the gate until then), so the second counts it and
    is refused: the customer never owes more than the limit."""
    from contacts.models import Contact
    from invoices import services as invoice_services

    shop = make_shop(company_a)
    with tenant_context(company_a):
        Contact.objects.filter(pk=shop.customer.pk).update(credit_limit=Decimal("30000"))
    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    clients = [client_for(owner, company_a), client_for(owner, company_a)]
    drafts = []
    for client in clients:
        created = client.post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop.pdv.id),
                "customer": str(shop.customer.id),
                "lines": [{"variant": shop.v("iva19"), "quantity": "2"}],  # 23,800
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        drafts.append(created.json()["id"])

    both_past_the_check = threading.Barrier(2)
    take_number = invoice_services.number_take

    def number_take_after_both(*args, **kwargs):
        # Without the customer's lock both get here; with it the second never does while the
        # first waits, so the wait gives up and the first goes on.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_past_the_check.wait(timeout=2)
        return take_number(*args, **kwargs)

    monkeypatch.setattr(invoice_services, "number_take", number_take_after_both)

    def issue(index):
        response = clients[index].post(f"/api/v1/invoices/{drafts[index]}/issue")
        return response.status_code, response.json().get("error", {}).get("code")

    results, errors = run_in_threads(2, issue)
    assert errors == {}, errors
    assert sorted(status for status, _code in results.values()) == [200, 409], results
    assert {code for status, code in results.values() if status == 409} == {"credit_limit_exceeded"}
    with tenant_context(company_a):
        owed = Invoice.objects.filter(status="open").aggregate(s=Sum("balance"))["s"]
    assert owed == Decimal("23800.00")


def test_issuers_that_find_the_range_used_up_switch_to_the_next_resolution_once(
    company_a, make_shop
):
    """Eight issues at once find the range in use used up: the first switches to the next
    resolution (loaded inactive), the others wait for it and number from it; numbers stay
    consecutive and one range is active."""
    from datetime import timedelta

    from django.utils import timezone

    from invoices.models import NumberingRange
    from invoices.services import numbering_range_create

    shop = make_shop(company_a)
    today = timezone.localdate()
    with tenant_context(company_a):
        NumberingRange.objects.filter(prefix="FV").update(next_number=1001)  # used up
        successor = numbering_range_create(
            pdv=shop.pdv,
            document_type="invoice",
            resolution_number="18760000NEW",
            prefix="FN",
            range_from=1,
            range_to=1000,
            valid_from=today,
            valid_to=today + timedelta(days=365),
            is_active=False,
        )
        # Loaded the day before, for today.
        NumberingRange.objects.filter(pk=successor.pk).update(
            created_at=timezone.now() - timedelta(days=1)
        )
    owner = Membership.objects.get(company=company_a, role=Role.OWNER).user
    clients = [client_for(owner, company_a) for _ in range(8)]

    def issue(index):
        response = clients[index].post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop.pdv.id),
                "customer": str(shop.customer.id),
                "issue": True,
                "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
            },
            format="json",
        )
        return response.status_code, response.json().get("full_number")

    results, errors = run_in_threads(8, issue)
    assert errors == {}, errors
    assert {status for status, _number in results.values()} == {201}, results
    assert sorted(int(number[2:]) for _status, number in results.values()) == list(range(1, 9))
    with tenant_context(company_a):
        active = NumberingRange.objects.filter(document_type="invoice", is_active=True)
        assert [(r.prefix, r.next_number) for r in active] == [("FN", 9)]


def test_an_issue_under_a_credit_limit_and_a_pos_sale_of_the_same_item_both_go_through(
    company_a, make_shop, monkeypatch
):
    """A POS sale to customer C holds its stock rows and checks its invoice's foreign key on C
    at commit (FOR KEY SHARE); an issue on credit to C meanwhile holds C for its credit limit
    and waits for the same stock row. A plain FOR UPDATE on C deadlocked the two (the sale
    failed at commit); the limit's lock is NO KEY, so they go one after the other."""
    import time

    from contacts.models import Contact
    from invoices import services

    shop = make_shop(company_a)
    with tenant_context(company_a):
        Contact.objects.filter(pk=shop.customer.pk).update(credit_limit=Decimal("1000000"))
    owner = client_for(Membership.objects.get(company=company_a, role=Role.OWNER).user, company_a)
    draft = owner.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop.pdv.id),
            "customer": str(shop.customer.id),
            "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert draft.status_code == 201, draft.json()
    seller, _shift_id, sale = _seller_with_open_shift(company_a, shop)
    sale["customer"] = str(shop.customer.id)
    # The sale stops after its stock moved (its stock rows locked), before it commits.
    reached, release = _held(monkeypatch, services, "_payment_record")
    selling, sold = _started(lambda: seller.post("/api/v1/pos/sales/", sale, format="json"))
    assert reached.wait(20)
    issuing, issued = _started(lambda: owner.post(f"/api/v1/invoices/{draft.json()['id']}/issue"))
    time.sleep(1.5)  # the issue holds the customer's row and waits for the stock row
    release.set()
    selling.join(30)
    issuing.join(30)
    assert "response" in sold, "the sale failed at commit"
    assert sold["response"].status_code == 201, sold["response"].json()
    assert issued["response"].status_code == 200, issued["response"].json()
