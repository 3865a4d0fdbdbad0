"""The whole path, as a coordinator meets it: start credflow, drop a scan and a text PDF into
the inbox, watch them reach the review queue, approve one, find the credential.

Runs the real `credflow run` (watcher, worker processes, web app) on a temporary folder,
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from models import Credential, Database, Document, DocumentStatus
from tests.support import corpus_file, corpus_labels

CREDFLOW = [sys.executable, "-m", "credflow.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[str]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [*CREDFLOW, *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> Iterator[Service]:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {**os.environ, "CREDFLOW_DATABASE_URL": db_url, "CREDFLOW_WORKERS": "2"}
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen(
        [*CREDFLOW, "run", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "service.log").read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        pytest.fail("credflow run did not answer /healthz within 90 s")
    yield Service(url, data_dir, env, process)
    process.send_signal(signal.SIGTERM)
    try:
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        code = process.wait(timeout=30)
        assert code in (0, -signal.SIGTERM), (tmp_path / "service.log").read_text()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


def test_scan_and_pdf_reach_the_queue_and_one_is_approved(service: Service, db_url: str) -> None:
    startup = (service.data_dir.parent / "service.log").read_text()
    assert str(service.data_dir / "inbox") in startup, "the inbox folder is printed on start"

    token = service.cli("token", "create", "coordinator").strip().splitlines()[-1]
    api = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"})
    assert httpx.get(f"{service.url}/api/documents").status_code == 401

    scan = corpus_file("scan", "medical_license")
    pdf = corpus_file("pdf_text", "board_certification")
    labels = {d["file"]: d for d in corpus_labels()}
    for f in (scan, pdf):
        shutil.copy(f, service.data_dir / "inbox" / f.name)

    deadline = time.monotonic() + 180
    items: list[dict] = []
    while time.monotonic() < deadline:
        body = api.get("/api/documents", params={"status": "awaiting_review"}).json()
        items = body["items"]
        if body["total"] == 2:
            break
        failed = api.get("/api/documents", params={"status": "failed"}).json()
        assert failed["total"] == 0, failed
        time.sleep(0.5)
    else:
        pytest.fail(f"documents did not reach the review queue: {items}")
    assert not list((service.data_dir / "inbox").iterdir()), "the inbox is emptied"
    assert {i["filename"] for i in items} == {scan.name, pdf.name}

    item = next(i for i in items if i["filename"] == pdf.name)
    detail = api.get(f"/api/documents/{item['id']}").json()
    truth = labels[pdf.name]
    assert detail["doc_type"] == truth["doc_type"]
    # the coordinator confirms the labeled values (correcting whatever the machine got wrong)
    approved = api.post(
        f"/api/documents/{item['id']}/approve",
        json={"doc_type": truth["doc_type"], "fields": truth["fields"], "provider_id": None},
    )
    assert approved.status_code == 200, approved.text
    result = approved.json()
    assert result["credential_ids"]

    listed = api.get(f"/api/providers/{result['provider_id']}/credentials").json()["items"]
    assert [c["id"] for c in listed] == result["credential_ids"]

    db = Database(db_url)
    with db.session() as session:
        cred = session.get(Credential, result["credential_ids"][0])
        assert cred is not None
        assert cred.document_id == item["id"]
        assert (
            cred.credential_number == truth["fields"]["credential_number"].replace(" ", "").upper()
        )
        assert cred.expiration_date is not None
        assert cred.expiration_date.isoformat() == truth["fields"]["expiration_date"]
        doc = session.scalars(select(Document).where(Document.id == item["id"])).one()
        assert doc.status == DocumentStatus.APPROVED
    db.dispose()
