"""Learning from confirmations through the running service, as a coordinator meets it:
drop a DEA certificate, approve it over the JSON API with its true fields, drop another of
the same layout and read it back: its values now come from the confirmed one, and say so.

Runs the real `credflow run` on SQLite and on PostgreSQL (the `service` fixture of
tests/test_end_to_end.py).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.spec import fields_for
from tests.support import CORPUS, corpus_labels
from tests.test_end_to_end import Service, service  # noqa: F401  (the running service)

LEARNED = "from 1 confirmed document of this layout"


def confirmed(label: dict[str, Any]) -> dict[str, Any]:
    """The true fields a coordinator confirms: those of the document's type."""
    wanted = set(fields_for(label["doc_type"]))
    return {k: v for k, v in label["fields"].items() if k in wanted}


def drop_and_wait(api: httpx.Client, svc: Service, path: Path) -> dict[str, Any]:
    """Drop a file into the inbox; its detail once it awaits review."""
    shutil.copy(path, svc.data_dir / "inbox" / path.name)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        items = api.get("/api/documents", params={"status": "awaiting_review"}).json()["items"]
        mine = [i for i in items if i["filename"] == path.name]
        if mine:
            detail: dict[str, Any] = api.get(f"/api/documents/{mine[0]['id']}").json()
            return detail
        time.sleep(0.3)
    pytest.fail(f"{path.name} did not reach the review queue")


def test_the_second_document_of_a_layout_is_read_from_the_first(service: Service) -> None:  # noqa: F811
    token = service.cli("token", "create", "coordinator").strip().splitlines()[-1]
    api = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"})
    labels = {d["file"]: d for d in corpus_labels()}
    first, second = labels["doc_0034.pdf"], labels["doc_0074.pdf"]

    detail = drop_and_wait(api, service, CORPUS / first["file"])
    assert all(f["source"] is None for f in detail["fields"].values()), "nothing learned yet"
    approved = api.post(
        f"/api/documents/{detail['id']}/approve",
        json={"doc_type": first["doc_type"], "fields": confirmed(first), "provider_id": None},
    )
    assert approved.status_code == 200, approved.text
    assert set(approved.json()) == {"provider_id", "credential_ids", "provider_created"}
    listed = service.cli("layouts", "list")
    assert "dea_registration" in listed

    detail = drop_and_wait(api, service, CORPUS / second["file"])
    assert detail["doc_type"] == second["doc_type"]
    for name in ("credential_number", "expiration_date", "schedules", "jurisdiction"):
        field = detail["fields"][name]
        assert field["value"] == second["fields"][name], name
        assert field["source"].startswith(LEARNED), (name, field["source"])
