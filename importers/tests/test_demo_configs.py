"""The demo's commit-queue.cfg files give its runs exactly the builders the script plays."""

from datetime import UTC, datetime

import pytest

from importers.demo_script import PROJECTS, Project
from importers.demo_world import DEMO_HOST_SUFFIX
from projectconfig.actions import ConfigRejected, parse_config
from projectconfig.compiled import CompiledConfig, requirement_for_run
from projectconfig.requirement import ChangeList, RunInput
from projectconfig.validation import GERRIT_HOST_SUFFIXES

CONFIGURED = [p for p in PROJECTS if p.config]


def compiled(project: Project) -> CompiledConfig:
    return CompiledConfig(
        parse_config(
            project.config_text(),
            project.config_source,
            gerrit_host_suffixes=(*GERRIT_HOST_SUFFIXES, DEMO_HOST_SUFFIX),
        )
    )


def test_every_cvsite_verified_project_has_a_config():
    assert {p.name for p in CONFIGURED} == {p.name for p in PROJECTS if p.switches}


@pytest.mark.parametrize("project", CONFIGURED, ids=lambda p: p.name)
def test_each_mode_gets_the_scripts_requirement(project):
    config = compiled(project)
    modes = {mode for mode, _ in project.modes} | {"DRY_RUN", "FULL_RUN", "NEW_PATCHSET_RUN"}
    for mode in sorted(modes):
        cl = ChangeList(
            id=1,
            host=project.host,
            project=project.gerrit_project,
            ref="refs/heads/main",
            owner=project.authors[0].email,
            trigger_time=datetime(2026, 1, 1, tzinfo=UTC),
            files=project.files,
            commit_message=f"{project.subjects[0]}\n\nChange-Id: I1\n",
        )
        computed = requirement_for_run(config, RunInput(mode, (cl,)))
        assert computed.group_name == "cq"
        assert computed.outcome == project.requirement(mode), mode


@pytest.mark.parametrize("project", CONFIGURED, ids=lambda p: p.name)
def test_the_demo_hosts_are_refused_without_the_demo_suffix(project):
    with pytest.raises(ConfigRejected, match=r"host must end with \.googlesource\.com"):
        parse_config(project.config_text(), project.config_source)
