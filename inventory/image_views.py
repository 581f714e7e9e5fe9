"""A product's images: every role sees them; owners and admins add, reorder the main one and
remove them. The bytes never pass through this server when storage is S3/MinIO: the page's
script asks for an upload URL (`file_upload_start`, as `POST files/upload`), sends the file
there, and posts the file's id here, which attaches it (`product_image_attach`), checking it
as `file_upload_confirm` does once the product is locked — the API's flow and services, so its
limits (jpeg, png or webp up to 5 MB, the content matching what was declared) hold."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ally360.exceptions import ServiceError
from ally360.pages import delete_page, run_service, tenant_page
from files import services as file_services
from files.page_uploads import upload_start_response, use_upload
from products import services as product_services
from products.models import Product, ProductImage

IMAGE_SCOPE = "page product-image"


@require_GET
@tenant_page("catalog", "read")
def product_images_view(request, pk):
    """The product's images in their order, the main one first marked, each shown by its
    thumbnail once made (the original until then) through a short-lived signed URL."""
    product = get_object_or_404(Product, pk=pk)
    images = list(
        ProductImage.objects.filter(product=product)
        .select_related("file", "thumbnail")
        .order_by("position", "created_at")
    )
    base_url = request.build_absolute_uri("/")
    for image in images:
        image.shown_url = file_services.signed_url(image.thumbnail or image.file, base_url=base_url)
    return render(
        request,
        "inventory/product_images.html",
        {
            "product": product,
            "images": images,
            "may_write": request.page.may("catalog", "write"),
            "types": ",".join(sorted(file_services.IMAGE_TYPES)),
        },
    )


@require_POST
@tenant_page("catalog", "write")
def product_image_upload_start_view(request, pk):
    """JSON for the page's script: where to send the file (`file_upload_start`), or the
    refusal's message (a type or size the products module does not take, storage down)."""
    get_object_or_404(Product, pk=pk)
    return upload_start_response(request, "products")


@require_POST
@tenant_page("catalog", "write")
def product_image_attach_view(request, pk):
    """The uploaded file checked and attached (the first image is the main one), once per
    file: a resent form finds the image the first made. A file of another company, one never
    sent or one whose content is not what was declared is refused with a message."""
    product = get_object_or_404(Product, pk=pk)
    return use_upload(
        request,
        modules=("products",),
        use=lambda file, role: product_services.product_image_attach(
            product=product, file=file, confirm_as=role
        ),
        scope=IMAGE_SCOPE,
        key=str(product.pk),
        back=redirect("pages:product-images", pk=product.pk),
        texts={
            "not_found": _("That upload was not found: send the image again."),
            "used": _("This image was already sent: choose it again to add it."),
            "done": _("Image %(name)s added."),
            "again": _("The image was already added."),
        },
    )


@require_POST
@tenant_page("catalog", "write")
def product_image_main_view(request, pk):
    """The image made the product's main one (`product_image_update`), shown on the lists."""
    image = get_object_or_404(ProductImage, pk=pk)
    try:
        run_service(product_services.product_image_update, image=image, data={"is_main": True})
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Main image changed."))
    return redirect("pages:product-images", pk=image.product_id)


@require_POST
@tenant_page("catalog", "write")
def product_image_delete_view(request, pk):
    """The image removed with its thumbnail and stored objects (`product_image_remove`); the
    next one becomes the main one."""
    image = get_object_or_404(ProductImage, pk=pk)
    back = redirect("pages:product-images", pk=image.product_id)
    return delete_page(
        request,
        product_services.product_image_remove,
        image=image,
        done=_("Image removed."),
        gone=back,
        back=back,
    )
