"""Quoted text in emails and previews is cut at a word boundary with an ellipsis, never mid-word."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.bidding import services as bidding
from marketplace.core.text import excerpt
from marketplace.extensions import db
from marketplace.outbox.models import OutboxMessage
from tests import factories


def test_excerpt_cuts_at_the_last_word_that_fits_and_adds_an_ellipsis():
    assert excerpt("short note", 40) == "short note"
    cut = excerpt("I have answered billing questions for seven years, mostly in Spanish", 40)
    assert cut == "I have answered billing questions for…" and len(cut) <= 40
    assert excerpt("Supercalifragilisticexpialidocious", 10) == "Supercali…"   # one long word: cut it
    assert excerpt("Line one.\nLine two, and more words here", 20) == "Line one. Line two…"


def test_the_new_proposal_email_quotes_the_cover_note_without_cutting_a_word():
    task = factories.create_task(budget=90_000)
    note = ("I have run bilingual launch-weekend chat queues for three online shops, kept the first reply under "
            "two minutes and wrote the macros the teams still use; happy to start on your dates and to "
            "shadow your team on Friday before the launch.")
    assert len(note) > 200
    bid = bidding.place_bid(factories.create_freelancer(), task, amount=85_000, estimated_hours=None,
                            cover_note=note)
    assert bid.id
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == task.business.email)
                              .order_by(OutboxMessage.id.desc())).first()
    assert mail is not None
    quoted = excerpt(note, 200)
    assert quoted.endswith("…") and quoted in mail.body and note[:200] not in mail.body
