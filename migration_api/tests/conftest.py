"""A live cvsite and a pRPC client holding a token, for the Migration API tests."""

import pytest

from migration_api.models import ApiToken
from prpc.client import Client

SERVICE = "migration.Migration"


class MigrationClient:
    """Calls one Migration method: `api.FetchActiveRuns(request)` -> response."""

    def __init__(self, client: Client):
        from cvproto.migration import migration_pb2

        self.client = client
        self.service = migration_pb2.DESCRIPTOR.services_by_name["Migration"]

    def __getattr__(self, method: str):
        from google.protobuf import message_factory

        descriptor = self.service.methods_by_name[method]
        response_class = message_factory.GetMessageClass(descriptor.output_type)

        def call(request, **kwargs):
            return self.client.call(SERVICE, method, request, response_class, **kwargs)

        return call


@pytest.fixture
def make_api(live_server):
    """api(projects=["chromium"], format="binary") -> a MigrationClient with a fresh token."""

    def make(projects=("chromium",), *, all_projects=False, format="binary", retries=0):
        _, token = ApiToken.issue("cqdaemon-test", list(projects), all_projects=all_projects)
        return MigrationClient(
            Client(live_server.url, auth_token=token, format=format, retries=retries)
        )

    return make
