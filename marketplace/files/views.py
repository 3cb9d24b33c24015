"""Serving uploads (never as static files) and changing one's photo or logo."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import DomainError
from marketplace.core.requests import accepts_files
from marketplace.extensions import db
from marketplace.files import attachments, avatars
from marketplace.files.images import AVATAR_SIZES
from marketplace.storage import StoredFileMissing, storage

bp = Blueprint("files", __name__)
bp.add_app_template_global(avatars.initials, "avatar_initials")
# The engagement page's panel (templates/_partials/delivery_files.html); the page has authorized the viewer.
bp.add_app_template_global(attachments.on_delivery, "delivery_files")


def read_upload(field: str = "file") -> tuple[bytes, str | None] | None:
    """The bytes and the name of an uploaded file, or None when the field was left empty."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    return upload.read(), upload.filename


@bp.get("/avatars/<token>-<int:size>.webp")
def avatar(token: str, size: int):
    if size not in AVATAR_SIZES or not avatars.TOKEN_PATTERN.match(token):
        abort(404)
    try:
        data = storage().get(avatars.avatar_key(token, size))
    except StoredFileMissing:
        abort(404)
    response = Response(data, mimetype="image/webp")
    # The token changes with every upload, so a rendition never changes under its URL.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _profile_edit():
    return redirect(url_for("profiles.edit"))


@bp.post("/profile/photo")
@login_required
@accepts_files("file")
def upload_avatar():
    from marketplace.files.forms import AvatarForm
    form = AvatarForm()
    upload = read_upload() if form.validate_on_submit() else None
    what = "logo" if current_user.is_business else "photo"
    if upload is None:
        flash(f"Choose an image file for your {what}.", "danger")
        return _profile_edit()
    try:
        old = avatars.set_avatar(current_user, upload[0], current_app.config["AVATAR_MAX_BYTES"])
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _profile_edit()
    avatars.discard_avatar(old)
    flash(f"Your {what} is saved.", "success")
    return _profile_edit()


@bp.post("/profile/photo/remove")
@login_required
def remove_avatar():
    from marketplace.files.forms import AvatarRemoveForm
    if not AvatarRemoveForm().validate_on_submit():
        abort(400)
    old = avatars.remove_avatar(current_user)
    db.session.commit()
    avatars.discard_avatar(old)
    flash("Removed. Your initials are shown instead.", "success")
    return _profile_edit()


def _download_headers(response: Response, filename: str, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    response.headers["Content-Disposition"] = (f'{disposition}; filename="{ascii_name}"; '
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # The site-wide Content-Security-Policy (no inline script) applies to files opened in the browser too;
    # only re-encoded images are ever served inline.
    return response


@bp.get("/files/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = attachments.get_for_download(current_user, attachment_id)
    response = Response(attachments.read(attachment), content_type=attachment.content_type)
    # Images (re-encoded on upload) may open in the browser; everything else is a download.
    return _download_headers(response, attachment.filename, inline=attachment.is_image)


@bp.get("/files/<int:attachment_id>/preview")
@login_required
def preview(attachment_id: int):
    attachment = attachments.get_for_download(current_user, attachment_id)
    response = Response(attachments.read(attachment, preview=True), mimetype="image/webp")
    return _download_headers(response, attachment.filename.rsplit(".", 1)[0] + "-preview.webp", inline=True)
