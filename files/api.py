from django.shortcuts import get_object_or_404
from django.urls import re_path
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ally360.api.serializers import ModelSerializer, Serializer
from ally360.api.viewsets import UUID_PATTERN, ReadOnlyTenantViewSet, TenantViewSet

from . import selectors, services
from .models import FileObject


class FileSerializer(ModelSerializer):
    class Meta:
        model = FileObject
        fields = [
            "id",
            "module",
            "purpose",
            "original_name",
            "content_type",
            "size",
            "status",
            "record_id",
            "confirmed_at",
            "created_at",
        ]
        read_only_fields = fields


class UploadRequestSerializer(Serializer):
    module = serializers.ChoiceField(choices=sorted(services.MODULE_RULES))
    name = serializers.CharField(max_length=255)
    content_type = serializers.CharField(
        max_length=120,
        allow_blank=True,
        help_text="The file's MIME type; empty when unknown. A name ending in .csv makes it "
        "text/csv whatever it says (Windows calls CSV files application/vnd.ms-excel).",
    )
    size = serializers.IntegerField(min_value=1, help_text="Bytes.")


UploadSerializer = inline_serializer(
    "UploadInstructions",
    {
        "url": serializers.URLField(),
        "method": serializers.CharField(),
        "fields": serializers.DictField(
            child=serializers.CharField(),
            help_text="Send these form fields, then the file as `file`.",
        ),
        "headers": serializers.DictField(child=serializers.CharField()),
    },
)


class UploadResponseSerializer(Serializer):
    file = FileSerializer()
    upload = UploadSerializer
    expires_at = serializers.DateTimeField()


