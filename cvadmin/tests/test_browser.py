"""An operator's journey in a real browser (Playwright driving Debian's chromium).

One test: the live server sees only committed rows, so the demo is seeded once for the whole
journey (pytest-django flushes the database after it). Screenshots of every page go to
artifacts/screenshots/ (git-ignored); `make test` installs chromium when it is missing.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cvadmin.operators import ensure_operators_group
from cvadmin.tests.demo_rows import cl_with_two_runs
from runs.models import CL, AttemptStatus, ReportedRun, ReportedRunsSnapshot, Run, RunStatus
from tryjobs.models import Tryjob

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
PASSWORD = "browser-test-pw"

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)"
)


@dataclass
class Demo:
    """What the journey looks for, read before the browser starts: Playwright's sync API runs
    an event loop, in which Django refuses database queries."""

    run: Run
    cl: CL
    tryjob: Tryjob
    failed_run: Run
    cl_with_runs: int
    newer_run: str
    older_run: str
    snapshot: ReportedRunsSnapshot


def demo_facts() -> Demo:
    cl_with_runs, newer, older = cl_with_two_runs()
    snapshot, _ = ReportedRunsSnapshot.objects.update_or_create(
        project="chromium", defaults={"reported_at": timezone.now(), "reported_by": "cqdaemon"}
    )
    ReportedRun.objects.create(
        snapshot=snapshot,
        position=10**6,  # after the demo's own rows, if it has any
        attempt_key="00000000deadbeef",
        attempt_status=AttemptStatus.STARTED,
    )
    return Demo(
        run=Run.objects.filter(run_cls__isnull=False).first(),
        cl=CL.objects.filter(run_cls__isnull=False).first(),
        tryjob=Tryjob.objects.exclude(build_id=None).order_by("-id").first(),  # listed first
        failed_run=Run.objects.filter(
            status=RunStatus.FAILED, execution_state__unsuccessful_results__isnull=False
        ).first(),
        cl_with_runs=cl_with_runs,
        newer_run=newer,
        older_run=older,
        snapshot=snapshot,
    )


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(browser, base: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}{reverse('admin:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def search(page, text: str) -> None:
    page.fill("#header-search", text)
    page.press("#header-search", "Enter")
    page.wait_for_load_state()


def admin_path(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def pastes_land_on_their_object(page, base: str, demo: Demo) -> None:
    run, cl, tryjob = demo.run, demo.cl, demo.tryjob
    build = tryjob.build_id
    run_page = admin_path("runs_run_change", run.id)
    cl_page = admin_path("runs_cl_change", cl.pk)
    tryjob_page = admin_path("tryjobs_tryjob_change", tryjob.pk)
    landings = [
        (run.id, run_page),
        (run.id.split("/", 1)[1], run_page),
        (run.cqd_attempt_key, run_page),
        (f"https://{cl.host}/c/{cl.gerrit_project}/+/{cl.change}", cl_page),
        (f"https://{cl.host}/c/{cl.gerrit_project}/+/{cl.change}/1/a/file.cc", cl_page),
        (f"https://{cl.host}/{cl.change}", cl_page),
        (f"{cl.host}/{cl.change}", cl_page),
        (str(cl.change), cl_page),
        (tryjob.external_id, tryjob_page),
        (f"https://ci.chromium.org/b/{build}", tryjob_page),
        (f"https://cr-buildbucket.appspot.com/build/{build}", tryjob_page),
        (str(build), tryjob_page),
    ]
    for text, landing in landings:
        search(page, text)
        assert page.url == f"{base}{landing}", text
    shot(page, "tryjob")
    search(page, tryjob.builder)
    assert admin_path("tryjobs_tryjob_changelist") in page.url
    assert page.locator(f'a[href^="{tryjob_page}"]').count() == 1
    shot(page, "builder")
    search(page, "https://ci.chromium.org/ui/p/chromium/builders/try/linux-rel/12345")
    assert "cvsite knows builds by ID" in page.inner_text(".messagelist")
    shot(page, "search-refused")


def failed_run_says_why(page, base: str, demo: Demo) -> None:
    run = demo.failed_run
    page.goto(f"{base}{admin_path('runs_run_change', run.id)}")
    reason = page.inner_text(".end-reason-text")
    assert reason.strip() == run.end_reason.strip()
    assert page.locator(".chip.outcome-failed, .chip.outcome-transient").count() >= 1
    assert page.locator("svg.gantt rect.gantt-bar").count() >= 1
    assert page.locator(".timeline tbody tr").count() >= 3
    assert re.fullmatch(r"[+-]\d+(h\d\dm|m)?\d*s?", page.inner_text(".timeline .offset >> nth=0"))
    build_link = page.locator(".chip a.build-link").first.get_attribute("href")
    assert re.fullmatch(r"https://cr-buildbucket\.appspot\.com/build/\d+", build_link)
    shot(page, "run-failed")


def cl_leads_to_its_runs_and_the_next_one(page, base: str, demo: Demo) -> None:
    cl_id, newer, older = demo.cl_with_runs, demo.newer_run, demo.older_run
    page.goto(f"{base}{admin_path('runs_cl_change', cl_id)}")
    shot(page, "cl")
    page.click(f'a.cl-run[href="{admin_path("runs_run_change", older)}"]')
    assert page.url == f"{base}{admin_path('runs_run_change', older)}"
    page.click("a.next-run")
    assert page.url == f"{base}{admin_path('runs_run_change', newer)}"
    shot(page, "run-next-of-cl")


def cqdaemon_beside_cvsite(page, base: str, demo: Demo) -> None:
    page.goto(f"{base}{admin_path('runs_reportedrunssnapshot_change', demo.snapshot.pk)}")
    comparison = page.inner_text(".cqd-comparison")
    assert "Only CQDaemon reports" in comparison and "00000000deadbeef" in comparison
    shot(page, "cqdaemon-vs-cvsite")


def runs_page_by_page(page, base: str) -> None:
    """Pages of 5 (the list's size is patched): next, next, previous, first; filters keep."""
    page.goto(f"{base}{admin_path('runs_run_changelist')}?status__exact=65")
    first = page.locator("#result_list tbody tr").all_inner_texts()
    page.click("a.keyset-next")
    page.wait_for_url(re.compile(r"after="))
    second = page.locator("#result_list tbody tr").all_inner_texts()
    assert "status__exact=65" in page.url
    assert len(first) == 5 and second and not set(first) & set(second)
    shot(page, "runs-next-page")
    page.click("a.keyset-previous")
    page.wait_for_url(re.compile(r"before="))
    assert page.locator("#result_list tbody tr").all_inner_texts() == first
    page.goto(f"{base}{admin_path('runs_run_changelist')}?after=garbage")
    assert "The page cursor in the URL is invalid" in page.inner_text("ul.messagelist")
    shot(page, "runs-bad-cursor")


def dashboards_show_health_at_a_glance(page, base: str) -> None:
    page.goto(f"{base}{admin_path('index')}")
    page.click("a.dashboard-link")
    assert page.url == f"{base}{admin_path('runs_run_dashboard')}"
    assert page.locator("#runs-by-status svg.chart rect").count() >= 1
    assert page.locator("#builders svg.chart").count() == 2
    page.click("text=30d")
    assert page.url.endswith("window=30d")
    shot(page, "dashboard")
    page.click(".dashboard-nav a >> text=chromium")
    assert "project=chromium" in page.url
    assert page.inner_text("h1") == "Dashboard: project chromium"
    shot(page, "dashboard-project")


def view_only_user_sees_no_action(page, base: str) -> None:
    page.goto(f"{base}{admin_path('runs_run_changelist')}")
    assert page.locator("select[name=action]").count() == 0
    shot(page, "runs-view-only")
    page.click("a.dashboard-link")  # operators see the dashboards too
    assert page.locator("#durations table").count() == 1
    page.goto(f"{base}{admin_path('migration_api_apitoken_changelist')}")
    assert page.locator("select[name=action]").count() == 0


def test_an_operators_journey(live_server, monkeypatch):
    monkeypatch.setattr(admin.site._registry[Run], "list_per_page", 5)
    call_command("seed_demo", "--runs", "12", verbosity=0)
    User.objects.create_superuser("sheriff", "sheriff@example.com", PASSWORD)
    viewer = User.objects.create_user("viewer", "viewer@example.com", PASSWORD, is_staff=True)
    viewer.groups.add(ensure_operators_group(apps))
    demo = demo_facts()
    base = live_server.url

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = log_in(browser, base, "sheriff")
        shot(page, "home")
        pastes_land_on_their_object(page, base, demo)
        failed_run_says_why(page, base, demo)
        cl_leads_to_its_runs_and_the_next_one(page, base, demo)
        cqdaemon_beside_cvsite(page, base, demo)
        runs_page_by_page(page, base)
        dashboards_show_health_at_a_glance(page, base)
        page.close()
        view_only_user_sees_no_action(log_in(browser, base, "viewer"), base)
        browser.close()
