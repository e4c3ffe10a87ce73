"""`manage.py create_api_token`: tokens scoped to projects, shown once, stored hashed."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cvproto.migration import migration_pb2 as migration_pb
from migration_api import auth
from migration_api.models import TOKEN_PREFIX, ApiCall, ApiToken, RefusedCalls
from migration_api.tests.conftest import MigrationClient, wait_for_request_threads
from prpc.client import Client, RpcError
from prpc.codes import Code


def create_token(*args: str) -> tuple[str, list[str]]:
    """Runs the command; returns (token, every line it printed)."""
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    lines = out.getvalue().splitlines()
    return lines[-1], lines


@pytest.mark.django_db
def test_the_token_is_printed_alone_on_the_last_line_and_only_its_hash_is_stored():
    token, lines = create_token("cqdaemon-chromium", "--project", "chromium")

    assert token == token.strip() and " " not in token
    assert token.startswith(TOKEN_PREFIX) and len(token) >= len(TOKEN_PREFIX) + 40
    assert all(token not in line for line in lines[:-1])
    row = ApiToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.hint == token[: len(TOKEN_PREFIX) + 4]
    assert (row.name, row.projects, row.all_projects) == ("cqdaemon-chromium", ["chromium"], False)
    assert row.revoked_at is None
    for field in ApiToken._meta.concrete_fields:
        assert token not in str(getattr(row, field.attname))
    assert token not in str(row) and token not in repr(row)
    assert f"Created API token {row.id} for 'cqdaemon-chromium', scope: chromium." in lines


@pytest.mark.django_db
def test_every_token_is_new():
    first, _ = create_token("a", "--project", "chromium")
    second, _ = create_token("a", "--project", "chromium")
    assert first != second
    assert ApiToken.objects.count() == 2


@pytest.mark.django_db
def test_project_may_be_repeated():
    create_token("cqd", "--project", "v8", "--project", "chromium", "--project", "v8")
    row = ApiToken.objects.get()
    assert (row.projects, row.all_projects) == (["chromium", "v8"], False)
    assert row.allows("chromium") and row.allows("v8") and not row.allows("skia")


@pytest.mark.django_db
def test_all_projects():
    _, lines = create_token("cqd-all", "--all-projects")
    row = ApiToken.objects.get()
    assert (row.projects, row.all_projects) == ([], True)
    assert row.allows("anything")
    assert "scope: all projects." in lines[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["cqd", "--project", "Chromium"],
        ["cqd", "--project", "chromium/src"],
        ["cqd", "--project", ""],
        ["cqd", "--project=-chromium"],
        ["cqd", "--project", "_chromium"],
        ["cqd", "--project", "chromium", "--project", "bad name"],
        ["   ", "--project", "chromium"],
        ["x" * 101, "--project", "chromium"],
        ["cqd"],  # a scope is required
        ["cqd", "--project", "chromium", "--all-projects"],  # but only one kind
    ],
)
def test_invalid_arguments_are_a_command_error_and_create_nothing(args):
    with pytest.raises(CommandError):
        call_command("create_api_token", *args, stdout=StringIO())
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["binary", "json"])
def test_the_printed_token_works_until_it_is_revoked(live_server, fmt):
    token, _ = create_token("cqdaemon-chromium", "--project", "chromium")
    client = Client(live_server.url, auth_token=token, format=fmt, retries=0)
    api = MigrationClient(client)
    try:
        request = migration_pb.FetchActiveRunsRequest(luci_project="chromium")
        assert api.FetchActiveRuns(request) == migration_pb.FetchActiveRunsResponse()
        with pytest.raises(RpcError) as outside:
            api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="v8"))
        assert (outside.value.code, outside.value.http_status) == (Code.PERMISSION_DENIED, 403)

        auth.revoke(ApiToken.objects.all(), "test")

        with pytest.raises(RpcError) as revoked:
            api.FetchActiveRuns(request)
        assert (revoked.value.code, revoked.value.http_status) == (Code.UNAUTHENTICATED, 401)
    finally:
        client.close()
        wait_for_request_threads()
    row = ApiToken.objects.get()
    assert list(ApiCall.objects.order_by("id").values_list("token", "caller", "code")) == [
        (row.id, "cqdaemon-chromium", "OK"),
        (row.id, "cqdaemon-chromium", "PERMISSION_DENIED"),
    ]
    # The revoked token's call is refused before any token is known: it is only counted.
    assert list(RefusedCalls.objects.values_list("method", "code", "count")) == [
        ("FetchActiveRuns", "UNAUTHENTICATED", 1)
    ]


@pytest.mark.django_db(transaction=True)
def test_an_all_projects_token_reaches_any_project(live_server):
    token, _ = create_token("cqd-all", "--all-projects")
    with Client(live_server.url, auth_token=token, retries=0) as client:
        api = MigrationClient(client)
        for project in ("chromium", "v8", "some-other_project"):
            api.FetchExcludedCLs(migration_pb.FetchExcludedCLsRequest(luci_project=project))
    wait_for_request_threads()
    assert list(ApiCall.objects.values_list("code", flat=True)) == ["OK"] * 3


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db
def test_a_token_is_looked_up_once_per_cache_period(settings, django_assert_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 10
    clock = FakeClock()
    cache = auth.TokenCache(clock=clock)
    row, token = ApiToken.issue("cqdaemon", ["chromium"])
    token_hash = hashlib.sha256(token.encode()).hexdigest()

    with django_assert_num_queries(1):
        assert cache.get(token_hash) == row
        clock.now += 9.9
        assert cache.get(token_hash) == row
    clock.now += 0.1
    with django_assert_num_queries(1):
        assert cache.get(token_hash) == row


@pytest.mark.django_db
def test_a_token_revoked_by_another_process_works_here_until_the_cache_period_ends(settings):
    settings.API_TOKEN_CACHE_SECONDS = 10
    clock = FakeClock()
    cache = auth.TokenCache(clock=clock)
    row, token = ApiToken.issue("cqdaemon", ["chromium"])
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    assert cache.get(token_hash) == row

    ApiToken.objects.update(revoked_at=timezone.now())  # as another server process would
    clock.now += 5
    assert cache.get(token_hash) == row
    clock.now += 5
    assert cache.get(token_hash) is None
    assert cache.get(token_hash) is None


@pytest.mark.django_db
def test_unknown_tokens_are_never_kept_and_a_new_token_works_at_once(settings):
    settings.API_TOKEN_CACHE_SECONDS = 10
    cache = auth.TokenCache(clock=FakeClock())
    _, token = ApiToken.issue("cqdaemon", ["chromium"])
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    ApiToken.objects.all().delete()
    assert cache.get(token_hash) is None

    row = ApiToken.objects.create(name="again", token_hash=token_hash, hint="x")
    assert cache.get(token_hash) == row


@pytest.mark.django_db
def test_without_a_cache_period_every_call_is_looked_up(settings, django_assert_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 0
    cache = auth.TokenCache(clock=FakeClock())
    row, token = ApiToken.issue("cqdaemon", ["chromium"])
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    with django_assert_num_queries(2):
        assert cache.get(token_hash) == row
        assert cache.get(token_hash) == row
    ApiToken.objects.update(revoked_at=timezone.now())  # as another server process would
    assert cache.get(token_hash) is None


@pytest.mark.django_db
def test_revoking_stops_the_token_at_once_in_this_process(settings):
    settings.API_TOKEN_CACHE_SECONDS = 3600
    row, token = ApiToken.issue("cqdaemon", ["chromium"])
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    assert auth.tokens.get(token_hash) == row

    assert auth.revoke(ApiToken.objects.filter(pk=row.pk), "test") == 1
    assert auth.tokens.get(token_hash) is None
    assert auth.revoke(ApiToken.objects.filter(pk=row.pk), "test") == 0  # already revoked
