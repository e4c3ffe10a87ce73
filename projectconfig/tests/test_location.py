"""location_filters (cv_config.md §8.7), upstream's location_test.go cases L01-L11."""

import pytest
from google.protobuf import text_format

from cvproto.cv.config import config_pb2
from projectconfig.location import compile_location_filters, location_included
from projectconfig.regexps import RegexpError
from projectconfig.requirement import ChangeList

X = "x-review.googlesource.com"


def filters(text: str):
    builder = text_format.Parse(text, config_pb2.Verifiers.Tryjob.Builder())
    return compile_location_filters(builder.location_filters)


INCLUDE_EXCLUDE = filters(
    f'location_filters {{ gerrit_host_regexp: "{X}" gerrit_project_regexp: "gp" '
    'path_regexp: "included/.*" }'
    f'location_filters {{ gerrit_host_regexp: "{X}" gerrit_project_regexp: "gp" '
    'path_regexp: "included/excluded/.*" exclude: true }'
)


def cl(files=(), host=X, project="gp", parents=1) -> ChangeList:
    return ChangeList(
        id=1, host=host, project=project, ref="refs/heads/main", owner="o",
        files=tuple(files), parent_count=parents,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "included"),
    [
        (cl(["included/readme.md"]), True),
        (cl(["included/excluded/foo"]), False),
        (cl(["included/foo"], host="other-review.googlesource.com"), False),
        (cl(["included/foo"], project="xyz"), False),
        (cl([], parents=2), True),
        (cl([], parents=1), False),
    ],
    ids=["L01", "L02", "L03", "L04", "L05", "L06"],
)
def test_include_then_exclude(change, included):
    assert location_included(INCLUDE_EXCLUDE, [change]) is included


def test_l07_any_cl_may_include():
    cls = [
        cl(["included/readme.md", "included/excluded/foo.txt"]),
        cl(["readme.md"], project="foo"),
    ]
    assert location_included(INCLUDE_EXCLUDE, cls)


def test_l08_exclude_first_includes_what_nothing_matches():
    exclude_first = filters(
        f'location_filters {{ gerrit_host_regexp: "{X}" gerrit_project_regexp: "gp" '
        'path_regexp: "excluded/.*" exclude: true }'
    )
    assert not location_included(exclude_first, [cl(["excluded/readme.md"])])
    assert location_included(exclude_first, [cl(["somewhere/else"])])


def test_l09_path_only_filters_match_any_repo():
    path_only = filters('location_filters { path_regexp: "included/.*" }')
    assert location_included(path_only, [cl(["included/readme.md"], host="a", project="b")])
    assert not location_included(path_only, [cl(["somewhere/else"])])


def test_l10_the_last_matching_filter_decides():
    layered = filters(
        'location_filters { path_regexp: "included/.*" }'
        'location_filters { path_regexp: "included/excluded/.*" exclude: true }'
        'location_filters { path_regexp: "included/excluded/included.txt" }'
    )
    assert location_included(layered, [cl(["included/readme.md"])])
    assert not location_included(layered, [cl(["included/excluded/foo"])])
    assert location_included(layered, [cl(["included/excluded/included.txt"])])


def test_l11_an_invalid_pattern_is_an_error():
    with pytest.raises(RegexpError, match=r"\(\[i\*"):
        filters('location_filters { path_regexp: "([i*" }')


def test_ref_filters_match_the_target_ref():
    ref_only = filters('location_filters { gerrit_ref_regexp: "refs/heads/main" }')
    assert location_included(ref_only, [cl(["a"])])
    branch = ChangeList(id=1, host=X, project="gp", ref="refs/heads/b", owner="o", files=("a",))
    assert not location_included(ref_only, [branch])


def test_re2_dollar_does_not_match_before_a_final_newline():
    assert not location_included(filters('location_filters { path_regexp: "a" }'), [cl(["a\n"])])
