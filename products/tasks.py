from celery import shared_task

from files.backends import STORAGE_RETRY

from . import services
from .models import ProductImage


@shared_task(tenant_required=True, **STORAGE_RETRY)
def product_image_thumbnail(image_id: str, *, tenant_id: str) -> str:
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:  # removed meanwhile
        return "gone"
    services.product_image_make_thumbnail(image=image)
    return "done"
