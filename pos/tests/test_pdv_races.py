"""Closing a point of sale and making one main, against shifts and transfers (threads on PostgreSQL)."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models.signals import post_save

from ally360.exceptions import ServiceError
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import start_thread
from pos.models import PDV, CashRegister, Shift
from products.models import Variant


def _opening_a_shift(company, register, user, opened: threading.Event):
    """A thread's work: open a shift on `register`, say so, then hold its transaction a while
    (the other thread's request runs meanwhile)."""
    from pos.services import shift_open

    def work():
        with tenant_context(company), transaction.atomic():
            shift_open(
                register=CashRegister.objects.get(pk=register.pk),
                user=user,
                role=Role.OWNER,
                opening_cash=Decimal("0"),
            )
            opened.set()
            time.sleep(1.5)
        return "opened"

    return work


def _making_main(company, pdv, switched: threading.Event):
    """A thread's work: make `pdv` the main one, say so, then hold its transaction a while."""
    from pos.services import pdv_update

    def work():
        with tenant_context(company), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=pdv.pk), data={"is_main": True})
            switched.set()
            time.sleep(1.5)
        return "main"

    return work


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shift_opened_while_its_pdv_closes_leaves_no_open_shift_at_a_closed_pdv(owner_a, company_a):
    """A shift opened while its point of sale is closed: the opening reads the PDV under a shared
    lock the close waits for, so the close sees the shift (409 `shift_open`) or the opening sees
    the PDV closed; never an open shift at a closed PDV."""
    from pos.services import pdv_create, pdv_update

    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
        register = CashRegister.objects.create(pdv=norte, name="Caja Norte")
    opened, box = threading.Event(), {}

    open_shift = _opening_a_shift(company_a, register, owner_a.user, opened)

    def close():
        opened.wait(10)
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=norte.pk), data={"is_active": False})
        return "closed"

    first = start_thread(open_shift, box, "open")
    second = start_thread(close, box, "close")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        closed = not PDV.objects.get(pk=norte.pk).is_active
        open_there = Shift.objects.filter(register__pdv=norte, status="open").exists()
    assert not (closed and open_there), f"closed PDV with an open shift: {box}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_making_a_pdv_main_during_a_transfer_between_it_and_the_main_never_deadlocks(
    company_a, make_product, main_pdv
):
    """Making Norte main while a transfer between it and the main PDV runs: the switch locks both
    rows in key order, the transfer shares them in key order: one waits, neither deadlocks."""
    from inventory.services import transfer_create
    from pos.services import pdv_create, pdv_update

    product = make_product(company_a, sku="MAIN-RACE", stock={None: 10})
    main = main_pdv(company_a)
    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
        variant = Variant.objects.get(product=product)
    # pdv_update writes Norte first when a field changes, then locks the main; with only
    # is_main it locks the main first, then writes Norte. Pick the order that crosses the
    # transfer's key order.
    norte_first = norte.pk < main.pk
    data = {"is_main": True} if norte_first else {"is_main": True, "name": "Norte 2"}
    switcher, first_write_done, box = {}, threading.Event(), {}

    def pause_after_first_write(sender, instance, **kwargs):
        # Instrumentation only: the switching thread pauses after its first PDV write (the
        # row it locked first), so the transfer takes its first lock meanwhile.
        if threading.get_ident() == switcher.get("id") and not first_write_done.is_set():
            first_write_done.set()
            time.sleep(1.0)

    post_save.connect(pause_after_first_write, sender=PDV, weak=False)

    def switch():
        switcher["id"] = threading.get_ident()
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=norte.pk), data=data)
        return "main"

    def transfer():
        first_write_done.wait(10)
        time.sleep(0.2)
        with tenant_context(company_a), transaction.atomic():
            transfer_create(
                origin=PDV.objects.get(pk=main.pk),
                destination=PDV.objects.get(pk=norte.pk),
                lines=[{"variant": variant, "quantity": Decimal("4")}],
            )
        return "moved"

    try:
        first = start_thread(switch, box, "switch")
        second = start_thread(transfer, box, "transfer")
        first.join(30)
        second.join(30)
    finally:
        post_save.disconnect(pause_after_first_write, sender=PDV)
    assert box == {"switch": "main", "transfer": "moved"}, box


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pdv_made_main_while_it_is_closed_is_never_an_inactive_main(company_a):
    """The close read Norte before it was made main: the rules are checked on the row as it is
    now, so the main PDV is never the one closed."""
    from pos.services import pdv_create, pdv_update

    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
    switched, box = threading.Event(), {}

    make_main = _making_main(company_a, norte, switched)

    def close():
        switched.wait(10)
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=norte, data={"is_active": False})  # loaded before the switch
        return "closed"

    first = start_thread(make_main, box, "main")
    second = start_thread(close, box, "close")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        main = PDV.objects.get(is_main=True)
    assert main.is_active, f"the main PDV is inactive: {box}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pdv_created_main_during_a_switch_is_not_a_500(company_a):
    """A point of sale created main during another switch takes its turn: the last switch wins,
    one main, no error page."""
    from pos.services import pdv_create

    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
    switched, box = threading.Event(), {}

    make_main = _making_main(company_a, norte, switched)

    def create_main():
        switched.wait(10)
        with tenant_context(company_a), transaction.atomic():
            pdv_create(name="Sur", code="SUR", is_main=True)
        return "created"

    first = start_thread(make_main, box, "switch")
    second = start_thread(create_main, box, "create")
    first.join(30)
    second.join(30)
    assert box["switch"] == "main"
    assert box["create"] == "created" or isinstance(box["create"], ServiceError), repr(
        box["create"]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pdv_deleted_while_it_is_made_main_leaves_a_main(company_a):
    """A point of sale deleted while another request makes it main: the delete reads it as it is
    now and refuses (409 `main_pdv`); the company keeps a main one."""
    from pos.services import pdv_create, pdv_delete

    with tenant_context(company_a):
        norte = pdv_create(name="Norte", code="NORTE")
    switched, box = threading.Event(), {}

    make_main = _making_main(company_a, norte, switched)

    def delete():
        switched.wait(10)
        with tenant_context(company_a), transaction.atomic():
            pdv_delete(pdv=norte)  # loaded by the view before the switch committed
        return "deleted"

    first = start_thread(make_main, box, "switch")
    second = start_thread(delete, box, "delete")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        mains = list(PDV.objects.filter(is_main=True).values_list("code", flat=True))
    assert mains, f"no main point of sale left: {box}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_main_switches_and_a_transfer_never_deadlock(company_a, make_product):
    """Two main switches at once and a transfer: switches take turns on the company before locking
    any point of sale, so the second locks the main the first made; nothing deadlocks."""
    from inventory.services import transfer_create
    from pos.services import pdv_create, pdv_update

    with tenant_context(company_a):
        for code in ("N1", "N2", "N3", "N4"):
            pdv_create(name=code, code=code)
        ordered = list(PDV.objects.order_by("pk"))
        if not ordered[-1].is_main:  # the main has the highest key (serially, no race)
            pdv_update(pdv=ordered[-1], data={"is_main": True})
        m2, p = ordered[0], ordered[1]
    product = make_product(company_a, sku="DL-1", stock={m2: 10})
    with tenant_context(company_a):
        from products.models import Variant

        variant = Variant.objects.get(product=product)
    first_switch, box = threading.Event(), {}

    def switch_to_m2():
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=m2.pk), data={"is_main": True})
            first_switch.set()
            time.sleep(1.5)
        return "main"

    def switch_to_p():
        first_switch.wait(10)
        time.sleep(0.2)
        with tenant_context(company_a), transaction.atomic():
            pdv_update(pdv=PDV.objects.get(pk=p.pk), data={"is_main": True})
        return "main"

    def transfer():
        first_switch.wait(10)
        time.sleep(0.5)
        with tenant_context(company_a), transaction.atomic():
            transfer_create(
                origin=PDV.objects.get(pk=m2.pk),
                destination=PDV.objects.get(pk=p.pk),
                lines=[{"variant": variant, "quantity": Decimal("4")}],
            )
        return "moved"

    threads = [
        start_thread(switch_to_m2, box, "switch_m2"),
        start_thread(switch_to_p, box, "switch_p"),
        start_thread(transfer, box, "transfer"),
    ]
    for thread in threads:
        thread.join(30)
    assert box == {"switch_m2": "main", "switch_p": "main", "transfer": "moved"}, box


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shift_opened_while_its_register_is_deactivated(owner_a, company_a, main_pdv):
    """A shift opened while its register is deactivated: both lock the register, so the
    deactivation sees the shift (409 `shift_open`) or the opening sees the register inactive."""
    from pos.services import cash_register_update

    with tenant_context(company_a):
        register = CashRegister.objects.create(pdv=main_pdv(company_a), name="Caja 9")
    opened, box = threading.Event(), {}

    open_shift = _opening_a_shift(company_a, register, owner_a.user, opened)

    def deactivate():
        opened.wait(10)
        with tenant_context(company_a), transaction.atomic():
            cash_register_update(
                register=CashRegister.objects.get(pk=register.pk), data={"is_active": False}
            )
        return "deactivated"

    first = start_thread(open_shift, box, "open")
    second = start_thread(deactivate, box, "deactivate")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        inactive = not CashRegister.objects.get(pk=register.pk).is_active
        open_there = Shift.objects.filter(register=register, status="open").exists()
    assert not (inactive and open_there), f"open shift on an inactive register: {box}"
