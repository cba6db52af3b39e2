"""Recording consent, decided on the customer's machine: asked, granted, denied, stopped."""

from __future__ import annotations

from cobrowse.protocol.recording import RecordingConsent


def test_granted_then_stopped_by_the_customer() -> None:
    consent = RecordingConsent(30)
    prompt = consent.request(10.0)
    assert prompt is not None and prompt.deadline == 40.0 and not consent.recording
    assert consent.request(11.0) is None  # asking twice does not stack prompts
    assert consent.answer(True) == "granted" and consent.recording
    assert consent.stop() == "stopped" and not consent.recording
    assert consent.stop() is None


def test_an_unanswered_prompt_is_denied_never_granted() -> None:
    consent = RecordingConsent(5)
    consent.request(0.0)
    assert consent.expire(4.9) is None
    assert consent.expire(5.0) == "denied" and not consent.recording
    assert consent.answer(True) is None  # too late: nothing is asked any more


def test_denied_then_asked_again() -> None:
    consent = RecordingConsent()
    consent.request(0.0)
    assert consent.answer(False) == "denied"
    assert consent.request(1.0) is not None
