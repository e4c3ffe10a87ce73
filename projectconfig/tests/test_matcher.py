"""Config group choice (cv_config.md §5), upstream's matcher_test.go table."""

import pytest
from google.protobuf import text_format

from cvproto.cv.config import config_pb2
from projectconfig.matcher import (
    DifferentGroupsError,
    Matcher,
    NoGroupError,
    SeveralGroupsError,
)

CONFIG = r"""
config_groups {
  name: "g1"
  gerrit {
    url: "https://1.example.com"
    projects { name: "luci/go" ref_regexp: "refs/heads/.+" ref_regexp_exclude: "refs/heads/e.+ed" }
    projects { name: "default" }
  }
}
config_groups {
  name: "fallback"
  fallback: YES
  gerrit {
    url: "https://1.example.com"
    projects {
      name: "luci/go" ref_regexp: "refs/heads/.+" ref_regexp: "refs/branch-heads/[\\d]{3,4}"
    }
  }
}
config_groups {
  name: "g2"
  gerrit {
    url: "https://1.example.com"
    projects { name: "luci/go" ref_regexp: "refs/heads/g2" }
  }
  gerrit {
    url: "https://2.example.com"
    projects { name: "fo/rk" ref_regexp: "refs/heads/main" }
  }
}
"""
MATCHER = Matcher(text_format.Parse(CONFIG, config_pb2.Config()))
NAMES = ["g1", "fallback", "g2"]


@pytest.mark.parametrize(
    ("host", "project", "ref", "expected"),
    [
        ("random.host", "luci/go", "refs/heads/main", []),
        ("1.example.com", "random/repo", "refs/heads/main", []),
        ("1.example.com", "luci/go", "refs/nei/ther", []),
        ("1.example.com", "luci/go", "refs/heads/main", ["g1"]),
        ("1.example.com", "luci/go", "refs/heads/exclud-not-really", ["g1"]),
        ("1.example.com", "luci/go", "refs/heads/excluded", ["fallback"]),
        ("1.example.com", "luci/go", "refs/branch-heads/12", []),
        ("1.example.com", "luci/go", "refs/branch-heads/12345", []),
        ("1.example.com", "luci/go", "refs/branch-heads/123", ["fallback"]),
        ("1.example.com", "luci/go", "refs/branch-heads/1234", ["fallback"]),
        ("1.example.com", "luci/go", "refs/heads/g2", ["g1", "g2"]),
        ("1.example.com", "luci/go", "refs/heads/g2-not-any-more", ["g1"]),
        ("1.example.com", "default", "refs/heads/master", ["g1"]),
        ("1.example.com", "default", "refs/heads/main", []),
        ("1.example.com", "default", "refs/heads/stuff", []),
        ("2.example.com", "fo/rk", "refs/heads/main", ["g2"]),
    ],
)
def test_upstream_matcher_table(host, project, ref, expected):
    assert [NAMES[i] for i in MATCHER.match(host, project, ref)] == expected


def test_no_group_and_several_groups_are_errors_naming_the_cl():
    with pytest.raises(NoGroupError, match="random/repo on ref refs/heads/main"):
        MATCHER.group_for("1.example.com", "random/repo", "refs/heads/main")
    with pytest.raises(SeveralGroupsError, match=r'"g1", "g2" \(target ref refs/heads/g2\)'):
        MATCHER.group_for("1.example.com", "luci/go", "refs/heads/g2")


def test_a_run_needs_one_group_for_all_its_cls():
    cls = [
        ("1.example.com", "luci/go", "refs/heads/main"),
        ("2.example.com", "fo/rk", "refs/heads/main"),
    ]
    with pytest.raises(DifferentGroupsError, match="different config groups"):
        MATCHER.group_for_run(cls)
    assert MATCHER.group_for_run([cls[0], ("1.example.com", "default", "refs/heads/master")]) == 0


def test_a_run_without_cls_has_no_group():
    with pytest.raises(NoGroupError, match="the run has no CLs"):
        MATCHER.group_for_run([])


def test_each_pattern_keeps_its_own_alternation():
    config = text_format.Parse(
        'config_groups { name: "g" gerrit { url: "https://h.googlesource.com" '
        'projects { name: "p" ref_regexp: "refs/heads/a|refs/heads/b" ref_regexp: "x" } } }',
        config_pb2.Config(),
    )
    matcher = Matcher(config)
    assert matcher.match("h.googlesource.com", "p", "refs/heads/b") == [0]
    assert matcher.match("h.googlesource.com", "p", "refs/heads/bx") == []
