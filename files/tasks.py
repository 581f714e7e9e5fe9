from celery import shared_task
from django.utils import timezone

from ally360.tenancy import cross_tenant

from . import services
from .backends import STORAGE_RETRY
from .models import FileObject


@shared_task
def purge_stale_uploads() -> int:
    """Beat: one job per company holding uploads not confirmed within 24 hours."""
    cutoff = timezone.now() - services.STALE_AFTER
    with cross_tenant():
        tenants = list(
            FileObject.all_tenants.filter(status=FileObject.Status.PENDING, created_at__lt=cutoff)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenants:
        purge_stale_uploads_for_tenant.delay(tenant_id=str(tenant_id))
    return len(tenants)


@shared_task(tenant_required=True, **STORAGE_RETRY)
def purge_stale_uploads_for_tenant(*, tenant_id: str) -> int:
    return services.purge_stale_uploads()
