"""The signature receivers check: the reference `verify()` is the documented example."""
from __future__ import annotations

import pytest

from marketplace.webhooks import signing

BODY = b'{"data":{"task_id":12},"id":"evt_1","type":"proposal.received"}'


def test_a_receiver_verifies_our_signature():
    header = signing.signature_header(["whsec_current"], 1_700_000_000, BODY)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify(BODY, header, "whsec_current", now=1_700_000_010) == 1_700_000_000


@pytest.mark.parametrize("mutate,error", [
    (lambda h, b: (h, b + b" "), "No signature matches"),                       # body changed on the way
    (lambda h, b: (h.replace("t=1700000000", "t=1700000001"), b), "No signature matches"),  # timestamp changed
    (lambda h, b: ("v1=abc", b), "missing its timestamp"),
])
def test_tampering_is_detected(mutate, error):
    header, body = mutate(signing.signature_header(["whsec_current"], 1_700_000_000, BODY), BODY)
    with pytest.raises(signing.SignatureError, match=error):
        signing.verify(body, header, "whsec_current", now=1_700_000_000)


def test_old_deliveries_are_refused_as_replays():
    header = signing.signature_header(["whsec_current"], 1_700_000_000, BODY)
    with pytest.raises(signing.SignatureError, match="too old"):
        signing.verify(BODY, header, "whsec_current", now=1_700_000_000 + 301)


def test_during_a_rotation_either_secret_verifies():
    header = signing.signature_header(["whsec_new", "whsec_old"], 1_700_000_000, BODY)
    for secret in ("whsec_new", "whsec_old"):
        assert signing.verify(BODY, header, secret, now=1_700_000_000)
    with pytest.raises(signing.SignatureError):
        signing.verify(BODY, header, "whsec_other", now=1_700_000_000)
