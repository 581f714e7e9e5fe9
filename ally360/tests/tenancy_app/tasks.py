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
