"""Catalog pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import image_views, tax_views, views

urlpatterns = [
    path("products/", views.product_list_view, name="products"),
    path("products/new/", views.product_create_view, name="product-new"),
    path("products/<uuid:pk>/edit/", views.product_edit_view, name="product-edit"),
    path("products/variants/<uuid:pk>/price/", views.variant_price_view, name="variant-price"),
    path("products/variants/<uuid:pk>/stock/", views.variant_stock_view, name="variant-stock"),
    path("products/<uuid:pk>/variants/", views.product_variants_view, name="product-variants"),
    path("products/variants/<uuid:pk>/delete/", views.variant_delete_view, name="variant-delete"),
    path(
        "products/variants/<uuid:pk>/options/",
        views.variant_options_view,
        name="variant-options",
    ),
    path("products/<uuid:pk>/images/", image_views.product_images_view, name="product-images"),
    path(
        "products/<uuid:pk>/images/upload/",
        image_views.product_image_upload_start_view,
        name="product-image-upload",
    ),
    path(
        "products/<uuid:pk>/images/attach/",
        image_views.product_image_attach_view,
        name="product-image-attach",
    ),
    path(
        "products/images/<uuid:pk>/main/",
        image_views.product_image_main_view,
        name="product-image-main",
    ),
    path(
        "products/images/<uuid:pk>/delete/",
        image_views.product_image_delete_view,
        name="product-image-delete",
    ),
    path("categories/", views.category_list_view, name="categories"),
    path("categories/<uuid:pk>/", views.category_update_view, name="category"),
    path("categories/<uuid:pk>/delete/", views.category_delete_view, name="category-delete"),
    path("brands/<uuid:pk>/", views.brand_update_view, name="brand"),
    path("brands/<uuid:pk>/delete/", views.brand_delete_view, name="brand-delete"),
    path("taxes/", tax_views.tax_list_view, name="taxes"),
    path("taxes/<uuid:pk>/", tax_views.tax_edit_view, name="tax"),
    path("taxes/<uuid:pk>/delete/", tax_views.tax_delete_view, name="tax-delete"),
    path("units/<uuid:pk>/", tax_views.unit_edit_view, name="unit"),
    path("units/<uuid:pk>/delete/", tax_views.unit_delete_view, name="unit-delete"),
    path("price-lists/", views.price_list_list_view, name="price-lists"),
    path("price-lists/<uuid:pk>/", views.price_list_detail_view, name="price-list"),
    path("price-lists/<uuid:pk>/edit/", views.price_list_edit_view, name="price-list-edit"),
    path("price-lists/<uuid:pk>/delete/", views.price_list_delete_view, name="price-list-delete"),
    path("price-lists/<uuid:pk>/items/", views.price_list_item_view, name="price-list-item"),
    path(
        "price-lists/<uuid:pk>/items/<uuid:item_pk>/remove/",
        views.price_list_item_remove_view,
        name="price-list-item-remove",
    ),
    path("stock/adjustments/new/", views.stock_adjustment_view, name="stock-adjustment-new"),
    path(
        "stock/adjustments/<uuid:pk>/",
        views.stock_adjustment_detail_view,
        name="stock-adjustment",
    ),
    path("stock/transfers/new/", views.stock_transfer_view, name="stock-transfer-new"),
    path("stock/transfers/<uuid:pk>/", views.stock_transfer_detail_view, name="stock-transfer"),
]
