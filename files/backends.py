"""Two storage backends behind one interface.

* S3/MinIO: django-storages' S3 storage does the server-side work (save, read, head, delete) on
  the internal endpoint; a second boto3 client whose endpoint is the *public* host signs the URLs
  handed to clients, because a SigV4 signature covers the host (MinIO answers
  SignatureDoesNotMatch to a URL signed for `minio:9000` and fetched as `localhost:9000`).
  Signing is a local HMAC: the public host is never contacted.
* Local disk (the embedded default): the same flow with Django-signed, expiring URLs served by
  `files.views`.

Uploads go straight to storage with a presigned POST restricted to one key, one content type and
a size range; nothing passes through the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from django.utils.http import content_disposition_header

UPLOAD_SALT = "ally360.files.upload"
DOWNLOAD_SALT = "ally360.files.download"


class StorageUnavailable(Exception):
    """The object store cannot be reached (network, 5xx)."""


# Celery options of a task that touches the object store: retried with exponential back-off
# (about 1, 2, 4 … 32 s, jittered) while the store is down.
STORAGE_RETRY = {
    "autoretry_for": (StorageUnavailable,),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 6,
}


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str
    head: bytes  # the first bytes, to check the declared type


@dataclass(frozen=True)
class UploadInstructions:
    url: str
    method: str
    fields: dict
    headers: dict


class S3Backend:
    name = "s3"

    @property
    def storage(self):
        return storages["default"]

    @property
    def client(self):
        return self.storage.connection.meta.client

    @property
    def bucket(self) -> str:
        return self.storage.bucket_name

    def _call(self, function, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(*args, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
                raise StorageUnavailable(str(exc)) from exc
            raise
        except BotoCoreError as exc:  # connection refused, timeouts, DNS...
            raise StorageUnavailable(str(exc)) from exc

    def upload_instructions(
        self, *, key: str, content_type: str, max_size: int, expires: int, base_url: str
    ) -> UploadInstructions:
        post = signer().generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_size],
                ["eq", "$key", key],
            ],
            ExpiresIn=expires,
        )
        return UploadInstructions(url=post["url"], method="POST", fields=post["fields"], headers={})

    def promote(self, source: str, target: str) -> bool:
        """Copy an uploaded object to its final key inside the bucket and delete the upload;
        False when nothing was uploaded."""
        copied = self._call(
            self.client.copy_object,
            Bucket=self.bucket,
            Key=target,
            CopySource={"Bucket": self.bucket, "Key": source},
        )
        if copied is None:
            return False
        self.delete(source)
        return True

    def info(self, key: str) -> ObjectInfo | None:
        head = self._call(self.client.head_object, Bucket=self.bucket, Key=key)
        if head is None:
            return None
        first = self._call(self.client.get_object, Bucket=self.bucket, Key=key, Range="bytes=0-63")
        return ObjectInfo(
            size=head["ContentLength"],
            content_type=head.get("ContentType", ""),
            head=first["Body"].read() if first else b"",
        )

    def download_url(
        self, *, key: str, filename: str, content_type: str, expires: int, base_url: str
    ) -> str:
        return signer().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition_header(True, filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires,
        )

    def save(self, key: str, content: bytes, content_type: str) -> None:
        self._call(
            self.client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=content,
            ContentType=content_type,
        )

    def read(self, key: str) -> bytes:
        response = self._call(self.client.get_object, Bucket=self.bucket, Key=key)
        if response is None:
            raise FileNotFoundError(key)
        return response["Body"].read()

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=key)

    def ping(self) -> None:
        self._call(self.client.head_bucket, Bucket=self.bucket)


@cache
def _signer(endpoint: str, access_key: str, secret_key: str, region: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def signer():
    """The boto3 client that signs client URLs for the public host (never connects)."""
    return _signer(
        settings.S3_PUBLIC_ENDPOINT_URL,
        settings.S3_ACCESS_KEY,
        settings.S3_SECRET_KEY,
        settings.S3_REGION,
    )


class LocalBackend:
    name = "local"

    @property
    def storage(self):
        return storages["default"]

    def _meta_key(self, key: str) -> str:
        return f"{key}.meta.json"

    def upload_instructions(
        self, *, key: str, content_type: str, max_size: int, expires: int, base_url: str
    ) -> UploadInstructions:
        token = signing.dumps({"k": key, "t": content_type, "m": max_size}, salt=UPLOAD_SALT)
        url = urljoin(base_url, reverse("files-local-upload", args=[token]))
        return UploadInstructions(url=url, method="POST", fields={}, headers={})

    def upload_grant(self, token: str) -> dict:
        """What an upload URL's token allows (`k` key, `t` type, `m` most bytes): checked
        before the body is read. Expired: `signing.SignatureExpired`; forged: `BadSignature`."""
        return signing.loads(token, salt=UPLOAD_SALT, max_age=settings.FILE_UPLOAD_EXPIRY)

    def accept_upload(self, grant: dict, uploaded) -> None:
        """The multipart file sent to a URL whose token granted `grant`."""
        if uploaded.size > grant["m"] or uploaded.size < 1:
            raise ValueError("size outside the allowed range")
        # Stored as the signed type, as S3 stores the signed form's Content-Type field and not
        # the type the browser gave the file (Windows calls a .csv file an Excel file).
        self.save(grant["k"], uploaded.read(), grant["t"])

    def promote(self, source: str, target: str) -> bool:
        """Move an uploaded object to its final key; False when nothing was uploaded."""
        if not self.storage.exists(source):
            return False
        meta = json.loads(self.storage.open(self._meta_key(source)).read())
        self.save(target, self.read(source), meta["content_type"])
        self.delete(source)
        return True

    def info(self, key: str) -> ObjectInfo | None:
        if not self.storage.exists(key):
            return None

        meta = json.loads(self.storage.open(self._meta_key(key)).read())
        with self.storage.open(key, "rb") as handle:
            head = handle.read(64)
        return ObjectInfo(size=self.storage.size(key), content_type=meta["content_type"], head=head)

    def download_url(
        self, *, key: str, filename: str, content_type: str, expires: int, base_url: str
    ) -> str:
        token = signing.dumps({"k": key, "n": filename, "t": content_type}, salt=DOWNLOAD_SALT)
        return urljoin(base_url, reverse("files-local-download", args=[token]))

    def open_download(self, token: str):
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=settings.FILE_DOWNLOAD_EXPIRY)
        return self.storage.open(data["k"], "rb"), data["n"], data["t"]

    def save(self, key: str, content: bytes, content_type: str) -> None:
        for name, payload in (
            (key, content),
            (self._meta_key(key), json.dumps({"content_type": content_type}).encode()),
        ):
            if self.storage.exists(name):
                self.storage.delete(name)
            self.storage.save(name, ContentFile(payload))

    def read(self, key: str) -> bytes:
        with self.storage.open(key, "rb") as handle:
            return handle.read()

    def delete(self, key: str) -> None:
        for name in (key, self._meta_key(key)):
            if self.storage.exists(name):
                self.storage.delete(name)

    def ping(self) -> None:
        return None


def backend() -> S3Backend | LocalBackend:
    return S3Backend() if settings.FILE_STORAGE == "s3" else LocalBackend()
