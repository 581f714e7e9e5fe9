from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin

from .models import FileObject


@admin.register(FileObject)
class FileObjectAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "original_name",
        "module",
        "purpose",
        "content_type",
        "size",
        "status",
        "created_at",
    ]
    list_filter = ["tenant", "module", "status"]
    search_fields = ["original_name", "key"]
