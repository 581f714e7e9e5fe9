"""The local-disk backend's upload and download endpoints (Django-signed, expiring URLs)."""

from django.core import signing
from django.http import FileResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .backends import LocalBackend


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


@csrf_exempt  # authorised by the signed token in the URL, like a presigned S3 POST
@require_POST
def local_upload(request, token: str):
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _error("no_file", "Send the file as the multipart field `file`.", 400)
    try:
        LocalBackend().accept_upload(token, uploaded)
    except signing.SignatureExpired:
        return _error("url_expired", "This upload URL has expired.", 403)
    except signing.BadSignature:
        return _error("url_invalid", "This upload URL is not valid.", 403)
    except ValueError as exc:
        return _error("entity_too_large", str(exc), 400)
    return JsonResponse({"status": "stored"}, status=201)


@require_GET
def local_download(request, token: str):
    try:
        handle, filename, content_type = LocalBackend().open_download(token)
    except signing.SignatureExpired:
        return HttpResponseForbidden("This download URL has expired.")
    except (signing.BadSignature, FileNotFoundError):
        return HttpResponseForbidden("This download URL is not valid.")
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
