"""The storage interface: local disk by default, S3-compatible (tested against moto's in-memory S3)."""
from __future__ import annotations

import pytest

from marketplace.storage import LocalStorage, S3Storage, StoredFileMissing
from marketplace.storage.backends import build_storage


def exercise(backend) -> None:
    backend.put("attachments/2026/11/abc.txt", b"hello", "text/plain")
    assert backend.get("attachments/2026/11/abc.txt") == b"hello"
    assert backend.exists("attachments/2026/11/abc.txt")
    backend.put("attachments/2026/11/abc.txt", b"again", "text/plain")
    assert backend.get("attachments/2026/11/abc.txt") == b"again"
    backend.delete("attachments/2026/11/abc.txt")
    backend.delete("attachments/2026/11/abc.txt")          # a missing file is not an error
    assert not backend.exists("attachments/2026/11/abc.txt")
    with pytest.raises(StoredFileMissing):
        backend.get("attachments/2026/11/abc.txt")


def test_local_storage_round_trip(tmp_path):
    exercise(LocalStorage(tmp_path))
    assert list(tmp_path.rglob("*.part")) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "avatars/../../x", "Avatars/x.png", "a//b",
                                 "avatars/x.png/../../y", "avatars/x y.png", ""])
def test_keys_that_could_escape_or_confuse_are_refused(tmp_path, key):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put(key, b"x", "text/plain")


def test_s3_storage_round_trip_against_moto():
    moto = pytest.importorskip("moto")
    import boto3
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket="uploads")
        backend = S3Storage("uploads", prefix="market", client=client)
        exercise(backend)
        backend.put("avatars/tok-64.webp", b"img", "image/webp")
        stored = client.get_object(Bucket="uploads", Key="market/avatars/tok-64.webp")
        assert stored["ContentType"] == "image/webp"


def test_the_backend_follows_the_configuration(app, tmp_path):
    assert isinstance(build_storage({"STORAGE_BACKEND": "local", "UPLOADS_DIR": str(tmp_path)}), LocalStorage)
    with pytest.raises(RuntimeError, match="S3_BUCKET"):
        build_storage({"STORAGE_BACKEND": "s3"})
    with pytest.raises(RuntimeError, match="unknown STORAGE_BACKEND"):
        build_storage({"STORAGE_BACKEND": "ftp"})
