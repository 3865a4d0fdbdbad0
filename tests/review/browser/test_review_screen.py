"""A coordinator's day, in a real browser: sign in, review a scanned nursing licence with
the keyboard alone, fill one field by clicking its word on the page image, approve and go
on; then two coordinators open the same document at once and only one may review it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from models import (
    AuditDetail,
    AuditEvent,
    Credential,
    Document,
    DocumentField,
    DocumentPage,
    User,
)
from tests.review.browser.conftest import KEYBOARD_DOC, PASSWORD, RACE_DOC, LiveApp
from tests.support import corpus_labels

pytestmark = pytest.mark.browser


def label_of(filename: str) -> dict[str, Any]:
    return next(label for label in corpus_labels() if label["file"] == filename)


def sign_in_with_keys(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.keyboard.type(username)  # the user name field has focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/queue*")


def active(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.activeElement;
                   return {tag: el.tagName, name: el.name || '', id: el.id || '',
                           action: el.dataset ? el.dataset.action || '' : '',
                           value: el.value || ''}; }"""
    )


def test_review_a_scan_with_the_keyboard_then_a_click_and_approve(
    live_app: LiveApp, browser: Any, screenshots: Any
) -> None:
    doc_id = live_app.documents[KEYBOARD_DOC]
    label = label_of(KEYBOARD_DOC)
    expected: dict[str, str] = label["fields"]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.extend([m.text] if m.type == "error" else []))

    sign_in_with_keys(page, live_app.url, "alice")
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)
    assert page.locator(f'tr[data-document-id="{doc_id}"]').count() == 1

    page.goto(f"{live_app.url}/review/{doc_id}")
    # looking claims nothing: "Review this document" (focused on arrival) takes it
    page.locator('[data-action="claim"]').wait_for()
    assert active(page)["action"] == "claim"
    page.keyboard.press("Enter")
    page.locator('.review[data-editable="1"]').wait_for()
    image = page.locator('[data-role="page-image"]')
    image.wait_for()
    assert page.evaluate(
        "() => { const i = document.querySelector('[data-role=page-image]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    with live_app.db.session() as s:
        holder = s.scalar(select(Document.claimed_by_id).where(Document.id == doc_id))
        alice = s.scalar(select(User).where(User.username == "alice"))
        assert alice is not None and holder == alice.id  # opening the document claimed it

    # -- keyboard only: put the document type right, then go through the fields -------
    if page.locator("#doc_type").input_value() != label["doc_type"]:
        page.locator("#doc_type").focus()  # (Shift+Tab from the first field lands here too)
        page.keyboard.type("Nursing licence")  # type-ahead in the closed select
        page.wait_for_function(
            "() => document.querySelector('#doc_type').value === 'nursing_license'"
        )
        page.locator("#f-credential_title").wait_for()  # the form followed the new type
        page.keyboard.press("Tab")
    names = page.eval_on_selector_all("#fields .field-value", "els => els.map(e => e.name)")
    assert names == [
        "person_name",
        "credential_number",
        "issuer",
        "jurisdiction",
        "credential_title",
        "issue_date",
        "expiration_date",
        "npi",
    ]

    visited: list[str] = []
    for _ in range(20):
        now = active(page)
        if now["action"] == "approve" or now["tag"] != "INPUT":
            break
        name = now["name"]
        visited.append(name)
        # the focused field's box is highlighted on the page image (when it has one)
        box = page.locator(f'#boxes [data-box-for="{name}"]')
        if box.count():
            assert "box-focus" in (box.get_attribute("class") or "")
        if name == "credential_number":
            # left for the mouse: cleared with the keyboard, filled below by a click
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
        elif name in expected:
            if now["value"] != expected[name]:
                page.keyboard.press("Control+A")
                page.keyboard.type(expected[name])
        else:
            page.keyboard.press("Alt+N")  # not on the document (npi)
            assert page.locator(f'[name="{name}__state"]').input_value() == "absent"
        page.keyboard.press("Enter")
    assert active(page)["action"] == "approve", visited
    # the cursor stops only at fields that need attention, and in the spec's order
    assert visited == [n for n in names if n in visited]

    # Shift+Tab goes back to the field before
    page.locator("#f-issuer").focus()
    page.keyboard.press("Shift+Tab")
    assert active(page)["name"] == "credential_number"

    # Esc undoes an edit; a second Esc leaves the field, and then single keys work: ?
    issuer = page.locator("#f-issuer")
    issuer.focus()
    before = issuer.input_value()
    page.keyboard.type(" and more")
    page.keyboard.press("Escape")
    assert issuer.input_value() == before
    page.keyboard.type("?")  # still in a text field: a question mark is just typed
    assert not page.locator("#help-dialog").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert issuer.input_value() == before and active(page)["tag"] != "INPUT"
    page.keyboard.press("?")
    assert page.locator("#help-dialog").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#help-dialog").is_visible()

    # -- the mouse: click the number where it is printed on the page -----------------
    with live_app.db.session() as s:
        words = s.scalar(
            select(DocumentPage.words).where(
                DocumentPage.document_id == doc_id, DocumentPage.number == 1
            )
        )
        proposed = s.execute(
            select(DocumentField.page, DocumentField.box).where(
                DocumentField.document_id == doc_id, DocumentField.name == "credential_number"
            )
        ).one_or_none()
    machine_box = [proposed[0], *proposed[1]] if proposed and proposed[1] else None
    number_word = next(w for w in words or [] if w[0] == expected["credential_number"])
    page.locator("#f-credential_number").focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    word_box = page.locator("#sheet").bounding_box()
    assert word_box is not None
    x = word_box["x"] + word_box["width"] * (number_word[2] + number_word[4]) / 2
    y = word_box["y"] + word_box["height"] * (number_word[3] + number_word[5]) / 2
    page.mouse.click(x, y)
    assert page.locator("#f-credential_number").input_value() == expected["credential_number"]
    assert active(page)["name"] == "credential_number"  # the caret stayed in the field
    recorded = json.loads(page.locator('[name="credential_number__box"]').input_value())
    assert recorded[0] == 1
    assert recorded[1:] == pytest.approx(number_word[2:6], abs=1e-4)
    page.locator('#boxes [data-box-for="credential_number"]').wait_for()
    for _ in range(3):  # zoom in with the toolbar; the focused box stays in sight
        page.locator('[data-view="zoom-in"]').click()
    assert page.locator("#zoom-level").inner_text() == "200%"
    assert active(page)["name"] == "credential_number"
    page.screenshot(path=str(screenshots / "review-screen.png"))

    # dragging over several words fills the field with all of them; Esc takes it back
    first = next(w for w in words or [] if w[0] == "JOSE")
    last = next(w for w in words or [] if w[0] == "COHEN")
    name_input = page.locator("#f-person_name")
    name_input.focus()
    typed_name = name_input.input_value()
    sheet = page.locator("#sheet").bounding_box()
    assert sheet is not None

    def at(fx: float, fy: float) -> tuple[float, float]:
        return sheet["x"] + sheet["width"] * fx, sheet["y"] + sheet["height"] * fy

    page.mouse.move(*at(first[2] - 0.003, first[3] - 0.003))
    page.mouse.down()
    page.mouse.move(*at(last[4] + 0.003, last[5] + 0.003), steps=8)
    page.mouse.up()
    assert name_input.input_value() == "JOSE JOSEPH COHEN"
    page.keyboard.press("Escape")
    assert name_input.input_value() == typed_name

    # -- Ctrl+Enter approves and opens the next document -----------------------------
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda u: f"/review/{doc_id}" not in u)
    race_id = live_app.documents[RACE_DOC]
    assert page.url.endswith(f"/review/{race_id}")  # the next document, claimed for alice
    page.screenshot(path=str(screenshots / "next-document.png"))
    page.locator('[data-action="skip"]').click()  # give it back for the race below
    page.wait_for_url(lambda u: f"/review/{race_id}" not in u)
    assert not errors, errors

    with live_app.db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.status == "approved"
        assert doc.doc_type == "nursing_license" and doc.reviewed_by_id == alice.id
        credential = s.scalar(select(Credential).where(Credential.document_id == doc_id))
        assert credential is not None
        assert credential.provider_id == doc.provider_id
        assert credential.verified_by_id == alice.id
        assert credential.credential_number == expected["credential_number"]
        assert credential.jurisdiction == expected["jurisdiction"]
        assert str(credential.expiration_date) == expected["expiration_date"]
        assert credential.npi is None  # marked "not on document"
        events = {
            e.note: e
            for e in s.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity_id == doc_id,
                    AuditEvent.action.in_(("field.confirmed", "field.corrected")),
                )
            )
        }
        assert {"person_name", "credential_number", "jurisdiction"} <= set(events)
        assert all(e.actor == "alice" for e in events.values())
        detail = s.get(AuditDetail, events["credential_number"].id)
        assert detail is not None and detail.data["person"] == expected["credential_number"]
        box_event = s.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_id == doc_id, AuditEvent.action == "field.box"
            )
        )
        if (
            machine_box is not None
            and machine_box[0] == 1
            and (machine_box[1:] == pytest.approx(number_word[2:6], abs=1e-4))
        ):
            assert box_event is None  # the machine had found the same words: nothing new
        else:
            assert box_event is not None and box_event.note == "credential_number"
            box_detail = s.get(AuditDetail, box_event.id)
            assert box_detail is not None
            assert box_detail.data["box"] == pytest.approx(number_word[2:6], abs=1e-4)
        approved = s.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_id == doc_id, AuditEvent.action == "document.approved"
            )
        )
        assert approved is not None and approved.actor == "alice"
    context.close()


