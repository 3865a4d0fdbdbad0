"""What a Celery task reads in one go: its own document and a fair share of those waiting,
each claimed with its own lease."""

from __future__ import annotations

from pathlib import Path

from ingest import leases
from ingest.dispatch import waiting_batch
from ingest.intake import Intake
from models import Database, StoreLayout
from tests.ingest.helpers import make_text_pdf


def _receive(db: Database, tmp_path: Path, n: int) -> list[int]:
    intake = Intake(db, StoreLayout(tmp_path / "data"))
    return [
        intake.take_file(
            make_text_pdf(tmp_path / f"doc-{i}.pdf", i), hint=None, remove=False
        ).document_id
        for i in range(n)
    ]


def test_two_readers_split_what_waits_and_a_busy_reader_counts(
    db: Database, tmp_path: Path
) -> None:
    ids = _receive(db, tmp_path, 9)

    # two workers on the queue: the first message's task takes half of the nine (rounded up)
    first = waiting_batch(db, ids[3], max_attempts=3, batch_docs=6, readers=2)
    assert first[0] == ids[3] and len(first) == 5 and len(set(first)) == 5
    assert first[1:] == [i for i in ids if i != ids[3]][:4]  # the oldest waiting ones

    # no more than a batch, however many wait and however few read
    assert len(waiting_batch(db, ids[0], max_attempts=3, batch_docs=6, readers=1)) == 6
    # a single worker, a single document: nothing else to take
    assert waiting_batch(db, ids[0], max_attempts=3, batch_docs=1, readers=1) == [ids[0]]

    # two readers already hold leases: the seven still waiting are split three ways
    with db.session() as s:
        assert leases.claim(s, ids[0], "host:1:1", 60, 3)
        assert leases.claim(s, ids[1], "host:2:2", 60, 3)
    batch = waiting_batch(db, ids[2], max_attempts=3, batch_docs=6, readers=1)
    assert len(batch) == 3 and ids[0] not in batch and ids[1] not in batch
