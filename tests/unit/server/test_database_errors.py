"""What the error handlers answer for database failures: only the database's absence is a
503; a value the database refuses (a DataError) is the request's fault, a 400."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, OperationalError

from bgone.server.error_handlers import install_error_handlers
from bgone.server.middleware import RequestMiddleware
from tests.unit.inprocess import assert_error


class DriverError(Exception):
    """Stands in for the driver's exception that SQLAlchemy wraps."""


def app_raising(error: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestMiddleware, max_upload_bytes=1024)

    @app.get("/fails")
    async def fails() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


def test_a_value_the_database_refuses_is_a_400_not_an_outage() -> None:
    refused = DataError(
        "INSERT INTO api_keys ...",
        {},
        DriverError("value too long for type character varying(320)"),
    )
    response = app_raising(refused).get("/fails")

    error = assert_error(response, 400, "invalid_request")
    assert "Retry-After" not in response.headers
    assert "too long" in error["detail"]
    assert "INSERT" not in error["detail"]  # no SQL, no parameters in what the client reads


@pytest.mark.parametrize(
    "unreachable",
    [OperationalError("SELECT 1", {}, DriverError("connection refused"))],
)
def test_the_database_away_is_still_a_503(unreachable: Exception) -> None:
    response = app_raising(unreachable).get("/fails")

    assert_error(response, 503, "service_unavailable")
    assert response.headers["Retry-After"]
