"""Validation (cv_config.md §1 per-field rules, §4 cross-field): each rule on a broken config."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from cvproto.cv.config import config_pb2
from projectconfig.actions import ConfigRejected, parse_config
from projectconfig.tests.support import DATA, group_config
from projectconfig.validation import validate


def config(builders: str = "", group: str = "", top: str = "", ability: str = "") -> str:
    """A valid config (chromium/src, builder chromium/try/linux-rel) plus these fields."""
    return group_config(
        'builders { name: "chromium/try/linux-rel" } ' + builders,
        host="chromium-review.googlesource.com",
        project="chromium/src",
        retry="",
        group_extra=group,
        ability_extra=ability,
        top=top,
    )


def b(fields: str) -> str:
    """A second builder, chromium/try/b, with these fields."""
    return f'builders {{ name: "chromium/try/b" {fields} }}'


def vote(conditions: str, action: str = 'vote_gerrit_labels { votes { name: "L" value: 1 } }'):
    return f"post_actions {{ {conditions} {action} }}"


GROUP_G = 'principals: "group:g"'
ON_DRY_RUN_FAILED = 'conditions { mode: "DRY_RUN" statuses: FAILED }'


def verifier(text: str) -> str:
    """The base config with one more verifier."""
    return config().replace("tryjob {", f"{text} tryjob {{")


def limit(name: str, principals: str = "", max_active: str = "value: 1", field="user_limits"):
    return f'{field} {{ name: "{name}" {principals} run {{ max_active {{ {max_active} }} }} }}'


def errors_of(text: str) -> list[str]:
    return validate(text_format.Parse(text, config_pb2.Config()))


GROUP_PATH = 'config_groups[0] "main"'
BUILDER_1 = f'{GROUP_PATH}: verifiers.tryjob.builders[1] "chromium/try/b"'

# (rule, config, an expected error: path and reason)
BROKEN = [
    ("draining_start_time", config(top='draining_start_time: "2024-01-01"'),
     "draining_start_time: is deprecated"),
    ("cq_status_host", config(top='cq_status_host: "example.com"'),
     "cq_status_host: must be one of"),
    ("max_burst", config(top="submit_options { max_burst: -1 }"),
     "submit_options.max_burst: must not be negative"),
    ("burst_delay", config(top="submit_options { burst_delay { seconds: -5 } }"),
     "submit_options.burst_delay: must not be negative"),
    ("project_scoped_account", config(top="project_scoped_account: YES"),
     "project_scoped_account: is deprecated and must be UNSET"),
    ("no groups", 'cq_status_host: ""', "config_groups: at least one config group is required"),
    ("group name", config().replace('name: "main"', 'name: "9lives"'),
     'config_groups[0] "9lives": name: must start with a letter'),
    ("duplicate group names", config() + config(), 'config_groups: name "main" is used by more'),
    ("two fallbacks", config(group="fallback: YES") + config(group="fallback: YES").replace(
        '"main"', '"other"'), "at most one group may have fallback: YES"),
    ("no gerrit", config().replace('url: "https://chromium-review.googlesource.com"', "")
     .replace('projects { name: "chromium/src" ref_regexp: "refs/heads/.+" }', "")
     .replace("gerrit {\n    \n    \n  }", ""), f"{GROUP_PATH}: gerrit: at least one Gerrit host"),
    ("http url", config().replace("https://chromium", "http://chromium"),
     f"{GROUP_PATH}: gerrit[0].url: must be an https URL"),
    ("url with a path", config().replace(".googlesource.com", ".googlesource.com/a"),
     "must have no path, query or fragment"),
    ("url host", config().replace("chromium-review.googlesource.com", "gerrit.example.com"),
     "host must end with .googlesource.com"),
    ("duplicate url", config(group='gerrit { url: "https://chromium-review.googlesource.com" '
                                   'projects { name: "x" } }'), "is listed more than once"),
    ("no projects", config(group='gerrit { url: "https://x.googlesource.com" }'),
     f"{GROUP_PATH}: gerrit[1].projects: at least one project is required"),
    ("project name a/", config().replace('name: "chromium/src"', 'name: "a/chromium/src"'),
     "must not start with '/' or 'a/'"),
    ("project name .git", config().replace('name: "chromium/src"', 'name: "chromium/src.git"'),
     "nor end with '/' or '.git'"),
    ("duplicate project", config().replace(
        'projects { name: "chromium/src" ref_regexp: "refs/heads/.+" }',
        'projects { name: "p" } projects { name: "p" }'), "project 'p' is listed more than once"),
    ("bad ref regexp", config().replace('"refs/heads/.+"', '"refs/heads/(.+"'),
     'gerrit[0].projects[0] "chromium/src".ref_regexp[0]: invalid regular expression'),
    ("ref in both lists", config().replace(
        'ref_regexp: "refs/heads/.+"',
        'ref_regexp: "refs/heads/.+" ref_regexp_exclude: "refs/heads/.+"'),
     "is in both ref_regexp and ref_regexp_exclude"),
    ("combine_cls without delay", config(group="combine_cls {}"),
     "combine_cls.stabilization_delay: required"),
    ("combine_cls short delay", config(group="combine_cls { stabilization_delay { seconds: 5 } }"),
     "combine_cls.stabilization_delay: must be at least 10s"),
    ("combine_cls with open deps",
     config(group="combine_cls { stabilization_delay { seconds: 30 } }",
            ability="allow_submit_with_open_deps: true"),
     "combine_cls: cannot be combined with verifiers.gerrit_cq_ability."
     "allow_submit_with_open_deps"),
    ("no committer_list", config().replace('committer_list: "committers"', ""),
     "gerrit_cq_ability.committer_list: at least one group is required"),
    ("empty dry-run group", config(ability='dry_run_access_list: ""'),
     "gerrit_cq_ability.dry_run_access_list[0]: must not be empty"),
    ("tree_status without url", verifier("tree_status {}"),
     "tree_status: url or tree_name is required"),
    ("tree_status http", verifier('tree_status { url: "http://status" }'),
     "tree_status.url: must be an https URL"),
    ("cqlinter", verifier("cqlinter {}"), "cqlinter: is internal to CV"),
    ("fake", verifier('fake { name: "x" }'), "fake: is internal to CV"),
    ("cancel_stale_tryjobs", config(builders="cancel_stale_tryjobs: NO"),
     "tryjob.cancel_stale_tryjobs: is deprecated"),
    ("negative retry quota", config(builders="retry_config { single_quota: -1 }"),
     "retry_config.single_quota: must not be negative"),
    ("mode name", config(group='additional_modes { name: "mega" cq_label_value: 1 '
                                'triggering_label: "Mega-CQ" triggering_value: 1 }'),
     'additional_modes[0] "mega".name: must be 1 to 40 capital letters'),
    ("standard mode redefined", config(group='additional_modes { name: "DRY_RUN" cq_label_value: 1 '
                                             'triggering_label: "X" triggering_value: 1 }'),
     "DRY_RUN is a standard mode"),
    ("duplicate mode", config(group=2 * ('additional_modes { name: "MEGA" cq_label_value: 1 '
                                         'triggering_label: "X" triggering_value: 1 }')),
     "mode 'MEGA' is defined more than once"),
    ("cq_label_value", config(group='additional_modes { name: "MEGA" cq_label_value: 3 '
                                    'triggering_label: "X" triggering_value: 1 }'),
     "cq_label_value: must be 1 or 2, not 3"),
    ("triggering_label", config(group='additional_modes { name: "MEGA" cq_label_value: 1 '
                                      'triggering_label: "Commit-Queue" triggering_value: 1 }'),
     "triggering_label: must not be Commit-Queue"),
    ("triggering_value", config(group='additional_modes { name: "MEGA" cq_label_value: 1 '
                                      'triggering_label: "X" }'),
     "triggering_value: must be positive, not 0"),
    ("builder name parts", config(builders='builders { name: "chromium/try" }'),
     "must be project/bucket/builder (3 non-empty parts)"),
    ("builder legacy bucket", config(builders='builders { name: "chromium/luci.chromium.try/b" }'),
     "must not use the legacy luci.project.bucket form"),
    ("builder project", config(builders='builders { name: "Chromium/try/b" }'),
     "'Chromium' is not a valid LUCI project name"),
    ("duplicate builder", config(builders='builders { name: "chromium/try/linux-rel" }'),
     "builder 'chromium/try/linux-rel' is listed more than once"),
    ("experiment range", config(builders=b('experiment_percentage: 120')),
     f"{BUILDER_1}: experiment_percentage: must be within [0, 100], not 120"),
    ("equivalent percentage", config(
        builders=b('equivalent_to { name: "chromium/try/c" percentage: -1 }')),
     f"{BUILDER_1}: equivalent_to.percentage: must be within [0, 100], not -1"),
    ("equivalent is a main builder", config(
        builders=b('equivalent_to { name: "chromium/try/linux-rel" }')),
     f"{BUILDER_1}: equivalent_to.name: 'chromium/try/linux-rel' is also a main builder"),
    ("duplicate equivalent", config(
        builders='builders { name: "chromium/try/b" equivalent_to { name: "chromium/try/e" } }'
                 'builders { name: "chromium/try/c" equivalent_to { name: "chromium/try/e" } }'),
     "equivalent builder 'chromium/try/e' is used more than once"),
    ("experiment with equivalent", config(
        builders='builders { name: "chromium/try/b" experiment_percentage: 5 '
                 'equivalent_to { name: "chromium/try/e" } }'),
     f"{BUILDER_1}: experiment_percentage cannot be combined with equivalent_to"),
    ("includable with experiment", config(
        builders=b('includable_only: true experiment_percentage: 5')),
     "includable_only cannot be combined with experiment_percentage"),
    ("includable with filters", config(
        builders='builders { name: "chromium/try/b" includable_only: true '
                 'location_filters { path_regexp: ".+" } }'),
     "includable_only cannot be combined with location_filters"),
    ("includable with modes", config(
        builders=b('includable_only: true mode_allowlist: "DRY_RUN"')),
     "includable_only cannot be combined with mode_allowlist"),
    ("filter host with scheme", config(
        builders=b('location_filters { gerrit_host_regexp: "https://x" }')),
     f"{BUILDER_1}: location_filters[0].gerrit_host_regexp: is a host name only"),
    ("filter bad path", config(
        builders=b('location_filters { path_regexp: "([i*" }')),
     f"{BUILDER_1}: location_filters[0].path_regexp: invalid regular expression '([i*'"),
    ("filter bad ref", config(
        builders=b('location_filters { gerrit_ref_regexp: "(?<=x)" }')),
     "location_filters[0].gerrit_ref_regexp: invalid regular expression"),
    ("empty owner group", config(builders=b('owner_whitelist_group: ""')),
     f"{BUILDER_1}: owner_whitelist_group[0]: must not be empty"),
    ("unknown mode", config(builders=b('mode_allowlist: "ANALYZER_RUN"')),
     f"{BUILDER_1}: mode_allowlist[0]: 'ANALYZER_RUN' is neither a standard mode"),
    ("npr without access list", config(
        builders=b('mode_allowlist: "NEW_PATCHSET_RUN"')),
     "new_patchset_run_access_list: required because a builder lists NEW_PATCHSET_RUN"),
    ("skip footer key", config(
        builders=b('skip_footers { key: "no-x" }')),
     "skip_footers[0].key: must be a normalized footer key ('No-X')"),
    ("skip footer regexp", config(
        builders=b('skip_footers { key: "No-X" value_regexp: "(" }')),
     "skip_footers[0].value_regexp: invalid regular expression"),
    ("disable_reuse_footers", config(
        builders=b('disable_reuse_footers: "include-ci-only-tests"')),
     "disable_reuse_footers[0]: 'include-ci-only-tests' must be a normalized footer key"),
    ("reuse_window", config(builders=b('reuse_window {}')),
     "reuse_window.max_commit_distance: must be positive"),
    ("user limit principals", config(group=limit("l")),
     'user_limits[0] "l".principals: at least one principal is required'),
    ("user limit principal form", config(group=limit("l", 'principals: "bob"')),
     "principals[0]: must be user:<email> or group:<name>, not 'bob'"),
    ("default limit principals",
     config(group=limit("d", 'principals: "user:a@b.c"', field="user_limit_default")),
     "user_limit_default \"d\".principals: must be empty in the default limit"),
    ("user limit run", config(group='user_limits { name: "l" principals: "group:g" }'),
     'user_limits[0] "l".run: required'),
    ("user limit max_active",
     config(group='user_limits { name: "l" principals: "group:g" run {} }'),
     "run.max_active: required"),
    ("user limit value", config(group=limit("l", GROUP_G, "value: 0")),
     "run.max_active.value: must be positive, not 0"),
    ("user limit unset", config(group=limit("l", GROUP_G, "")),
     "run.max_active: value or unlimited must be set"),
    ("user limit name", config(group=limit("-x", GROUP_G)),
     'user_limits[0] "-x".name: must be letters'),
    ("duplicate user limit",
     config(group=limit("l", GROUP_G) + limit("l", field="user_limit_default")),
     "name 'l' is used more than once"),
    ("post action name", config(group=vote(ON_DRY_RUN_FAILED)), "post_actions[0].name: required"),
    ("post action conditions", config(group=vote('name: "p"')),
     'post_actions[0] "p".conditions: at least one condition is required'),
    ("post action mode",
     config(group=vote('name: "p" conditions { mode: "MEGA" statuses: FAILED }')),
     "conditions[0].mode: 'MEGA' is neither a standard mode"),
    ("post action status",
     config(group=vote('name: "p" conditions { mode: "DRY_RUN" statuses: RUNNING }')),
     "RUNNING is not terminal"),
    ("post action repeated status",
     config(group=vote('name: "p" conditions { mode: "DRY_RUN" statuses: [FAILED, FAILED] }')),
     "conditions[0].statuses: FAILED is repeated"),
    ("post action no action", config(group=vote(f'name: "p" {ON_DRY_RUN_FAILED}', action="")),
     "an action (vote_gerrit_labels) is required"),
    ("post action votes",
     config(group=vote(f'name: "p" {ON_DRY_RUN_FAILED}', action="vote_gerrit_labels {}")),
     "vote_gerrit_labels.votes: at least one vote is required"),
    ("post action label", config(group=vote(
        f'name: "p" {ON_DRY_RUN_FAILED}',
        action='vote_gerrit_labels { votes { name: "L" } votes { name: "L" value: 1 } }')),
     "label 'L' is voted more than once"),
    ("duplicate post action", config(group=2 * vote(f'name: "p" {ON_DRY_RUN_FAILED}')),
     "post_actions: name 'p' is used more than once"),
    ("experiment name", config(group='tryjob_experiments { name: "Not An Experiment" }'),
     "is not a Buildbucket experiment name"),
    ("experiment group", config(
        group='tryjob_experiments { name: "luci.x" condition { owner_group_allowlist: "" } }'),
     'tryjob_experiments[0] "luci.x".condition.owner_group_allowlist[0]: must not be empty'),
    ("duplicate experiment", config(group='tryjob_experiments { name: "luci.x" }' * 2),
     "tryjob_experiments: name 'luci.x' is used more than once"),
]  # fmt: skip


def test_the_base_config_is_valid():
    assert errors_of(config()) == []


@pytest.mark.parametrize(
    ("text", "expected"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_each_rule(text, expected):
    errors = errors_of(text)
    assert any(expected in error for error in errors), errors


def test_location_filters_with_open_deps_are_accepted():
    """The proto comment forbids it, upstream's validator does not, and golang/build does it."""
    text = config(
        builders='builders { name: "chromium/try/b" location_filters { path_regexp: ".+" } }',
        ability="allow_submit_with_open_deps: true",
    )
    assert errors_of(text) == []


