"""A DIAN range deleted while a sale takes its first number (threads on PostgreSQL)."""

import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from ally360.exceptions import Conflict
from ally360.tenancy import tenant_context
from conftest import start_thread
from invoices.models import NumberingRange
from invoices.services import number_take, numbering_range_delete


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_range_whose_first_number_a_sale_takes_meanwhile_is_not_deleted(shop_a):
    """The deletion read the range unused; the sale commits its first number first: the
    deletion waits for it, sees the number taken and refuses (409 `in_use`)."""
    company, pdv = shop_a.company, shop_a.pdv
    with tenant_context(company):
        stale = NumberingRange.objects.get(pdv=pdv, document_type="pos", is_active=True)
    assert stale.next_number == stale.range_from
    taken, box = threading.Event(), {}

    def sell():
        with tenant_context(company), transaction.atomic():
            number = number_take(pdv=pdv, document_type="pos", on_date=timezone.localdate())
            taken.set()
            time.sleep(1.5)
        return number.number

    def delete():
        assert taken.wait(10)
        with tenant_context(company), transaction.atomic():
            numbering_range_delete(numbering=stale)
        return "deleted"

    first, second = start_thread(sell, box, "sell"), start_thread(delete, box, "delete")
    first.join(30)
    second.join(30)
    assert box["sell"] == stale.range_from, box
    assert isinstance(box["delete"], Conflict) and box["delete"].code == "in_use", box
    with tenant_context(company):
        assert NumberingRange.objects.filter(pk=stale.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_stores_loading_one_prefix_at_once_cannot_overlap(shop_a, monkeypatch):
    """Both loads found no overlap before either wrote: two ranges of ZZ 1–100, and every sale
    of the second store then failed (a 500) on a number the first had used. They take turns:
    the second sees the first's range and is refused."""
    import contextlib
    from datetime import date

    from ally360.exceptions import ValidationFailed
    from invoices import services
    from pos.models import PDV

    company = shop_a.company
    with tenant_context(company):
        stores = [PDV.objects.create(name=f"Sede {code}", code=code) for code in ("SUR", "OESTE")]
    both_checked = threading.Barrier(2)
    validate = services._validate_range

    def validate_then_wait(*args, **kwargs):
        validate(*args, **kwargs)
        # Without turns both get here; with them the second waits for the first's commit, so
        # the wait gives up and the first goes on.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)

    monkeypatch.setattr(services, "_validate_range", validate_then_wait)

    def load(pdv):
        with tenant_context(company), transaction.atomic():
            services.numbering_range_create(
                pdv=pdv,
                document_type="invoice",
                prefix="ZZ",
                resolution_number=f"1876{pdv.code}",
                range_from=1,
                range_to=100,
                valid_from=date(2026, 1, 1),
                valid_to=date(2027, 12, 31),
                is_active=False,
            )
        return "loaded"

    box = {}
    threads = [start_thread(lambda store=store: load(store), box, store.code) for store in stores]
    for thread in threads:
        thread.join(30)
    outcomes = sorted(
        "loaded" if result == "loaded" else type(result).__name__ for result in box.values()
    )
    assert outcomes == [ValidationFailed.__name__, "loaded"], box
    with tenant_context(company):
        assert NumberingRange.objects.filter(prefix="ZZ").count() == 1
