"""Fixtures of the whole-service tests."""

import pytest

from cvsite.tests.own_postgres import OwnPostgres


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of the test's own, with an empty database `cvsite`; removed after."""
    server = OwnPostgres()
    try:
        server.start()
        server.create_database()
        yield server
    finally:
        server.remove()
