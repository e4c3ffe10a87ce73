"""`manage.py import_config` and `manage.py compute_requirement`: versions, refusals, exit codes."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.core.management import CommandError, call_command

from projectconfig.actions import current_version, import_config
from projectconfig.models import ConfigVersion
from projectconfig.tests.support import (
    DATA,
    HOST,
    change_list,
    compute_requirement,
    group_config,
    run_dict,
)

pytestmark = pytest.mark.django_db

VALID = group_config('builders { name: "test-proj/test/builder1" }')
CHANGED = group_config('builders { name: "test-proj/test/builder2" }')


def import_file(tmp_path, project: str, text: str, name: str = "commit-queue.cfg") -> str:
    path = tmp_path / name
    path.write_text(text)
    out = io.StringIO()
    call_command("import_config", project, str(path), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "groups", "builders"),
    [
        ("chromium", 2, 595),
        ("angle", 1, 62),
        ("pdfium", 1, 52),
        ("webrtc", 3, 99),
        ("golang-build", 164, 24047),
    ],
)
def test_the_real_configs_import(name, groups, builders):
    path = DATA / f"{name}-commit-queue.cfg"
    start = time.perf_counter()
    out = io.StringIO()
    call_command("import_config", name, str(path), stdout=out)
    assert time.perf_counter() - start < 60  # golang/build's 3.5 MB: seconds, not minutes
    version = current_version(name)
    assert (version.version, len(version.group_names), version.builder_count) == (
        1,
        groups,
        builders,
    )
    assert version.text == path.read_text()
    assert f"{name}: imported version 1 ({groups} groups, {builders} builders" in out.getvalue()


def test_importing_the_same_content_changes_nothing(tmp_path):
    import_file(tmp_path, "p", VALID)
    reformatted = "# a comment lucicfg would not write\n" + VALID.replace("\n", "\n\n")
    assert "unchanged, version 1 stays in force" in import_file(tmp_path, "p", reformatted)
    assert ConfigVersion.objects.filter(project="p").count() == 1


def test_a_changed_config_is_the_next_version_and_a_revert_another(tmp_path):
    import_file(tmp_path, "p", VALID)
    assert "imported version 2" in import_file(tmp_path, "p", CHANGED)
    assert "imported version 3" in import_file(tmp_path, "p", VALID)
    assert current_version("p").version == 3
    assert import_config("other", VALID, "x").version.version == 1  # versions are per project


def test_a_refused_config_lists_every_error_and_changes_nothing(tmp_path):
    import_file(tmp_path, "p", VALID)
    broken = group_config(
        'builders { name: "test-proj/test/b" experiment_percentage: 120 }'
        'builders { name: "bad-name" }'
    )
    with pytest.raises(CommandError) as refused:
        import_file(tmp_path, "p", broken, "broken.cfg")
    message = str(refused.value)
    assert message.count("\n  ") == 2
    assert "broken.cfg: config refused (2 errors)" in message
    assert (
        'builders[0] "test-proj/test/b": experiment_percentage: must be within [0, 100]' in message
    )
    assert 'builders[1] "bad-name": name:' in message
    assert current_version("p").version == 1
    assert ConfigVersion.objects.count() == 1


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"missing\.cfg: cannot read the config"):
        call_command("import_config", "p", str(tmp_path / "missing.cfg"))


def test_compute_requirement_from_the_stored_config(tmp_path):
    import_config("test-proj", VALID, "v1")
    import_config("test-proj", CHANGED, "v2")
    outcome = compute_requirement(tmp_path, None, run_dict(), project="test-proj")
    assert outcome.definitions() == ["test-proj/test/builder2 crit"]


def test_compute_requirement_for_a_project_without_config(tmp_path):
    outcome = compute_requirement(tmp_path, None, run_dict(), project="nothing")
    assert outcome.code == 2
    assert "--project nothing: no config has been imported" in outcome.stderr


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ({"luci_project": "p", "mode": "DRY_RUN"}, "cls: required"),
        ({"luci_project": "p", "mode": "DRY_RUN", "cls": []}, "cls: a run has at least one CL"),
        (
            run_dict(change_list(trigger_time="yesterday")),
            "cls[0].trigger_time: 'yesterday' is not",
        ),
        (run_dict(change_list(trigger_time="2026-12-01T10:00:00")), "has no time zone"),
        (run_dict(change_list(id="1")), 'cls[0].id: must be an integer, not "1"'),
        (run_dict(change_list(id=1 << 63)), "cls[0].id: 9223372036854775808 does not fit an int64"),
        (run_dict({**change_list(), "files": "a.cc"}), "cls[0].files: must be a list"),
        ({**run_dict(), "groups": {"a@b.c": "g"}}, "groups['a@b.c']: must be a list of strings"),
        ({**run_dict(), "mode": 1}, "mode: must be a string, not 1"),
    ],
)
def test_a_bad_run_file_exits_2_naming_the_field(tmp_path, run, message):
    outcome = compute_requirement(tmp_path, VALID, run)
    assert outcome.code == 2
    assert outcome.stderr.startswith(str(tmp_path / "run.json") + ": ")
    assert message in outcome.stderr


def test_a_run_file_that_is_not_json(tmp_path):
    (tmp_path / "run.json").write_text("{")
    (tmp_path / "c.cfg").write_text(VALID)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "compute_requirement",
            config=str(tmp_path / "c.cfg"),
            run=str(tmp_path / "run.json"),
            stderr=err,
        )
    assert exited.value.code == 2
    assert "run.json: not JSON" in err.getvalue()


def test_an_invalid_config_file_exits_2_with_its_errors(tmp_path):
    outcome = compute_requirement(tmp_path, group_config('builders { name: "x" }'), run_dict())
    assert outcome.code == 2
    assert "commit-queue.cfg: config refused (1 error)" in outcome.stderr


def test_a_missing_config_file_exits_2(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps(run_dict()))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "compute_requirement", config="/nonexistent.cfg", run=str(tmp_path / "run.json"),
            stderr=err,
        )  # fmt: skip
    assert exited.value.code == 2
    assert "/nonexistent.cfg: cannot read the config" in err.getvalue()


def test_a_cl_no_group_watches_exits_3(tmp_path):
    outcome = compute_requirement(tmp_path, VALID, run_dict(change_list(project="elsewhere")))
    assert outcome.code == 3
    assert f"no config group watches {HOST}/elsewhere" in outcome.stderr


def test_a_cl_several_groups_watch_exits_3(tmp_path):
    second = VALID.replace('name: "main"', 'name: "second"')
    outcome = compute_requirement(tmp_path, VALID + second, run_dict())
    assert outcome.code == 3
    assert 'watched by more than 1 config group: "main", "second"' in outcome.stderr


def test_cls_in_different_groups_exit_3(tmp_path):
    other = VALID.replace('name: "main"', 'name: "other"').replace('"repo"', '"other-repo"')
    run = run_dict(change_list(), change_list(1, project="other-repo"))
    outcome = compute_requirement(tmp_path, VALID + other, run)
    assert outcome.code == 3
    assert "the run's CLs fall into different config groups" in outcome.stderr
