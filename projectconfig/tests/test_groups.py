"""LUCI group memberships: the file format, imports by source, the command, the lookup."""

import io

import pytest
from django.core.management import CommandError, call_command

from projectconfig.groups import GroupsRejected, groups_of, import_groups, parse_groups
from projectconfig.models import GroupMembership

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "g.json: not JSON"),
        ("[]", "g.json: must be a JSON object mapping each group to its emails"),
        ('{"": []}', "g.json: group name '' must hold 1 to 255 characters"),
        ('{"g": "a@x"}', "g.json: g: must be a list of emails"),
        ('{"g": ["a@x", "nobody"]}', "g.json: g[1]: 'nobody' is not an email"),
        ('{"g": [7]}', "g.json: g[0]: 7 is not an email"),
    ],
)
def test_a_bad_file_is_refused_naming_the_entry(text, problem):
    with pytest.raises(GroupsRejected) as e:
        parse_groups(text, "g.json")
    assert e.value.message.startswith(problem)


def test_an_import_replaces_only_what_the_same_source_stored():
    import_groups({"googlers": ["a@x.com", "b@x.com"], "admins": ["a@x.com"]}, "one.json")
    import_groups({"googlers": ["c@x.com"]}, "two.json")
    assert groups_of(["a@x.com", "c@x.com", "z@x.com"]) == {
        "a@x.com": frozenset({"googlers", "admins"}),
        "c@x.com": frozenset({"googlers"}),
    }
    result = import_groups({"googlers": ["b@x.com"]}, "one.json")
    assert (result.groups, result.memberships, result.replaced) == (1, 1, 3)
    assert sorted(GroupMembership.objects.values_list("email", "source")) == [
        ("b@x.com", "one.json"),
        ("c@x.com", "two.json"),
    ]


def test_the_import_groups_command(tmp_path):
    path = tmp_path / "groups.json"
    path.write_text('{"googlers": ["a@x.com", "a@x.com"]}')
    out = io.StringIO()
    call_command("import_groups", str(path), stdout=out)
    assert out.getvalue().startswith("1 memberships in 1 groups stored")
    assert groups_of(["a@x.com"]) == {"a@x.com": frozenset({"googlers"})}
    path.write_text('{"googlers": {}}')
    with pytest.raises(CommandError, match="googlers: must be a list of emails"):
        call_command("import_groups", str(path))
    with pytest.raises(CommandError, match="cannot read the groups"):
        call_command("import_groups", str(tmp_path / "missing.json"))