def test_two_coordinators_race_for_one_document(
    live_app: LiveApp, browser: Any, screenshots: Any
) -> None:
    doc_id = live_app.documents[RACE_DOC]
    contexts = [browser.new_context(viewport={"width": 1280, "height": 860}) for _ in range(2)]
    pages = [c.new_page() for c in contexts]
    for page, name in zip(pages, ("bob", "carol"), strict=True):
        sign_in_with_keys(page, live_app.url, name)

    # both open the document at the same moment
    for page in pages:
        page.evaluate(f"() => {{ window.location.href = '/review/{doc_id}'; }}")
    for page in pages:
        page.wait_for_url(f"**/review/{doc_id}")
        page.locator('[data-action="claim"]').wait_for()
    # and both press "Review this document" at once
    with pages[0].expect_navigation(), pages[1].expect_navigation():
        for page in pages:
            page.evaluate("() => document.querySelector('[data-action=claim]').click()")
    for page in pages:
        page.locator(".review").wait_for()

    editable = [p.locator(".review").get_attribute("data-editable") == "1" for p in pages]
    assert sorted(editable) == [False, True]
    winner, loser = (pages[0], pages[1]) if editable[0] else (pages[1], pages[0])
    winner_name = "bob" if winner is pages[0] else "carol"

    notice = loser.locator('[data-role="claimed-by"]')
    assert winner_name in notice.inner_text()
    assert loser.locator('[data-action="approve"]').is_disabled()
    assert loser.locator('[name="person_name"]').is_disabled()
    loser.screenshot(path=str(screenshots / "claimed-by-someone-else.png"))
    with live_app.db.session() as s:
        holder = s.scalar(
            select(User.username)
            .join(Document, Document.claimed_by_id == User.id)
            .where(Document.id == doc_id)
        )
        assert holder == winner_name

    # the winner rejects it, with a reason
    winner.locator('[data-action="reject"]').click()
    winner.locator("#reject-reason").fill("Duplicate of a licence already on file")
    winner.locator('[data-action="confirm-reject"]').click()
    winner.wait_for_url("**/queue?rejected=*")
    with live_app.db.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.status == "rejected"
        event = s.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_id == doc_id, AuditEvent.action == "document.rejected"
            )
        )
        assert event is not None and event.actor == winner_name
    for c in contexts:
        c.close()
