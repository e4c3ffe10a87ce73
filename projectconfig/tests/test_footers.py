"""Footers, legacy metadata and run options (cv_config.md §7), and directives (§8.3)."""

import pytest

from projectconfig.directives import InvalidDirectiveError, parse_directive
from projectconfig.footers import Metadata, RunOptions, normalize_footer_key


def run_options(messages: list[str]) -> RunOptions:
    return RunOptions.merge(RunOptions.of(Metadata.of(message)) for message in messages)


def test_footer_keys_are_normalized():
    assert normalize_footer_key("cq-include-TRYBOTS") == "Cq-Include-Trybots"
    assert normalize_footer_key("no-try") == "No-Try"


def test_footers_come_from_the_last_paragraph_only():
    message = "Title\n\nNo-Try: true\n\nBody\n\nBug: 1\nno-presubmit: True\nnot a footer\n"
    metadata = Metadata.of(message)
    assert metadata.footers == (("No-Presubmit", "True"), ("Bug", "1"))


def test_a_single_paragraph_has_no_footers():
    assert Metadata.of("No-Try: true\n").footers == ()


def test_url_lines_are_not_footers():
    assert Metadata.of("T\n\nhttps://example.com/x\nBug: 2\n").footers == (("Bug", "2"),)


def test_legacy_lines_come_from_every_line_lowest_first():
    metadata = Metadata.of("Title\nNOTRY=true\n\nBody\nCQ_INCLUDE_TRYBOTS=a/b:c \n")
    assert metadata.legacy == (("CQ_INCLUDE_TRYBOTS", "a/b:c"), ("NOTRY", "true"))


def test_repeated_footers_lower_line_first():
    message = "T\n\nCq-Include-Trybots: a/b:one\nCq-Include-Trybots: a/b:two\n"
    assert RunOptions.of(Metadata.of(message)).included_tryjobs == ("a/b:two", "a/b:one")


@pytest.mark.parametrize(
    ("footer", "expected"),
    [("No-Try: true", True), ("No-Try: TRUE", True), ("No-Try: yes", False), ("No-Try: 1", False)],
)
def test_boolean_options_need_the_word_true(footer, expected):
    assert run_options([f"T\n\n{footer}\n"]).skip_tryjobs is expected


def test_every_option_from_its_footer_or_legacy_key():
    message = (
        "T\nNO_EQUIVALENT_BUILDERS=true\nNOTREECHECKS=true\nNOPRESUBMIT=true\n\n"
        "Cq-Do-Not-Cancel-Tryjobs: true\nNo-Try: true\nCq-Cl-Tag: a:b\n"
        "Override-Tryjobs-For-Automation: p/b:x\n"
    )
    assert run_options([message]) == RunOptions(
        skip_equivalent_builders=True,
        avoid_cancelling_tryjobs=True,
        skip_tree_checks=True,
        skip_tryjobs=True,
        skip_presubmit=True,
        overridden_tryjobs=("p/b:x",),
        custom_tryjob_tags=("a:b",),
    )


def test_options_merge_across_cls():
    merged = run_options(
        ["T\n\nNo-Try: true\nCq-Include-Trybots: a/b:x\n", "T\n\nCq-Include-Trybots: a/b:y\n"]
    )
    assert merged.skip_tryjobs
    assert merged.included_tryjobs == ("a/b:x", "a/b:y")


def test_x07_directive_grammar():
    assert parse_directive(" a/try: x , y ;luci.b.ci.z:w") == {"a/try/x", "a/try/y", "b/ci.z/w"}


@pytest.mark.parametrize(
    "value",
    ["test-proj/test builder1", "a/b:x:y", "A/b:x", "a/b:", "a/b:x;", "luci.a:x", "a/b:x!"],
)
def test_directives_outside_the_grammar(value):
    with pytest.raises(InvalidDirectiveError):
        parse_directive(value)


def test_builder_names_may_hold_spaces_and_parentheses():
    assert parse_directive("p/b:linux (dbg)") == {"p/b/linux (dbg)"}