class DownloadSerializer(Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(tags=["files"]),
    retrieve=extend_schema(tags=["files"]),
    destroy=extend_schema(tags=["files"]),
)
class FileViewSet(mixins.DestroyModelMixin, ReadOnlyTenantViewSet):
    """Files go straight between the client and storage: ask for an upload URL, send the file
    there (a multipart POST with the returned fields, the file last as `file`), then confirm."""

    model = FileObject
    permission_module = "files"
    serializer_class = FileSerializer
    filterset_fields = ["module", "status", "purpose", "record_id"]
    search_fields = ["original_name"]
    action_permissions = {
        "upload": "write",
        "confirm": "write",
        "download": "read",
        "destroy": "write",
    }

    def base_queryset(self):
        # Files of modules the role cannot read are not there for it (404), like their records.
        return FileObject.objects.filter(module__in=services.modules_allowed(self.role, "read"))

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/")

    @extend_schema(
        request=UploadRequestSerializer, responses={201: UploadResponseSerializer}, tags=["files"]
    )
    @action(detail=False, methods=["post"])
    def upload(self, request):
        data = self.validated_input(UploadRequestSerializer)
        start = services.file_upload_start(
            user=request.user, role=self.role, base_url=self.base_url(), **data
        )
        upload = start.upload
        return Response(
            {
                "file": FileSerializer(start.file).data,
                "upload": {
                    "url": upload.url,
                    "method": upload.method,
                    "fields": upload.fields,
                    "headers": upload.headers,
                },
                "expires_at": start.expires_at,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=FileSerializer, tags=["files"])
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self.output(services.file_upload_confirm(file=self.get_object(), role=self.role))

    @extend_schema(responses=DownloadSerializer, tags=["files"])
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        url, expires_at = services.file_download(file=self.get_object(), base_url=self.base_url())
        return Response({"url": url, "expires_at": expires_at})

    def destroy(self, request, *args, **kwargs):
        services.file_delete_unused(file=self.get_object(), role=self.role)

        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoInputSerializer(Serializer):
    file = serializers.PrimaryKeyRelatedField(
        queryset=FileObject.objects,
        help_text="A confirmed upload of module `company` (jpeg, png or webp).",
    )


class LogoSerializer(Serializer):
    file = FileSerializer(allow_null=True)
    url = serializers.URLField(allow_null=True)


class CompanyLogoView(TenantViewSet):
    """The company logo (printed on invoices): upload it through files/ with module `company`,
    then attach it here."""

    model = FileObject
    permission_module = "company"
    serializer_class = LogoSerializer
    action_permissions = {"retrieve": "read", "set": "write", "remove": "write"}

    def _payload(self, logo):
        url = (
            services.signed_url(logo, base_url=self.request.build_absolute_uri("/"))
            if logo
            else None
        )
        return {"file": FileSerializer(logo).data if logo else None, "url": url}

    @extend_schema(responses=LogoSerializer, tags=["companies"])
    def retrieve(self, request):
        return Response(self._payload(services.company_logo()))

    @extend_schema(request=LogoInputSerializer, responses=LogoSerializer, tags=["companies"])
    def set(self, request):
        data = self.validated_input(LogoInputSerializer)
        return Response(self._payload(services.company_logo_set(**data)))

    @extend_schema(responses={204: None}, tags=["companies"])
    def remove(self, request):
        services.company_logo_remove()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- a record's attachments --------------------------------------------------------------------


class AttachmentInputSerializer(Serializer):
    file = serializers.PrimaryKeyRelatedField(
        queryset=FileObject.objects,
        help_text="A confirmed upload (`files/upload`, then `files/{id}/confirm`) of the "
        "record's module: `invoices`, `bills` or `contacts`.",
    )


class RecordAttachmentViewSet(TenantViewSet):
    """`{records}/{id}/attachments`: the files kept with one record (a bill's scan, a
    contact's RUT). Upload through `files/` with the record's module, then attach here;
    DELETE deletes the file. Each app names its `record_model` and `file_module`; the record
    is found as its own endpoint finds it, so another company's is a 404."""

    model = FileObject
    record_model = None
    file_module = ""
    serializer_class = FileSerializer
    # A record's few files, whole and oldest first: no pages, filters or ordering.
    pagination_class = None
    filter_backends: list = []
    action_permissions = {"list": "read", "create": "write", "destroy": "write"}

    def record(self):
        return get_object_or_404(self.record_model.objects.all(), pk=self.kwargs["record_pk"])

    def check_record(self, record) -> None:
        """The record's own rule for changing its files (e.g. a seller's own invoices)."""

    def base_queryset(self):
        return selectors.record_attachments(module=self.file_module, record_id=self.record().pk)

    @extend_schema(responses=FileSerializer(many=True), tags=["files"])
    def list(self, request, record_pk=None):
        return Response(FileSerializer(self.get_queryset(), many=True).data)

    @extend_schema(
        request=AttachmentInputSerializer, responses={201: FileSerializer}, tags=["files"]
    )
    def create(self, request, record_pk=None):
        record = self.record()  # a record not found is a 404 whatever the body says
        data = self.validated_input(AttachmentInputSerializer)
        self.check_record(record)
        file = services.file_attach(record=record, module=self.file_module, role=self.role, **data)
        return self.output(file, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None}, tags=["files"])
    def destroy(self, request, record_pk=None, pk=None):
        record = self.record()
        attached = selectors.record_attachments(module=self.file_module, record_id=record.pk)
        file = get_object_or_404(attached, pk=pk)
        self.check_record(record)
        services.file_delete_unused(file=file, role=self.role, record=record)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @classmethod
    def urls(cls, prefix: str, name: str) -> list:
        """The two routes of `{prefix}/{id}/attachments`, named `{name}-attachments` and
        `{name}-attachment`."""
        record = rf"^{prefix}/(?P<record_pk>{UUID_PATTERN})/attachments"
        return [
            re_path(
                rf"{record}/?$",
                cls.as_view({"get": "list", "post": "create"}),
                name=f"{name}-attachments",
            ),
            re_path(
                rf"{record}/(?P<pk>{UUID_PATTERN})/?$",
                cls.as_view({"delete": "destroy"}),
                name=f"{name}-attachment",
            ),
        ]
