"""The local-disk backend's upload and download endpoints (Django-signed, expiring URLs)."""

from django.core import signing
from django.http import FileResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .backends import LocalBackend

# What a multipart body holds besides the file: its boundaries and part headers.
MULTIPART_OVERHEAD = 64 * 1024


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


@csrf_exempt  # authorised by the signed token in the URL, like a presigned S3 POST
@require_POST
def local_upload(request, token: str):
    # The token first: an anonymous body is not read (nor spooled to disk) for a forged URL,
    # nor one larger than the URL allows.
    backend = LocalBackend()
    try:
        grant = backend.upload_grant(token)
    except signing.SignatureExpired:
        return _error("url_expired", "This upload URL has expired.", 403)
    except signing.BadSignature:
        return _error("url_invalid", "This upload URL is not valid.", 403)
    try:
        sent = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        sent = 0
    if sent > grant["m"] + MULTIPART_OVERHEAD:
        return _error("entity_too_large", "size outside the allowed range", 400)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _error("no_file", "Send the file as the multipart field `file`.", 400)
    try:
        backend.accept_upload(grant, uploaded)
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
