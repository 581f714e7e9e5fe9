"""The base class of every Celery task.

Tasks take ids plus an explicit `tenant_id` keyword (part of their signature) and run inside `tenant_context(tenant_id)`;
a task declared `tenant_required = True` fails loudly without one. Whatever happens, the task
ends with no tenant set (eager tasks inside a request must not leak theirs into it).
Enqueue with `delay_on_commit` (inherited from Celery's DjangoTask) so that a task never runs
before the data it reads is committed.
"""

from celery.contrib.django.task import DjangoTask

from .tenancy import TenantNotSetError, request_scope, tenant_context


class TenantAwareTask(DjangoTask):
    abstract = True
    tenant_required = False

    def delay_on_commit(self, *args, **kwargs):
        """Publish after the commit through the outbox: a broker outage loses nothing."""
        from .outbox import enqueue_on_commit

        return enqueue_on_commit(self, args, kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options):
        if options:
            raise NotImplementedError("Publishing options are not kept in the outbox.")
        return self.delay_on_commit(*(args or ()), **(kwargs or {}))

    def __call__(self, *args, **kwargs):
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None and self.tenant_required:
            raise TenantNotSetError(f"Task {self.name} needs a tenant_id keyword argument.")
        with request_scope():
            if tenant_id is None:
                return super().__call__(*args, **kwargs)
            with tenant_context(tenant_id):
                return super().__call__(*args, **kwargs)


def purge_idempotency_records() -> int:
    from datetime import timedelta

    from django.utils import timezone

    from .models import IdempotencyRecord
    from .tenancy import cross_tenant

    with cross_tenant():
        deleted, _ = IdempotencyRecord.all_tenants.filter(
            created_at__lt=timezone.now() - timedelta(hours=24)
        ).delete()
    return deleted
