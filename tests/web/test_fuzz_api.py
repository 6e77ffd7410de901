"""Every operation of the OpenAPI document, fuzzed with schemathesis: no input gives a 5xx.

Schemathesis generates requests from the document (valid ones, and ones just outside what it
allows: huge integers, NUL characters, odd dates); the app answers in-process on the suite's
database. The number of cases per operation is bounded so that the run takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.models import Workspace
from socialdesk.web.app import create_app
from tests.web.test_read_api import bearer, seed

CASES_PER_OPERATION = 10


@pytest.fixture
def fuzzed_app(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> Iterator[FastAPI]:
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    seed(session_factory, workspace.id)  # a few conversations and customers to find
    app.openapi()  # built once now, so that loading it within the loader's timeout is quick
    with TestClient(app):  # runs the app's start-up and shut-down around the cases
        yield app


def test_no_request_makes_the_api_fail(
    fuzzed_app: FastAPI, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    headers = bearer(session_factory, workspace.id, "admin")
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} "
                    f"-> {response.status_code}: {response.text[:300]}"
                )

        call()
    assert operations >= 30
    assert failures == []
