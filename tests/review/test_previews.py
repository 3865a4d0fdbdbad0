"""Page previews of text-layer PDF pages are drawn from the stored PDF on request."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ingest.intake import Intake
from ingest.tasks import ProcessOptions, process_document
from models import Database, StoreLayout
from tests.ingest.helpers import make_text_pdf
from tests.review.test_api_support import add_users, client_as, make_app


def test_a_text_page_preview_is_drawn_from_the_pdf(db: Database, tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path)
    pdf = make_text_pdf(tmp_path / "in" / "licence.pdf", 1, pages=2)
    doc_id = Intake(db, layout).take_file(pdf, hint=None, remove=False).document_id
    assert process_document(db, layout, doc_id, ProcessOptions()).status == "awaiting_review"
    add_users(db)
    client = client_as(make_app(db, tmp_path), "coordinator")

    image = client.get(f"/documents/{doc_id}/pages/2.png")

    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "no-store"
    out = tmp_path / "page-2.png"
    out.write_bytes(image.content)
    with Image.open(out) as img:  # a letter page at page_image_dpi (110): 935 x 1210
        assert abs(img.width - 935) <= 2 and abs(img.height - 1210) <= 2
        assert img.convert("L").getextrema()[0] < 60  # the text is drawn, not a blank page
    assert client.get(f"/documents/{doc_id}/pages/3.png").status_code == 404
    assert (
        client_as(make_app(db, tmp_path), None)
        .get(f"/documents/{doc_id}/pages/1.png", follow_redirects=False)
        .status_code
        == 303
    )
