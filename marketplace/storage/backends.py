"""Storage backends: put / get / delete / exists by key."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, current_app

# Keys are paths of short safe segments: no "..", no absolute paths, nothing a filesystem or
# an S3 console would read differently.
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:/[A-Za-z0-9_-]+)*(?:\.[a-z0-9]{1,5})?$")


class StoredFileMissing(LookupError):
    """No file is stored under this key."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > 200 or not KEY_PATTERN.match(key) or ".." in key:
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Storage:
    """What every backend offers. Values are bytes: uploads are small (see UPLOAD_MAX_BYTES)."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        try:
            self.get(key)
        except StoredFileMissing:
            return False
        return True


class LocalStorage(Storage):
    """Files under one directory (default instance/uploads), never inside the static folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise ValueError(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)   # readers never see half a file

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as error:
            raise StoredFileMissing(key) from error

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage(Storage):
    """An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, …) through boto3.

    Objects are private; the app serves them after its own authorization check.
    """

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, access_key: str | None = None, secret_key: str | None = None,
                 client=None):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        if client is None:
            import boto3   # only production installs need it configured
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                  aws_access_key_id=access_key, aws_secret_access_key=secret_key)
        self.client = client

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StoredFileMissing(key) from error
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def build_storage(config) -> Storage:
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3Storage(config["S3_BUCKET"], prefix=config.get("S3_PREFIX") or "",
                         endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("S3_REGION"),
                         access_key=config.get("S3_ACCESS_KEY_ID"), secret_key=config.get("S3_SECRET_ACCESS_KEY"))
    if backend != "local":
        raise RuntimeError(f"unknown STORAGE_BACKEND {backend!r} (local or s3)")
    return LocalStorage(config.get("UPLOADS_DIR") or Path(current_app.instance_path) / "uploads")


def init_storage(app: Flask) -> None:
    with app.app_context():
        app.extensions["storage"] = build_storage(app.config)


def storage() -> Storage:
    return current_app.extensions["storage"]
