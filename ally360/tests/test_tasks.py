"""Celery tasks carry their tenant explicitly and never leak it."""

import pytest

from ally360.tenancy import TenantNotSetError, get_current_tenant_id, tenant_context
from ally360.tests.tenancy_app.models import Note
from ally360.tests.tenancy_app.tasks import (
    ATTEMPTS,
    current_tenant,
    failing_in_tenant,
    flaky_note_count,
    note_titles,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(company_a, company_b):
    with tenant_context(company_a):
        Note.objects.create(title="a1")
    with tenant_context(company_b):
        Note.objects.create(title="b1")


def test_a_task_runs_under_the_tenant_it_was_given(notes, company_a, company_b):
    result = note_titles.delay(tenant_id=str(company_a.id)).get()
    assert result == {"tenant": str(company_a.id), "titles": ["a1"]}
    assert note_titles.delay(tenant_id=str(company_b.id)).get()["titles"] == ["b1"]


def test_a_tenant_task_without_a_tenant_fails_loudly(notes):
    with pytest.raises(TenantNotSetError):
        note_titles.apply(kwargs={"tenant_id": None}).get()


def test_an_eager_task_does_not_leak_its_tenant(notes, company_a, company_b):
    with tenant_context(company_b):
        assert note_titles.delay(tenant_id=str(company_a.id)).get()["titles"] == ["a1"]
        assert get_current_tenant_id() == company_b.id
    assert get_current_tenant_id() is None


def test_a_task_without_tenant_id_runs_with_no_tenant_even_inside_a_request(company_a):
    with tenant_context(company_a):
        assert current_tenant.delay().get() is None


def test_a_task_that_raises_leaves_no_tenant_behind(notes, company_a):
    with pytest.raises(RuntimeError):
        failing_in_tenant.apply(kwargs={"tenant_id": str(company_a.id)}, throw=True)
    assert get_current_tenant_id() is None


@pytest.mark.postgres
@pytest.mark.redis
def test_a_retried_task_runs_again_under_the_same_tenant(celery_worker_redis, notes, company_a):
    """A real worker re-queues the task after a transient error: the retry carries the same
    tenant_id, so both attempts see company A and only A's notes."""
    from conftest import wait_for

    ATTEMPTS.clear()
    flaky_note_count.delay(tenant_id=str(company_a.id))
    wait_for(lambda: len(ATTEMPTS) == 2)
    assert [(str(company_a.id), 1), (str(company_a.id), 1)] == ATTEMPTS
    assert get_current_tenant_id() is None


def test_an_outbox_row_of_an_unknown_task_never_holds_back_the_rows_after_it(caplog):
    """A task renamed or removed by a deploy stays in the outbox, counted and logged; the
    sweeper still publishes every other row."""
    from datetime import timedelta

    from ally360.models import TaskOutbox
    from ally360.outbox import publish_pending

    renamed = TaskOutbox.objects.create(task_name="accounts.tasks.renamed_task")
    valid = TaskOutbox.objects.create(task_name="ally360.tasks.purge_idempotency_records")
    assert renamed.pk < valid.pk
    assert publish_pending(older_than=timedelta(0)) == 1
    assert not TaskOutbox.objects.filter(pk=valid.pk).exists()
    stuck = TaskOutbox.objects.get(pk=renamed.pk)
    assert stuck.attempts == 1 and "renamed_task" in stuck.last_error
    assert "renamed_task" in caplog.text


def test_every_beat_entry_names_a_registered_task():
    """A misspelt task in the beat schedule would never run, silently."""
    from django.conf import settings

    from ally360.celery import app

    app.loader.import_default_modules()
    for entry, schedule in settings.CELERY_BEAT_SCHEDULE.items():
        assert schedule["task"] in app.tasks, entry
