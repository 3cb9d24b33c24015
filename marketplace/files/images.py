"""Re-encoding images with Pillow: metadata stripped, orientation applied, sizes bounded."""
from __future__ import annotations

import io

from PIL import Image, ImageOps

from marketplace.core.errors import ValidationFailed
from marketplace.files.content import sniff_image

AVATAR_SIZES = (256, 64)      # square photo / logo and its thumbnail, in pixels
PREVIEW_SIZE = 320            # longest side of an attachment's preview
MIN_AVATAR_SIDE = 32


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    # Applies the camera's rotation, then the image is rebuilt from pixels only: EXIF (GPS,
    # device), ICC profiles and comments do not survive.
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def avatar_renditions(data: bytes) -> dict[int, bytes]:
    """A photo or logo as square WebP images, one per AVATAR_SIZES entry (centre-cropped)."""
    sniffed = sniff_image(data)
    if sniffed is None:
        raise ValidationFailed("Upload a JPEG, PNG, WebP or GIF image.", field="file")
    image = _open(data)
    if min(image.size) < MIN_AVATAR_SIDE:
        raise ValidationFailed(f"That image is too small; use one at least {AVATAR_SIZES[0]} pixels wide.",
                               field="file")
    return {size: _webp(ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)) for size in AVATAR_SIZES}


def reencode_attachment(data: bytes, image_format: str) -> tuple[bytes, bytes, tuple[int, int]]:
    """An attached image re-encoded in its own format without metadata, a WebP preview, its size."""
    image = _open(data)
    out = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=90)
    elif image_format == "WEBP":
        image.save(out, "WEBP", quality=90)
    else:   # PNG, and GIF (its first frame) stored as PNG
        image.save(out, "PNG", optimize=True)
    preview = image.copy()
    preview.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE), Image.Resampling.LANCZOS)
    return out.getvalue(), _webp(preview), image.size
