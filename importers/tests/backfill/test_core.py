"""The shared backfill mechanism with a toy handler: batches, refusals, retries, progress."""

import io

import pytest
from django.db import OperationalError
from django.utils import timezone

from importers.backfill.core import Handler, Options, Outcome, Reject, run_backfill
from importers.backfill.progress import Progress
from importers.backfill.source import FileSource
from runs.models import BackfillCheckpoint, ProjectVerifier


class ProjectsHandler(Handler):
    """Each line names a LUCI project to create a ProjectVerifier row for; "bad" is refused."""

    command = "toy"

    def __init__(self, fail_first_writes: int = 0):
        self.writes = 0
        self.fail_first_writes = fail_first_writes

    def parse(self, record):
        name = record.raw.decode().strip()
        if name == "bad":
            raise Reject("bad is not a project")
        return name

    def projects(self, item):
        return (item,)

    def write(self, records):
        self.writes += 1
        if self.writes <= self.fail_first_writes:
            raise OperationalError("database is locked")
        now = timezone.now()
        for record in records:
            # A duplicate name breaks the primary key: the database refuses the record.
            ProjectVerifier.objects.create(
                project=record.item, verifier="cqdaemon", changed_at=now, changed_by="toy"
            )
        return [Outcome.CREATED] * len(records)


def backfill(path, handler, **options):
    return run_backfill(
        handler,
        FileSource(str(path)),
        Options(progress_interval=3600, **options),
        progress_stream=io.StringIO(),
    )


@pytest.mark.django_db
def test_a_record_the_database_refuses_is_rejected_and_the_rest_of_its_batch_lands(tmp_path):
    path = tmp_path / "projects.txt"
    path.write_text("a\nb\na\nbad\nc\n\nd\n")

    summary = backfill(path, ProjectsHandler(), batch_size=10)

    assert sorted(ProjectVerifier.objects.values_list("project", flat=True)) == list("abcd")
    assert (summary.read, summary.created, summary.rejected) == (6, 4, 2)
    rejects = (tmp_path / "projects.txt.rejects").read_text()
    assert '"line": 3' in rejects and "the database refused it" in rejects
    assert '"line": 4' in rejects and "bad is not a project" in rejects
    checkpoint = BackfillCheckpoint.objects.get(name=f"toy:{path}")
    assert (checkpoint.position, checkpoint.read, checkpoint.rejected) == (7, 6, 2)
    assert checkpoint.finished_at is not None


@pytest.mark.django_db
def test_a_transient_database_error_retries_the_batch(tmp_path, monkeypatch):
    monkeypatch.setattr("importers.backfill.core.time.sleep", lambda seconds: None)
    path = tmp_path / "projects.txt"
    path.write_text("a\nbad\nb\n")
    handler = ProjectsHandler(fail_first_writes=2)

    summary = backfill(path, handler)

    assert handler.writes == 3
    assert (summary.created, summary.rejected) == (2, 1)
    assert (tmp_path / "projects.txt.rejects").read_text().count("\n") == 1  # listed once


@pytest.mark.django_db
def test_project_filter_and_limit(tmp_path):
    path = tmp_path / "projects.txt"
    path.write_text("a\nb\nc\nd\n")

    summary = backfill(path, ProjectsHandler(), projects=frozenset({"b", "d"}), limit=3)

    assert list(ProjectVerifier.objects.values_list("project", flat=True)) == ["b"]
    assert (summary.read, summary.skipped, summary.limit_reached) == (3, 2, True)


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    now = [0.0]
    terminal, log = io.StringIO(), io.StringIO()
    bar = Progress(terminal, unit="attempts", interactive=True, clock=lambda: now[0])
    lines = Progress(log, unit="attempts", interactive=False, interval=10, clock=lambda: now[0])
    for second in range(1, 31):
        now[0] = float(second)
        bar.update(second * 100, second / 60)
        lines.update(second * 100, second / 60)
    bar.finish()

    assert terminal.getvalue().startswith("\r\x1b[2K[")
    assert "50.0%  3,000 attempts  100 attempts/s  ETA 0:00:30" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[2K")
    assert log.getvalue().splitlines() == [
        "progress:  16.7%  1,000 attempts  100 attempts/s  ETA 0:00:50  elapsed 0:00:10",
        "progress:  33.3%  2,000 attempts  100 attempts/s  ETA 0:00:40  elapsed 0:00:20",
        "progress:  50.0%  3,000 attempts  100 attempts/s  ETA 0:00:30  elapsed 0:00:30",
    ]


def test_progress_without_a_known_size_shows_rate_only():
    log = io.StringIO()
    Progress(log, unit="lines", interactive=False, clock=lambda: 4.0).update(8, None, force=True)
    assert "ETA" not in log.getvalue() and "lines/s" in log.getvalue()
