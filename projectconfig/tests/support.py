"""Running `manage.py compute_requirement` on a config text and a run dict, as a user would."""

from __future__ import annotations

import io
import json
import pathlib
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.management import call_command

# Real commit-queue.cfg files (see data/README.md).
DATA = pathlib.Path(__file__).resolve().parent / "data"

# The §9 fixture (requirement_test.go's makeInput): CL#1, its trigger, and who is in which group.
CL_ID = 65566771212885957
TRIGGER = 1645080386
HOST = "example-review.googlesource.com"
USERA = "usera@example.com"
GROUPS = {
    "usera@example.com": ["group-one"],
    "userb@example.com": ["group-one"],
    "userd@example.com": ["group-two"],
}


def rfc3339(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_message(*footers: str) -> str:
    body = "Title\n\nBody\n"
    return body + ("\n" + "\n".join(footers) + "\n" if footers else "")


def change_list(offset: int = 0, owner: str = USERA, files=("readme.md",), **extra) -> dict:
    return {
        "id": CL_ID + offset,
        "host": HOST,
        "project": "repo",
        "ref": "refs/heads/main",
        "change": 123456789 + offset,
        "patchset": 1,
        "owner": owner,
        "trigger_time": rfc3339(TRIGGER + offset),
        "commit_message": commit_message(),
        "files": list(files),
        **extra,
    }


def run_dict(*cls: dict, mode: str = "DRY_RUN", footers=(), **extra) -> dict:
    cls = list(cls) or [change_list()]
    if footers:
        cls[0] = {**cls[0], "commit_message": commit_message(*footers)}
    return {"luci_project": "test-proj", "mode": mode, "cls": cls, "groups": GROUPS, **extra}


def group_config(
    builders: str = "",
    *,
    name: str = "main",
    host: str = HOST,
    project: str = "repo",
    ref: str = "refs/heads/.+",
    retry: str = "retry_config { single_quota: 2 global_quota: 8 }",
    group_extra: str = "",
    ability_extra: str = "",
    top: str = "",
) -> str:
    """A config with one group watching host/project (by default the §9 fixture's, with its
    retry config) and these builders; ``top`` holds top-level fields."""
    return f"""
{top}
config_groups {{
  name: "{name}"
  gerrit {{
    url: "https://{host}"
    projects {{ name: "{project}" ref_regexp: "{ref}" }}
  }}
  verifiers {{
    gerrit_cq_ability {{ committer_list: "committers" {ability_extra} }}
    tryjob {{
      {retry}
      {builders}
    }}
  }}
  {group_extra}
}}
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    requirement: dict | None
    stderr: str

    def definitions(self) -> list[str]:
        """Each Definition as ``builder[=equivalent] [crit] [opt] [stale-skip]``."""
        assert self.code == 0, self.stderr
        summaries = []
        for definition in self.requirement.get("definitions", []):
            text = _name(definition)
            if "equivalentTo" in definition:
                text += "=" + _name(definition["equivalentTo"])
            for flag, word in (
                ("critical", "crit"),
                ("optional", "opt"),
                ("skipStaleCheck", "stale-skip"),
            ):
                if definition.get(flag):
                    text += " " + word
            summaries.append(text)
        return summaries


def _name(definition: dict) -> str:
    builder = definition["buildbucket"]["builder"]
    return f"{builder['project']}/{builder['bucket']}/{builder['builder']}"


def compute_requirement(
    tmp_path: pathlib.Path, config: str | None, run: dict, **options
) -> Outcome:
    """Runs the command; ``config`` is a config text (None: pass ``project=`` in options)."""
    run_path = tmp_path / "run.json"
    run_path.write_text(json.dumps(run))
    if config is not None:
        config_path = tmp_path / "commit-queue.cfg"
        config_path.write_text(config)
        options["config"] = str(config_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command(
            "compute_requirement", run=str(run_path), stdout=stdout, stderr=stderr, **options
        )
        code = 0
    except SystemExit as e:
        code = e.code
    return Outcome(code, json.loads(stdout.getvalue()) if code == 0 else None, stderr.getvalue())
