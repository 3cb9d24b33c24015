"""Faces, files and comparing proposals in a real browser.

A business uploads its logo and posts a task; two specialists (one with a photo) propose; the business
compares the proposal cards (photo or initials, match, rating, empathy, price), messages one of them
with a PDF attached; the specialist downloads it; nobody else can.
"""
from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from tests.e2e.test_core_loop import _sign_up   # signs up and confirms the address through the outbox

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _image(path, colour) -> str:
    out = io.BytesIO()
    Image.new("RGB", (600, 400), colour).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def _upload_avatar(page: Page, base: str, path: str, what: str) -> None:
    page.goto(f"{base}/profile/edit")
    page.locator("#avatar-file").set_input_files(path)
    page.locator("#avatar").get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("main .alert").first).to_contain_text(f"Your {what} is saved.")
    expect(page.locator("#avatar img.avatar")).to_be_visible()


def _propose(page: Page, task_url: str, amount: str, note: str) -> None:
    page.goto(task_url)
    page.locator("#amount").fill(amount)
    page.locator("#cover_note").fill(note)
    page.get_by_role("button", name="Send proposal").click()
    expect(page.locator("main .alert").first).to_contain_text("Proposal sent")


def test_logo_photo_compare_proposals_and_attach_a_file(new_page, live_server: str, approve_held_task, tmp_path):
    unique = uuid.uuid4().hex[:6]
    title = f"Weekend chat cover {unique}"

    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Bea Lindqvist")
    _upload_avatar(business, live_server, _image(tmp_path / "logo.jpg", (59, 47, 122)), "logo")
    business.goto(f"{live_server}/tasks/new")
    business.locator("#title").fill(title)
    business.locator("#description").fill(f"Cover our chat queue on Saturday and Sunday, kindly. Ref {unique}.")
    business.locator("#channel").select_option("chat")
    business.locator("input[name=languages][value=en]").check()
    business.locator("#start_date").fill((date.today() + timedelta(days=5)).isoformat())
    business.locator("#end_date").fill((date.today() + timedelta(days=12)).isoformat())
    business.locator("#budget").fill("900")
    business.locator("#required-0-skill").select_option(label="Zendesk")
    business.get_by_role("button", name="Save and publish").click()
    approve_held_task(title)
    business.reload()
    task_url = business.url
    expect(business.locator("#about-client")).to_contain_text("About the client")

    with_photo = new_page()
    _sign_up(with_photo, live_server, "Work as a support specialist", "Lucía Fernández")
    _upload_avatar(with_photo, live_server, _image(tmp_path / "me.jpg", (200, 120, 80)), "photo")
    _propose(with_photo, task_url, "850", "Eight years of weekend chat support.")

    initials_only = new_page()
    _sign_up(initials_only, live_server, "Work as a support specialist", "Tom Becker")
    _propose(initials_only, task_url, "700", "I know Zendesk inside out.")

    # The business compares the two proposals side by side.
    business.goto(task_url)
    cards = business.locator("#proposals .proposal-card")
    expect(cards).to_have_count(2)
    lucia = cards.filter(has_text="Lucía Fernández")
    tom = cards.filter(has_text="Tom Becker")
    expect(lucia.locator("img.avatar")).to_be_visible()
    expect(tom.locator("span.avatar")).to_have_text("TB")
    for card, price in ((lucia, "$850.00"), (tom, "$700.00")):
        expect(card).to_contain_text(re.compile(r"\d+% match"))
        expect(card).to_contain_text("No reviews yet")
        expect(card).to_contain_text("Empathy not rated yet")
        expect(card).to_contain_text(price)

    # Message Lucía from her card, with a PDF attached.
    lucia.get_by_role("link", name="Message").click()
    expect(business.get_by_role("heading", name=re.compile("Lucía Fernández"))).to_be_visible()
    pdf = tmp_path / "weekend-script.pdf"
    pdf.write_bytes(PDF)
    business.locator("#body").fill("Here is our weekend script, have a look.")
    business.locator("#attachment-file").set_input_files(str(pdf))
    business.get_by_role("button", name="Send").click()
    link = business.locator("[data-testid=attachments] a", has_text="weekend-script.pdf")
    expect(link).to_be_visible()
    file_path = link.get_attribute("href")

    # Lucía sees the business's logo and downloads the file; Tom can't.
    with_photo.goto(f"{live_server}/messages")
    with_photo.get_by_role("link", name=re.compile("Bea Lindqvist")).first.click()
    expect(with_photo.locator(".card-header img.avatar")).to_be_visible()
    response = with_photo.request.get(f"{live_server}{file_path}")
    assert response.status == 200 and response.body() == PDF
    assert response.headers["content-disposition"].startswith('attachment; filename="weekend-script.pdf"')
    assert initials_only.request.get(f"{live_server}{file_path}").status == 404
