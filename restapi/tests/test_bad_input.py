"""Bad input is a 400 whose JSON names the parameter; never a 500."""

import pytest
import yaml
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.test import APIRequestFactory

from restapi.pagination import MAX_PAGE_SIZE
from restapi.tests.conftest import make_tryjob
from restapi.tests.test_schema import COMMITTED
from runs.tests.factories import make_run

pytestmark = pytest.mark.django_db


def forged_cursor(position: str) -> str:
    """A well-formed cursor (as DRF encodes them) holding `position`."""
    paginator = CursorPagination()
    paginator.base_url = "http://testserver/api/v1/runs/"
    paginator.cursor_query_param = "cursor"
    request = APIRequestFactory().get("/")
    paginator.request = request
    url = paginator.encode_cursor(Cursor(offset=0, reverse=False, position=position))
    return url.split("cursor=")[1]


@pytest.mark.parametrize(
    "url, parameter",
    # The `cl` filter's refusals are in the table shared with the search box (test_runs.py).
    [
        ("/api/v1/runs/?status=RUNNIN", "status"),
        ("/api/v1/runs/?status=2", "status"),
        ("/api/v1/runs/?verifier=someone", "verifier"),
        ("/api/v1/runs/?created_after=yesterday", "created_after"),
        ("/api/v1/runs/?ended_before=2026-13-01T00:00:00Z", "ended_before"),
        (f"/api/v1/runs/?page_size={MAX_PAGE_SIZE + 1}", "page_size"),
        ("/api/v1/runs/?page_size=0", "page_size"),
        ("/api/v1/runs/?page_size=ten", "page_size"),
        ("/api/v1/runs/?project=chro%00mium", "project"),
        ("/api/v1/runs/?attempt_key=%00", "attempt_key"),
        ("/api/v1/runs/?cursor=garbage", "cursor"),
        ("/api/v1/runs/?cursor=%00", "cursor"),
        ("/api/v1/tryjobs/?result=MAYBE", "result"),
        ("/api/v1/tryjobs/?run=a%00b", "run"),
        ("/api/v1/cls/?change=-1", "change"),
        ("/api/v1/cls/?change=99999999999999999999", "change"),
        ("/api/v1/builders/chromium/try/linux-rel/stats/?window=1y", "window"),
        ("/api/v1/builders/chromium/try/linux-rel/stats/?recent=1000", "recent"),
    ],
)
def test_bad_parameters_are_named(chromium_client, url, parameter):
    make_run(), make_tryjob()
    response = chromium_client.get(url)
    assert response.status_code == 400, response.content
    assert parameter in response.json()


@pytest.mark.parametrize(
    "position", ["not a time", "2026-01-05 12:00:00\x00", "99999-01-01", "9" * 30]
)
def test_a_forged_cursor_position_is_refused(chromium_client, position):
    make_run()
    response = chromium_client.get(f"/api/v1/runs/?cursor={forged_cursor(position)}")
    assert response.status_code == 400 and "cursor" in response.json()


@pytest.mark.parametrize("position", ["x", "9" * 30, "-1\x00"])
def test_a_forged_cursor_id_is_refused(chromium_client, position):
    make_tryjob()
    response = chromium_client.get(f"/api/v1/tryjobs/?cursor={forged_cursor(position)}")
    assert response.status_code == 400 and "cursor" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/runs/chromium/%00/",
        "/api/v1/runs/no-such/run/",
        "/api/v1/tryjobs/99999999999999999999999/",
        "/api/v1/cls/a%00b/1/",
        "/api/v1/cls/host/99999999999999999999999/",
        "/api/v1/builders/chro%00mium/try/x/stats/",
    ],
)
def test_impossible_objects_are_404(chromium_client, url):
    assert chromium_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "time",
    [
        "0413-01-15T01:36:18+18:29",  # a valid ISO 8601 offset that PostgreSQL refuses
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    ],
)
def test_times_are_taken_in_utc_or_refused(chromium_client, time):
    make_run()
    response = chromium_client.get("/api/v1/runs/", {"created_after": time})
    assert response.status_code in (200, 400), response.content
    forged = chromium_client.get(f"/api/v1/runs/?cursor={forged_cursor(time)}")
    assert forged.status_code in (200, 400), forged.content


@pytest.mark.parametrize("accept", ["text/csv", ":i:!!ax_l+lI4"])
def test_an_accept_header_naming_no_type_we_answer_in_is_a_documented_406(chromium_client, accept):
    response = chromium_client.get("/api/v1/cls/", HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert "Accept header" in response.json()["detail"]
    schema = yaml.safe_load(COMMITTED.read_text())
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert all("406" in operation["responses"] for operation in operations)
