"""Uploading photos, logos and attachments through the pages, and who may download what."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from marketplace.engagements.models import EngagementStatus
from marketplace.extensions import db
from marketplace.files.models import Attachment
from marketplace.messaging.models import Message
from marketplace.storage import storage
from marketplace.tasks.models import ModerationStatus
from tests import factories
from tests.files.images import EXE, PDF, image_bytes


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


# --- photos and logos ---------------------------------------------------------------------------------

def test_a_specialist_uploads_a_photo_shown_on_the_profile(client, freelancer, login_as):
    login_as(freelancer)
    response = client.post("/profile/photo", data={"file": upload(image_bytes("JPEG", (900, 600), exif=True), "me.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(freelancer)
    token = freelancer.avatar_token
    assert token
    served = client.get(f"/avatars/{token}-256.webp")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (256, 256) and not image.getexif()
    assert "immutable" in served.headers["Cache-Control"]
    assert Image.open(io.BytesIO(client.get(f"/avatars/{token}-64.webp").data)).size == (64, 64)
    # Public, like the profile: a logged-out visitor sees it too.
    client.post("/logout")
    assert client.get(f"/avatars/{token}-64.webp").status_code == 200


def test_replacing_and_removing_a_photo_deletes_the_old_files(client, freelancer, login_as):
    login_as(freelancer)
    client.post("/profile/photo", data={"file": upload(image_bytes("PNG"), "a.png")}, content_type="multipart/form-data")
    db.session.refresh(freelancer)
    first = freelancer.avatar_token
    client.post("/profile/photo", data={"file": upload(image_bytes("PNG", colour=(0, 0, 0)), "b.png")},
                content_type="multipart/form-data")
    db.session.refresh(freelancer)
    assert freelancer.avatar_token != first
    assert client.get(f"/avatars/{first}-256.webp").status_code == 404
    second = freelancer.avatar_token
    assert client.post("/profile/photo/remove").status_code == 302
    db.session.refresh(freelancer)
    assert freelancer.avatar_token is None
    assert not storage().exists(f"avatars/{second}-256.webp")
    assert 'data-testid="avatar-initials-' in client.get(f"/freelancers/{freelancer.id}").get_data(as_text=True)


def test_a_renamed_non_image_is_refused_and_nothing_changes(client, business, login_as):
    login_as(business)
    response = client.post("/profile/photo", data={"file": upload(EXE, "logo.png")}, content_type="multipart/form-data",
                           follow_redirects=True)
    assert "Upload a JPEG, PNG, WebP or GIF image." in response.get_data(as_text=True)
    db.session.refresh(business)
    assert business.avatar_token is None


def test_a_photo_over_the_size_limit_is_refused(app, client, freelancer, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "AVATAR_MAX_BYTES", 1000)
    login_as(freelancer)
    response = client.post("/profile/photo", data={"file": upload(image_bytes("PNG", (600, 600)) + b"\0" * 2000, "big.png")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "larger than" in response.get_data(as_text=True)
    db.session.refresh(freelancer)
    assert freelancer.avatar_token is None


def test_avatar_urls_only_serve_avatars(client):
    assert client.get("/avatars/..%2F..%2Fconfig-256.webp").status_code == 404
    assert client.get("/avatars/abcdefghijklmnopqrstuv-100.webp").status_code == 404
    assert client.get("/avatars/abcdefghijklmnopqrstuv-256.webp").status_code == 404


# --- message attachments ------------------------------------------------------------------------------

def switch(client, login_as, user):
    client.post("/logout")
    return login_as(user)


def send(client, thread, body: str, data: bytes | None = None, name: str = "file"):
    form = {"body": body}
    if data is not None:
        form["attachment"] = upload(data, name)
    return client.post(f"/messages/{thread.id}", data=form, content_type="multipart/form-data")


def test_a_pdf_on_a_message_reaches_only_the_two_parties_and_operators(client, thread, business, freelancer,
                                                                        login_as, login_operator):
    login_as(freelancer)
    assert send(client, thread, "The script, as promised.", PDF, "call-script.pdf").status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert attachment.content_type == "application/pdf" and attachment.filename == "call-script.pdf"
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert f'href="/files/{attachment.id}"' in page

    switch(client, login_as, business)
    response = client.get(f"/files/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith('attachment; filename="call-script.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    switch(client, login_as, factories.create_business())
    assert client.get(f"/files/{attachment.id}").status_code == 404
    switch(client, login_as, factories.create_freelancer())
    assert client.get(f"/files/{attachment.id}").status_code == 404
    client.post("/logout")
    assert client.get(f"/files/{attachment.id}").status_code in (302, 401)

    client.post("/logout")
    login_operator(factories.create_operator())
    assert client.get(f"/files/{attachment.id}").status_code == 200


def test_an_attached_image_is_previewed_and_opens_inline(client, thread, business, freelancer, login_as):
    login_as(business)
    assert send(client, thread, "", image_bytes("PNG", (1000, 500)), "dashboard.png").status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert attachment.is_image and (attachment.width, attachment.height) == (1000, 500)
    switch(client, login_as, freelancer)
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert f'src="/files/{attachment.id}/preview"' in page
    preview = client.get(f"/files/{attachment.id}/preview")
    assert preview.status_code == 200 and Image.open(io.BytesIO(preview.data)).size == (320, 160)
    assert client.get(f"/files/{attachment.id}").headers["Content-Disposition"].startswith("inline")


def test_a_renamed_executable_is_refused_and_no_message_is_sent(client, thread, freelancer, login_as):
    login_as(freelancer)
    response = send(client, thread, "See attached", EXE, "notes.txt")
    assert response.status_code == 400
    assert "be attached. We accept" in response.get_data(as_text=True)
    assert db.session.scalar(select(Message)) is None and db.session.scalar(select(Attachment)) is None


def test_the_risk_screen_still_holds_the_text_and_the_file_stays_with_the_sender(client, thread, business,
                                                                                freelancer, login_as):
    login_as(freelancer)
    send(client, thread, "Pay me on PayPal directly and skip the fee", PDF, "invoice.pdf")
    message = db.session.scalar(select(Message))
    assert message.moderation_status == ModerationStatus.PENDING_REVIEW
    attachment = db.session.scalar(select(Attachment))
    assert client.get(f"/files/{attachment.id}").status_code == 200
    switch(client, login_as, business)
    assert client.get(f"/files/{attachment.id}").status_code == 404


def test_an_attachment_over_the_limit_is_refused(app, client, thread, freelancer, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 100)
    login_as(freelancer)
    response = send(client, thread, "big", b"a" * 500, "big.txt")
    assert response.status_code == 400 and "larger than" in response.get_data(as_text=True)
    assert db.session.scalar(select(Message)) is None


# --- delivery attachments -----------------------------------------------------------------------------

def test_a_delivery_carries_a_file_the_business_can_download(client, login_as):
    engagement = factories.create_engagement()
    engagement.status = EngagementStatus.ACTIVE
    db.session.flush()
    login_as(engagement.freelancer)
    response = client.post(f"/engagements/{engagement.id}/deliver",
                           data={"note": "Weekend report attached.", "attachment": upload(b"Saturday: 41 chats\n", "report.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.DELIVERED
    attachment = db.session.scalar(select(Attachment).where(Attachment.engagement_id == engagement.id))
    assert attachment.kind == "text"
    switch(client, login_as, engagement.business)
    page = client.get(f"/engagements/{engagement.id}").get_data(as_text=True)
    assert "Delivered files" in page and "report.txt" in page
    download = client.get(f"/files/{attachment.id}")
    assert download.data == b"Saturday: 41 chats\n" and download.headers["Content-Disposition"].startswith("attachment")
    switch(client, login_as, factories.create_freelancer())
    assert client.get(f"/files/{attachment.id}").status_code == 404


def test_a_refused_delivery_file_leaves_the_engagement_active(client, login_as):
    engagement = factories.create_engagement()
    engagement.status = EngagementStatus.ACTIVE
    db.session.flush()
    login_as(engagement.freelancer)
    response = client.post(f"/engagements/{engagement.id}/deliver",
                           data={"note": "Done", "attachment": upload(EXE, "report.pdf")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "be attached. We accept" in response.get_data(as_text=True)
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.ACTIVE
    assert db.session.scalar(select(Attachment)) is None


def test_file_parts_are_still_refused_on_pages_without_uploads(client, freelancer, login_as):
    login_as(freelancer)
    response = client.post("/profile/edit", data={"headline": upload(b"x", "h.txt")}, content_type="multipart/form-data")
    assert response.status_code == 400
