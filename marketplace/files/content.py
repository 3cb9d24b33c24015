"""What an uploaded file really is, decided from its bytes (the name and the browser's type are ignored).

The allow-list is small on purpose: images (decoded by Pillow), PDF and plain text. Anything
else is refused with a message saying what is accepted.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from marketplace.core.errors import ValidationFailed

# Pillow format -> (content type, extension written)
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp"),
                 "GIF": ("image/gif", "gif")}
# A decoded image larger than this many pixels is refused before it is decoded in full
# (a small file can unpack into gigabytes).
MAX_IMAGE_PIXELS = 40_000_000
ACCEPTED_LABEL = "JPEG, PNG, WebP or GIF images, PDF documents and plain-text files"


@dataclass(frozen=True)
class Sniffed:
    kind: str            # "image", "pdf" or "text"
    content_type: str
    extension: str
    image_format: str | None = None


def sniff_image(data: bytes) -> Sniffed | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationFailed(f"That image is too large ({width}×{height} pixels).", field="file")
            image.verify()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    if fmt not in IMAGE_FORMATS:
        return None
    content_type, extension = IMAGE_FORMATS[fmt]
    return Sniffed("image", content_type, extension, fmt)


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)


def sniff(data: bytes) -> Sniffed:
    """The file's kind from its content, or ValidationFailed naming what is accepted."""
    if not data:
        raise ValidationFailed("That file is empty.", field="file")
    image = sniff_image(data)
    if image is not None:
        return image
    if data.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf", "pdf")
    if _is_text(data):
        return Sniffed("text", "text/plain; charset=utf-8", "txt")
    raise ValidationFailed(f"That type of file can't be attached. We accept {ACCEPTED_LABEL}.", field="file")
