"""The JSON API keeps the contract /openapi.json states, fuzzed with schemathesis.

The live app (uvicorn, SQLite and PostgreSQL, every router, compliance's included) is seeded
with a document, a provider and one account per role; every operation in the schema gets
requests generated from its parameters and bodies, valid and not, sent with an admin's
API token (changes included: the data is this test's own). Every answer must be no server
error, a documented status code and content type, and match its documented schema.
Examples are limited per operation so the whole walk takes well under two minutes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from credflow.settings import Settings
from credflow.web import installed_plugins
from models import Database, Provider, StoreLayout
from review import auth
from tests.review.live import serving
from tests.review.test_api_support import add_users, make_app, seed_document

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 15


def test_the_api_answers_as_its_schema_says(db: Database, tmp_path: Path) -> None:
    add_users(db)
    seed_document(db, StoreLayout(tmp_path))
    with db.session() as s:
        s.add(Provider(name="Maria Elena Gonzalez", npi="1234567893"))
        token = auth.create_token(s, "admin")
    app = make_app(
        db,
        tmp_path,
        plugins=installed_plugins(),
        settings=Settings(data_dir=tmp_path, database_url=db.url),
    )
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    with serving(app) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30
        for operation in operations:
            failures += _fuzz(operation, url, headers)
    assert not failures, "\n".join(failures)


def _fuzz(operation: Any, url: str, headers: dict[str, str]) -> list[str]:
    found: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=url, headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as err:  # what broke the contract, for the report below
            found.append(f"{operation.label}: {' | '.join(str(err).split(chr(10))[:8])}")

    with contextlib.suppress(Unsatisfiable):  # an operation with nothing to generate
        run()
    return sorted(set(found))