def test_gerrit_listener_type_unspecified_is_accepted():
    assert errors_of(config(top="gerrit_listener_type: GERRIT_LISTENER_TYPE_UNSPECIFIED")) == []


def test_every_error_is_listed():
    text = config(
        builders='builders { name: "chromium/try/b" experiment_percentage: 120 }'
        'builders { name: "bad" }',
        top='cq_status_host: "x"',
    )
    with pytest.raises(ConfigRejected) as refused:
        parse_config(text, "broken.cfg")
    assert len(refused.value.errors) == 3
    assert refused.value.message.startswith("broken.cfg: config refused (3 errors):\n  ")


def test_a_text_format_error_names_the_file_line_and_column():
    with pytest.raises(ConfigRejected) as refused:
        parse_config("config_groups {\n  nme: 1\n}\n", "typo.cfg")
    (error,) = refused.value.errors
    assert error.startswith("typo.cfg:2:")
    assert "nme" in error


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.cfg")))
def test_the_real_configs_are_valid(name):
    assert errors_of((DATA / name).read_text()) == []


def test_a_caller_may_accept_more_gerrit_hosts():
    config = text_format.Parse(
        'config_groups { name: "g" gerrit { url: "https://h-review.demo.invalid" '
        'projects { name: "p" } } verifiers { gerrit_cq_ability { committer_list: "c" } } }',
        config_pb2.Config(),
    )
    assert validate(config) == [
        'config_groups[0] "g": gerrit[0].url: host must end with .googlesource.com: '
        "'https://h-review.demo.invalid'"
    ]
    assert validate(config, (".googlesource.com", ".demo.invalid")) == []
