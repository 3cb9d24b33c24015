"""File types are decided from content: a renamed file is what it is."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.core.errors import ValidationFailed
from marketplace.files.attachments import clean_filename
from marketplace.files.content import sniff
from marketplace.files.images import avatar_renditions, reencode_attachment
from tests.files.images import EXE, PDF, image_bytes


@pytest.mark.parametrize("fmt,content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"),
                                              ("GIF", "image/gif")])
def test_images_are_recognised_by_their_bytes(fmt, content_type):
    assert sniff(image_bytes(fmt)).content_type == content_type


def test_pdf_and_text_are_recognised_and_anything_else_refused():
    assert sniff(PDF).kind == "pdf"
    assert sniff("Ticket notes: café ✓\n".encode()).kind == "text"
    for data in (EXE, b"\x00\x01\x02binary", "\x1b[31mterminal escape".encode()):
        with pytest.raises(ValidationFailed, match="can't be attached"):
            sniff(data)
    with pytest.raises(ValidationFailed, match="empty"):
        sniff(b"")


def test_a_truncated_image_is_not_an_image():
    data = image_bytes("PNG")
    with pytest.raises(ValidationFailed):
        sniff(data[:60])


def test_avatar_renditions_are_square_webp_of_the_configured_sizes_without_metadata():
    renditions = avatar_renditions(image_bytes("JPEG", (800, 500), exif=True))
    assert sorted(renditions) == [64, 256]
    for size, blob in renditions.items():
        with Image.open(io.BytesIO(blob)) as image:
            assert image.format == "WEBP" and image.size == (size, size)
            assert not image.getexif()
            assert "exif" not in image.info


def test_an_avatar_must_be_an_image_of_a_useful_size():
    with pytest.raises(ValidationFailed, match="image"):
        avatar_renditions(PDF)
    with pytest.raises(ValidationFailed, match="too small"):
        avatar_renditions(image_bytes("PNG", (10, 10)))


def test_attached_images_are_reencoded_without_metadata_and_get_a_preview():
    data, preview, size = reencode_attachment(image_bytes("JPEG", (1200, 600), exif=True), "JPEG")
    assert size == (1200, 600)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and not image.getexif()
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "WEBP" and max(image.size) == 320


@pytest.mark.parametrize("name,ext,expected", [
    ("report.pdf", "pdf", "report.pdf"),
    ("invoice.pdf.exe", "pdf", "invoice.pdf.pdf"),
    ("../../etc/passwd", "txt", "passwd.txt"),
    ("C:\\Users\\me\\shot.png", "png", "shot.png"),
    ('quo"te<script>.png', "png", "quo_te_script.png"),
    ("", "txt", "file.txt"),
])
def test_download_names_are_cleaned_and_carry_the_real_extension(name, ext, expected):
    assert clean_filename(name, ext) == expected
