from celery import shared_task

from files.backends import StorageUnavailable

from . import services
from .models import ProductImage


@shared_task(
    tenant_required=True,
    autoretry_for=(StorageUnavailable,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=6,
)
def product_image_thumbnail(image_id: str, *, tenant_id: str) -> str:
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:  # removed meanwhile
        return "gone"
    services.product_image_make_thumbnail(image=image)
    return "done"
