"""Lock-order tests on PostgreSQL: one transaction holds a lock, another connection comes to
wait for it, and what a third can lock meanwhile shows what the waiting one already holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

from ally360.tenancy import tenant_context


def waits_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        found = cursor.fetchone()
    return found is not None and found[0] == "Lock"


def while_blocked(company, hold: Callable, blocked: Callable, probe: Callable) -> tuple:
    """`hold()` runs in a transaction of `company` kept open; `blocked()` then runs on another
    connection and must come to wait for a lock `hold` took; once it waits, `probe()` runs here.
    Returns what `probe()` answered and, once the hold's transaction ended, what `blocked()`
    did."""
    holding, release, waiter = threading.Event(), threading.Event(), {}

    def keep():
        try:
            with tenant_context(company), transaction.atomic():
                hold()
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def wait():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                waiter["pid"] = cursor.fetchone()[0]
            waiter["answer"] = blocked()
        finally:
            connection.close()

    threads = [threading.Thread(target=keep), threading.Thread(target=wait)]
    threads[0].start()
    assert holding.wait(timeout=30)
    threads[1].start()
    try:
        deadline = time.monotonic() + 30
        while not (waiter.get("pid") and waits_for_a_lock(waiter["pid"])):
            assert time.monotonic() < deadline, "it never waited for the held lock"
            time.sleep(0.02)
        probed = probe()
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    return probed, waiter.get("answer")
