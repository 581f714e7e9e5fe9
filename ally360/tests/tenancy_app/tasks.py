from celery import shared_task

from ally360.tenancy import get_current_tenant_id

from .models import Note


@shared_task(tenant_required=True)
def note_titles(*, tenant_id: str) -> dict:
    return {
        "tenant": str(get_current_tenant_id()),
        "titles": sorted(Note.objects.values_list("title", flat=True)),
    }


@shared_task
def current_tenant() -> str | None:
    tenant = get_current_tenant_id()
    return None if tenant is None else str(tenant)


ATTEMPTS: list = []


@shared_task(bind=True, tenant_required=True, max_retries=2, default_retry_delay=0)
def flaky_note_count(self, *, tenant_id: str) -> dict:
    """Fails on its first run (a transient error); each run records its tenant and what it
    sees of the tenant's notes."""
    ATTEMPTS.append((str(get_current_tenant_id()), Note.objects.count()))
    if len(ATTEMPTS) == 1:
        raise self.retry(exc=ConnectionError("transient"))
    return "done"


@shared_task(tenant_required=True)
def failing_in_tenant(*, tenant_id: str) -> None:
    raise RuntimeError("the task body failed")
