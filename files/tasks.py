from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from ally360.tenancy import cross_tenant

from . import services
from .backends import STORAGE_RETRY
from .models import FileObject


@shared_task
def purge_stale_uploads() -> int:
    """Beat: one job per company holding uploads not confirmed within 24 hours, or files whose
    upload URL has expired with its staging key not yet cleared."""
    stale = Q(
        status=FileObject.Status.PENDING,
        created_at__lt=timezone.now() - services.STALE_AFTER,
    )
    expired = ~Q(status=FileObject.Status.PENDING) & Q(
        upload_cleared=False, created_at__lt=services.upload_urls_expired_before()
    )
    with cross_tenant():
        tenants = list(
            FileObject.all_tenants.filter(stale | expired)
            .order_by()  # the model's ordering would make DISTINCT one row per file
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenants:
        purge_stale_uploads_for_tenant.delay(tenant_id=str(tenant_id))
    return len(tenants)


@shared_task(tenant_required=True, **STORAGE_RETRY)
def purge_stale_uploads_for_tenant(*, tenant_id: str) -> dict:
    return {
        "purged": services.purge_stale_uploads(),
        "cleared": services.clear_expired_upload_keys(),
    }
